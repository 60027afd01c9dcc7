/**
 * The topology of one single path (a chosen network), written once and shared by the supernet's forward
 * pass, the folded network's inference (models/inference.ts) and the TensorFlow.js export
 * (models/tfjsExport.ts), so that all apply the same activations, residuals and pooling in the same order:
 *
 *   stem conv → ReLU → blocks → [head 1×1 conv → ReLU] → global average pool → classifier
 *
 * Blocks (search/architecture.ts): conv = k×k conv → ReLU; dwsep = depthwise → ReLU → pointwise → ReLU;
 * mbconv = [1×1 expand → ReLU] → depthwise → ReLU → linear 1×1 project [+ identity shortcut]; skip =
 * identity. ReLU rather than MobileNetV2's ReLU6: the activation quantizer clips at its own range anyway.
 *
 * Every weight layer is described by a PathLayer named as in layerShapes(): what it computes, its bits and
 * whether its input can be negative (which decides a signed or an unsigned activation grid). An input is
 * non-negative when it is an image (pixels in [0, 1]) or a ReLU output, and may be negative after a linear
 * projection or a residual add; pooling and skip blocks keep the sign property of their input.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  layerShapes,
  type ArchitectureSpec,
  type BlockSpec,
  type LayerBits,
  type OperatorName,
  type QuantizationSpec,
} from '../search/architecture';
import type { LayerShape } from '../hardware/types';

/** What a weight layer is within its block; selects its weights in the supernet. */
export type LayerRole =
  'stem' | 'conv' | 'depthwise' | 'pointwise' | 'expand' | 'project' | 'head.conv' | 'head.classifier';

export interface PathLayer {
  /** As in layerShapes(): 'stem', 'stage0.block1.conv', 'head.classifier', … */
  name: string;
  role: LayerRole;
  /** Block slot the layer belongs to; null for stem and head. */
  slot: number | null;
  operator: OperatorName | null;
  shape: LayerShape;
  bits: LayerBits;
  /** Whether the layer's input can be negative (signed activation grid). */
  inputSigned: boolean;
  /** ReLU after the layer (false for the linear project and the classifier). */
  relu: boolean;
}

/**
 * Every weight layer of a path in execution order (the order and names of layerShapes()), with the sign
 * of its input and its activation.
 */
export function describePath(architecture: ArchitectureSpec, quantization: QuantizationSpec): PathLayer[] {
  const shapes = layerShapes(architecture, quantization);
  let next = 0;
  const take = (expectedName: string): LayerShape => {
    const shape = shapes[next++];
    if (!shape || shape.name !== expectedName) {
      throw new Error(`describePath: expected layer ${expectedName}, layerShapes lists ${shape?.name}`);
    }
    return shape;
  };
  const layers: PathLayer[] = [];
  const bitsOf = (shape: LayerShape): LayerBits => ({
    weightBits: shape.weightBits,
    activationBits: shape.activationBits,
  });
  // Images are non-negative.
  let signed = false;
  const add = (
    name: string,
    role: LayerRole,
    slot: number | null,
    operator: OperatorName | null,
    relu: boolean,
  ): void => {
    const shape = take(name);
    layers.push({ name, role, slot, operator, shape, bits: bitsOf(shape), inputSigned: signed, relu });
    signed = !relu;
  };

  add('stem', 'stem', null, null, true);
  for (const block of architecture.blocks) {
    const prefix = `stage${block.stage}.block${block.indexInStage}`;
    switch (block.family) {
      case 'skip':
        break;
      case 'conv':
        add(`${prefix}.conv`, 'conv', block.slot, block.operator, true);
        break;
      case 'dwsep':
        add(`${prefix}.depthwise`, 'depthwise', block.slot, block.operator, true);
        add(`${prefix}.pointwise`, 'pointwise', block.slot, block.operator, true);
        break;
      case 'mbconv':
        if (block.expansion > 1) add(`${prefix}.expand`, 'expand', block.slot, block.operator, true);
        add(`${prefix}.depthwise`, 'depthwise', block.slot, block.operator, true);
        // The linear project's output, with or without the residual sum, can be negative.
        add(`${prefix}.project`, 'project', block.slot, block.operator, false);
        break;
    }
  }
  if (architecture.head.convChannels !== null) add('head.conv', 'head.conv', null, null, true);
  add('head.classifier', 'head.classifier', null, null, false);
  if (next !== shapes.length) {
    throw new Error(`describePath: layerShapes lists ${shapes.length} layers, the path has ${next}`);
  }
  return layers;
}

