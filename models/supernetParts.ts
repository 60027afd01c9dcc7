/**
 * The supernet's pure helpers: block-slot weight allocation, path keys, the loss, the linear ops and the
 * slices of shared kernels a path uses (models/supernet.ts).
 */
import { type Candidate } from '../search/space/codec';
import { validateArchitecture, type OperatorName } from '../search/architecture';
import type { FoldedLayer } from '../hardware/folded';
import { type PathLayer } from './pathTopology';
import { activationStep, weightLevels } from './quantization';

import * as tf from '@tensorflow/tfjs-core';
import { buildLayout } from '../search/space/layout';
import type { SearchSpace } from '../search/space/schema';

/** A chosen path: a decoded Candidate, or just its network and quantization halves. */

/** A chosen path: a decoded Candidate, or just its network and quantization halves. */
export type PathSpec = Pick<Candidate, 'architecture' | 'quantization'>;

export type LayerKind = 'conv' | 'depthwise' | 'dense';

/** Weight allocation of one block slot: the widest input and output it can see, its operator choices. */
export interface SlotAllocation {
  slot: number;
  stage: number;
  indexInStage: number;
  stride: number;
  operators: OperatorName[];
  maxInChannels: number;
  maxOutChannels: number;
}

/** The stable key of a path: equal paths (whatever object holds them) share it. */
export function pathKey(path: PathSpec): string {
  return JSON.stringify([path.architecture, path.quantization]);
}

/** What a recalibration is valid for: the path, and whether its activations were quantized. */
export function calibrationKey(path: PathSpec, quantize: boolean): string {
  return `${quantize ? 'quantized' : 'float'}:${pathKey(path)}`;
}

/** Cross-entropy of logits against integer labels (mean over the batch). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
  return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
}

export function linear(kind: LayerKind, input: tf.Tensor, kernel: tf.Tensor, stride: number): tf.Tensor {
  switch (kind) {
    case 'conv':
      return tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, stride, 'same');
    case 'depthwise':
      return tf.depthwiseConv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, stride, 'same');
    case 'dense':
      return tf.matMul(input as tf.Tensor2D, kernel as tf.Tensor2D);
  }
}

/** The leading part of a weight-shared kernel that a layer of this shape uses. */
export function kernelSliceSize(layer: PathLayer): number[] {
  const { kind, kernelH, kernelW, inChannels, outChannels } = layer.shape;
  switch (kind) {
    case 'conv':
      return [kernelH, kernelW, inChannels, outChannels];
    case 'depthwise':
      return [kernelH, kernelW, inChannels, 1];
    case 'dense':
      return [inChannels, outChannels];
  }
}

/** Overwrites the leading entries of a vector variable (the sliced part a path uses). */
export function writeLeading(variable: tf.Variable, leading: tf.Tensor1D): void {
  const total = variable.shape[0]!;
  const used = leading.shape[0];
  variable.assign(
    used === total ? leading : tf.concat([leading, tf.slice(variable, [used], [total - used])]),
  );
}

/**
 * The widest input and output every block slot can see. A stage's first block reads the previous stage's
 * output (or the stem's); later blocks read an output of their own stage (a skip keeps the width). Every
 * block outputs one of its stage's widths.
 */
export function allocateSlots(space: SearchSpace): SlotAllocation[] {
  const layout = buildLayout(space);
  const { network } = space;
  return layout.blockSlots.map((slot) => {
    const stageWidest = Math.max(...network.stages[slot.stage]!.widths);
    const previousWidest =
      slot.indexInStage > 0
        ? stageWidest
        : slot.stage === 0
          ? network.stem.channels
          : Math.max(...network.stages[slot.stage - 1]!.widths);
    return {
      slot: slot.slot,
      stage: slot.stage,
      indexInStage: slot.indexInStage,
      stride: slot.stride,
      operators: [...slot.operators],
      maxInChannels: previousWidest,
      maxOutChannels: stageWidest,
    };
  });
}

export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVariance: tf.Variable;
}

export interface WeightLayerParams {
  key: string;
  kind: LayerKind;
  kernel: tf.Variable;
  batchNorm: BatchNormParams | null;
  bias: tf.Variable | null;
  /** Moving average of the max of the layer's input (|input| for signed inputs); 0 = never observed. */
  inputRange: tf.Variable;
  /**
   * With SupernetOptions.lowBitRangeClipping: the range of the layer's input on grids of at most
   * LOW_BIT_ACTIVATION_BITS bits, a moving average of each batch's least-squared-error clip; null without.
   */
  lowBitInputRange: tf.Variable | null;
}

