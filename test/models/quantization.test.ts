/**
 * The quantizers: grids, the float32 agreement between the tensor and the number form of an activation
 * step, straight-through gradients, and the weight-noise hook.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { initTensorEngine } from '../../tensor/backend';
import {
  MIN_QUANTIZATION_RANGE,
  activationLevels,
  activationStep,
  fakeQuantizeActivation,
  fakeQuantizeWeights,
  quantizeToGrid,
  signedTopLevel,
  stopGradient,
  unsignedTopLevel,
  weightLevels,
} from '../../models/quantization';
import { gaussianWeightNoise } from '../../models/weightNoise';

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm' });
});

describe('grids', () => {
  it('has 2^a − 1 unsigned levels and ±(2^(b−1) − 1) signed ones (ternary at 1 bit)', () => {
    expect([1, 2, 4, 8].map(unsignedTopLevel)).toEqual([1, 3, 15, 255]);
    expect([1, 2, 4, 8].map(signedTopLevel)).toEqual([1, 1, 7, 127]);
    expect(activationLevels(4, true)).toEqual({ lowest: -7, highest: 7 });
    expect(activationLevels(4, false)).toEqual({ lowest: 0, highest: 15 });
    expect(() => signedTopLevel(0)).toThrow(RangeError);
  });

  it('rounds to the grid and clips at its ends', () => {
    const x = tf.tensor1d([-1, -0.26, 0.1, 0.24, 0.26, 0.9, 3]);
    const q = quantizeToGrid(x, tf.scalar(0.5), 0, 3);
    expect(Array.from(q.dataSync())).toEqual([0, 0, 0, 0, 0.5, 1, 1.5]);
    tf.dispose([x, q]);
  });

  it('computes the activation step as a number equal to the tensor computation, bit for bit', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 300; i++) {
      const range = Math.fround(rng.next() * 10 ** (rng.int(8) - 4));
      const bits = 1 + rng.int(16);
      const signed = rng.next() < 0.5;
      const { highest } = activationLevels(bits, signed);
      const tensorStep = tf.tidy(() => tf.div(tf.maximum(tf.scalar(range), MIN_QUANTIZATION_RANGE), highest));
      expect(activationStep(range, bits, signed)).toBe(tensorStep.dataSync()[0]);
      tensorStep.dispose();
    }
  });

  it('quantizes weights per output channel with symmetric integer levels', () => {
    // conv [1, 1, 2, 2]: output channel 0 holds {1, −0.6}, channel 1 holds {0.013, 0.02}.
    const kernel = tf.tensor4d([1, 0.013, -0.6, 0.02], [1, 1, 2, 2]);
    const { levels, step } = weightLevels(kernel, 'conv', 4);
    expect(Array.from(step.dataSync())).toEqual([1 / 7, 0.02 / 7].map(Math.fround));
    expect(Array.from(levels.dataSync())).toEqual([7, 5, -4, 7]);
    const depthwise = tf.tensor4d([1, 4, -2, 1], [2, 1, 2, 1]);
    const dw = weightLevels(depthwise, 'depthwise', 3);
    expect(Array.from(dw.step.dataSync())).toEqual([2 / 3, 4 / 3].map(Math.fround));
    tf.dispose([kernel, levels, step, depthwise, dw.levels, dw.step]);
  });
});

describe('straight-through estimators (Bengio et al. 2013)', () => {
  it('passes activation gradients inside the range and stops them outside', () => {
    const x = tf.tensor1d([-2, -0.5, 0.3, 1.4, 5]);
    const range = () => tf.scalar(1.5);
    const signedGrad = tf.grad((input: tf.Tensor) => tf.sum(fakeQuantizeActivation(input, range, -3, 3)))(x);
    expect(Array.from(signedGrad.dataSync())).toEqual([0, 1, 1, 1, 0]);
    const positive = tf.tensor1d([0, 0.3, 1.4, 5]);
    const unsignedGrad = tf.grad((input: tf.Tensor) => tf.sum(fakeQuantizeActivation(input, range, 0, 3)))(
      positive,
    );
    expect(Array.from(unsignedGrad.dataSync())).toEqual([1, 1, 1, 0]);
    tf.dispose([x, signedGrad, positive, unsignedGrad]);
  });

  it('treats weight rounding as the identity in the backward pass', () => {
    const kernel = tf.tensor2d([0.3, -0.7, 0.11, 0.52], [2, 2]);
    const upstream = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(fakeQuantizeWeights(w, 'dense', 2), upstream)))(
      kernel,
    );
    expect(Array.from(grad.dataSync())).toEqual([1, 2, 3, 4]);
    const quantized = fakeQuantizeWeights(kernel, 'dense', 2);
    // 2 bits: ternary levels {−1, 0, 1} times 1.4·mean|w| of each column (the TWN threshold 0.7·mean|w|):
    // column 0 (0.3, 0.11) → step 0.287: 0.3 → +1, 0.11 → 0; column 1 (−0.7, 0.52) → step 0.854: −1, +1.
    const [step0, step1] = [1.4 * 0.205, 1.4 * 0.61];
    const expected = [step0, -step1, 0, step1];
    Array.from(quantized.dataSync()).forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 5));
    tf.dispose([kernel, upstream, grad, quantized]);
  });

  it('stops gradients where asked', () => {
    const x = tf.tensor1d([1, 2]);
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(stopGradient(input), input)))(x);
    expect(Array.from(grad.dataSync())).toEqual([1, 2]);
    tf.dispose([x, grad]);
  });
});

describe('Gaussian weight noise (weight-level abstraction, docs/sources.md §Noise models)', () => {
  it('adds N(0, σ·max|w_c|) per output channel, reproducibly per (seed, step, layer)', () => {
    const noise = gaussianWeightNoise({ relativeSigma: 0.1, seed: 4 });
    // Two output channels with max|w| 1 and 10.
    const values = new Float32Array(2000 * 2);
    for (let i = 0; i < 2000; i++) {
      values[2 * i] = i === 0 ? 1 : 0;
      values[2 * i + 1] = i === 0 ? 10 : 0;
    }
    const weights = tf.tensor2d(values, [2000, 2]);
    const first = noise('stage0.block0.conv', weights, { step: 3, kind: 'dense' });
    const again = noise('stage0.block0.conv', weights, { step: 3, kind: 'dense' });
    const nextStep = noise('stage0.block0.conv', weights, { step: 4, kind: 'dense' });
    expect(Array.from(again.dataSync())).toEqual(Array.from(first.dataSync()));
    expect(Array.from(nextStep.dataSync())).not.toEqual(Array.from(first.dataSync()));
    const delta = tf.sub(first, weights);
    const { variance } = tf.moments(delta, 0);
    const [std0, std1] = Array.from(variance.dataSync()).map(Math.sqrt);
    expect(std0).toBeGreaterThan(0.09);
    expect(std0).toBeLessThan(0.11);
    expect(std1).toBeGreaterThan(0.9);
    expect(std1).toBeLessThan(1.1);
    const silent = gaussianWeightNoise({ relativeSigma: 0, seed: 4 })('x', weights, {
      step: 0,
      kind: 'dense',
    });
    expect(silent).toBe(weights);
    tf.dispose([weights, first, again, nextStep, delta, variance]);
  });
});
