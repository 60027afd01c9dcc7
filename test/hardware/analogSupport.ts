/**
 * Helpers for the analog-chip and evaluator tests: random folded layers on their grids, the digital
 * reference op, and a tiny sequential network (conv → depthwise → dense) with its own forward pass, so the
 * chip can be tested without the supernet.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../common/rng';
import type { FoldedLayer, LinearOp } from '../../hardware/folded';
import type { FoldedNetwork } from '../../models/folded';
import type { HardwareConfig, LayerShape } from '../../hardware/types';

/** A small RRAM test chip (16 rows, 6-bit SAR ADC, 2 bits per cell) with the given settings changed. */
export function testChip(overrides: Partial<HardwareConfig> = {}): HardwareConfig {
  return {
    device: 'rram',
    rows: 16,
    cols: 64,
    adcBits: 6,
    adcType: 'sar',
    dacBits: 1,
    bitsPerCell: 2,
    colsPerAdc: 8,
    techNode: 22,
    ...overrides,
  };
}

export function randomLevels(rng: Rng, count: number, bits: number, sparsity = 0.2): Int32Array {
  const top = 2 ** (bits - 1) - 1;
  const levels = new Int32Array(count);
  for (let i = 0; i < count; i++) levels[i] = rng.next() < sparsity ? 0 : rng.int(2 * top + 1) - top;
  return levels;
}

/** A folded layer with random levels on its grid; kernel = level · weightScale[out]. */
export function randomFoldedLayer(
  rng: Rng,
  shape: Omit<LayerShape, 'outH' | 'outW'> & { outH?: number; outW?: number },
  inputSigned = false,
  inputScale = 0.05,
): FoldedLayer {
  const full: LayerShape = { outH: 1, outW: 1, ...shape };
  const kernelShape =
    full.kind === 'dense'
      ? [full.inChannels, full.outChannels]
      : full.kind === 'depthwise'
        ? [full.kernelH, full.kernelW, full.outChannels, 1]
        : [full.kernelH, full.kernelW, full.inChannels, full.outChannels];
  const size = kernelShape.reduce((a, b) => a * b, 1);
  const levels = randomLevels(rng, size, full.weightBits);
  const weightScale = new Float32Array(full.outChannels);
  for (let o = 0; o < full.outChannels; o++) weightScale[o] = 0.01 + 0.02 * rng.next();
  const kernel = new Float32Array(size);
  // The output channel is the fastest-moving axis of every layout ([…, cout] or [kh, kw, c, 1]).
  for (let i = 0; i < size; i++) kernel[i] = levels[i]! * weightScale[i % full.outChannels]!;
  return {
    shape: full,
    kernel,
    kernelShape,
    weightScale,
    bias: new Float32Array(full.outChannels),
    inputScale,
    inputSigned,
  };
}

/** Random input on the layer's activation grid. */
export function randomInput(rng: Rng, layer: FoldedLayer, shape: number[], density = 0.6): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const bits = layer.shape.activationBits;
  const top = layer.inputSigned ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    if (rng.next() > density) continue;
    const level = layer.inputSigned ? rng.int(2 * top + 1) - top : rng.int(top + 1);
    values[i] = level * layer.inputScale;
  }
  return tf.tensor(values, shape);
}

/** The exact digital op on the folded kernel (what models/inference.ts's digitalLinearOp computes). */
export const digitalOp: LinearOp = (layer, input) =>
  tf.tidy(() => {
    const kernel = tf.tensor(layer.kernel, layer.kernelShape, 'float32');
    switch (layer.shape.kind) {
      case 'conv':
        return tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, layer.shape.stride, 'same');
      case 'depthwise':
        return tf.depthwiseConv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, layer.shape.stride, 'same');
      case 'dense':
        return tf.matMul(input as tf.Tensor2D, kernel as tf.Tensor2D);
    }
  });

export function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): { diff: number; scale: number } {
  const x = a.dataSync();
  const y = b.dataSync();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return { diff, scale };
}

export type { FoldedNetwork };

/** The tests' reference chip: RRAM 1T1R, 128×128 arrays, 6-bit SAR ADCs shared by 8 columns, 2 bits/cell. */
export const RRAM_128_CHIP: Readonly<HardwareConfig> = Object.freeze({
  device: 'rram',
  rows: 128,
  cols: 128,
  adcBits: 6,
  adcType: 'sar',
  dacBits: 1,
  bitsPerCell: 2,
  colsPerAdc: 8,
  techNode: 22,
});