/** Why a path does not fit a supernet of `space` with these slots (empty when it fits). */
export function pathFitProblems(
  path: PathSpec,
  space: SearchSpace,
  slots: readonly SlotAllocation[],
): string[] {
  const problems = validateArchitecture(path.architecture);
  const { architecture } = path;
  const { network } = space;
  if (architecture.inputShape.join('x') !== network.inputShape.join('x')) {
    problems.push(`inputShape [${architecture.inputShape}] ≠ the supernet's [${network.inputShape}]`);
  }
  const stem = architecture.stem;
  if (
    stem.kernel !== network.stem.kernel ||
    stem.stride !== network.stem.stride ||
    stem.outChannels !== network.stem.channels
  ) {
    problems.push(`stem ${JSON.stringify(stem)} differs from the supernet's stem`);
  }
  if ((architecture.head.convChannels ?? undefined) !== network.head.channels) {
    problems.push(
      `head conv ${architecture.head.convChannels} ≠ the supernet's ${network.head.channels ?? null}`,
    );
  }
  if (architecture.head.numClasses !== network.numClasses) {
    problems.push(`numClasses ${architecture.head.numClasses} ≠ the supernet's ${network.numClasses}`);
  }
  if (architecture.blocks.length !== slots.length) {
    problems.push(`${architecture.blocks.length} blocks, the supernet has ${slots.length} slots`);
  } else {
    architecture.blocks.forEach((block, i) => {
      const slot = slots[i]!;
      const where = `blocks[${i}] (${block.operator})`;
      if (!slot.operators.includes(block.operator)) {
        problems.push(`${where}: slot ${i} offers only ${slot.operators.join(', ')}`);
        return;
      }
      if (block.family === 'skip') return;
      if (block.inChannels > slot.maxInChannels)
        problems.push(`${where}: ${block.inChannels} input channels > the slot's ${slot.maxInChannels}`);
      if (block.outChannels > slot.maxOutChannels)
        problems.push(`${where}: ${block.outChannels} output channels > the slot's ${slot.maxOutChannels}`);
      if (block.stride !== slot.stride)
        problems.push(`${where}: stride ${block.stride} ≠ the slot's ${slot.stride}`);
    });
  }
  if (path.quantization.blocks.length !== architecture.blocks.length) {
    problems.push(
      `quantization has ${path.quantization.blocks.length} block entries for ${architecture.blocks.length} blocks`,
    );
  }
  return problems;
}

/**
 * One weight layer as the chip receives it (see Supernet.extractSubnet): BatchNorm folded in with the running
 * statistics, the kernel on its per-output-channel weight grid, the input step from the activation range.
 */
export function foldWeightLayer(
  params: WeightLayerParams,
  layer: PathLayer,
  batchNormEpsilon: number,
  inputRange: tf.Variable = params.inputRange,
): FoldedLayer {
  const { kind, outChannels } = layer.shape;
  const sliceSize = kernelSliceSize(layer);
  const [kernel, weightScale, bias] = tf.tidy(() => {
    const raw = tf.slice(params.kernel, new Array<number>(params.kernel.rank).fill(0), sliceSize);
    const { levels, step } = weightLevels(raw, kind, layer.bits.weightBits);
    if (!params.batchNorm) {
      return [
        tf.mul(levels, step),
        tf.reshape(step, [outChannels]),
        tf.slice(params.bias!, [0], [outChannels]),
      ];
    }
    const bn = params.batchNorm;
    const leading = (v: tf.Variable) => tf.slice(v, [0], [outChannels]);
    const gain = tf.div(leading(bn.gamma), tf.sqrt(tf.add(leading(bn.runningVariance), batchNormEpsilon)));
    const gainShaped = tf.reshape(gain, step.shape);
    const scale = tf.mul(step, tf.abs(gainShaped));
    const signedLevels = tf.mul(levels, tf.sign(gainShaped));
    return [
      tf.mul(signedLevels, scale),
      tf.reshape(scale, [outChannels]),
      tf.sub(leading(bn.beta), tf.mul(leading(bn.runningMean), gain)),
    ];
  });
  const range = inputRange.dataSync()[0]!;
  const folded: FoldedLayer = {
    shape: { ...layer.shape },
    kernel: kernel.dataSync() as Float32Array,
    kernelShape: sliceSize,
    weightScale: weightScale.dataSync() as Float32Array,
    bias: bias.dataSync() as Float32Array,
    inputScale: activationStep(range, layer.bits.activationBits, layer.inputSigned),
    inputSigned: layer.inputSigned,
  };
  tf.dispose([kernel, weightScale, bias]);
  return folded;
}