/**
 * Computes one weight layer on an input: the pre-activation output (after BatchNorm or bias). The
 * executor applies the ReLU. `input` is the raw (unquantized) input; the runner quantizes it.
 */
export type LayerRunner = (layer: PathLayer, input: tf.Tensor) => tf.Tensor;

/**
 * The operations a path's topology is made of, over any value type: real tensors (executePath) or the
 * symbolic tensors of a tfjs-layers graph (models/tfjsExport.ts). Walking one topology for both is what
 * keeps an exported model's structure identical to the network inference runs.
 */
export interface PathOperations<T> {
  /** One weight layer's pre-activation output (after BatchNorm or bias); the walker applies the ReLU. */
  layer(layer: PathLayer, input: T): T;
  /** ReLU after `after` (a weight layer whose `relu` is true). */
  relu(input: T, after: PathLayer): T;
  /** The identity shortcut of a residual block: projected + shortcut. */
  residualAdd(projected: T, shortcut: T, block: BlockSpec): T;
  /** Global average pooling over height and width: [n, h, w, c] → [n, c]. */
  globalAveragePool(input: T): T;
}

/** Walks the path's topology from `input` (the images) to the logits with `operations`. */
export function walkPath<T>(
  architecture: ArchitectureSpec,
  layers: readonly PathLayer[],
  input: T,
  operations: PathOperations<T>,
): T {
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const apply = (name: string, x: T): T => {
    const layer = byName.get(name);
    if (!layer) throw new Error(`walkPath: no layer named ${name} in the path description`);
    const output = operations.layer(layer, x);
    return layer.relu ? operations.relu(output, layer) : output;
  };

  let h: T = apply('stem', input);
  for (const block of architecture.blocks) {
    const prefix = `stage${block.stage}.block${block.indexInStage}`;
    switch (block.family) {
      case 'skip':
        break;
      case 'conv': {
        const convolved = apply(`${prefix}.conv`, h);
        // A baseline's ResNet-style shortcut (search/baseline.ts): ReLU(BN(conv(x))) + x, both ≥ 0.
        h = block.residual ? operations.residualAdd(convolved, h, block) : convolved;
        break;
      }
      case 'dwsep':
        h = apply(`${prefix}.pointwise`, apply(`${prefix}.depthwise`, h));
        break;
      case 'mbconv': {
        const blockInput = h;
        let hidden = block.expansion > 1 ? apply(`${prefix}.expand`, h) : h;
        hidden = apply(`${prefix}.depthwise`, hidden);
        const projected = apply(`${prefix}.project`, hidden);
        // The shortcut adds the block's unquantized input, as a digital adder beside the chip would.
        h = block.residual ? operations.residualAdd(projected, blockInput, block) : projected;
        break;
      }
    }
  }
  if (architecture.head.convChannels !== null) h = apply('head.conv', h);
  return apply('head.classifier', operations.globalAveragePool(h));
}

/**
 * Runs the path's topology on a batch of NHWC images, calling `runLayer` for every weight layer, and
 * returns the logits [n, numClasses]. The caller owns tidy scopes.
 */
export function executePath(
  architecture: ArchitectureSpec,
  layers: readonly PathLayer[],
  images: tf.Tensor4D,
  runLayer: LayerRunner,
): tf.Tensor2D {
  return walkPath<tf.Tensor>(architecture, layers, images, {
    layer: runLayer,
    relu: (input) => tf.relu(input),
    residualAdd: (projected, shortcut) => tf.add(projected, shortcut),
    globalAveragePool: (input) => tf.mean(input, [1, 2]),
  }) as tf.Tensor2D;
}
