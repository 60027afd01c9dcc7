/**
 * The noise-aware-training perturbation: the `(layerName, weights, hw) → tf.Tensor` interface and the
 * supernet hook built from the same device model; per-weight σ from bit slicing, grid inference, seeds,
 * stuck-at faults, depthwise packing leakage; and the config schema of the noise settings.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { sliceLayout } from '../../hardware/analog/encoding';
import { NoiseSettingsSchema } from '../../hardware/noise/schema';
import { noiseSettings, resolveCellNoise } from '../../hardware/noise/settings';
import {
  cellSigmaAt,
  deviceWeightNoiseHook,
  deviceWeightPerturbation,
  inferWeightBits,
  kernelKindOf,
  rectifiedGaussianStd,
  weightLevelSigma,
} from '../../hardware/noise/weightNoise';
import type { HardwareConfig } from '../../hardware/types';
import { RRAM_128_CHIP } from './analogSupport';
import type { WeightNoiseHook } from '../../models/weightNoise';
import { initTensorEngine } from '../../tensor/backend';

const HW: HardwareConfig = { ...RRAM_128_CHIP };

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
});

/** A dense kernel [cin, cout] on a `bits` grid whose every weight sits at `level` (channel max at top). */
function kernelAt(level: number, bits: number, cin = 400, cout = 50): { kernel: tf.Tensor; step: number } {
  const top = 2 ** (bits - 1) - 1;
  const step = 0.02;
  const values = new Float32Array(cin * cout).fill(level * step);
  for (let o = 0; o < cout; o++) values[o] = top * step; // row 0 holds each channel's max
  return { kernel: tf.tensor2d(values, [cin, cout]), step };
}

function std(values: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

describe('device weight perturbation', () => {
  test('σ of each weight = Σ over its bit slices of (2^shift · levels per conductance · σ_G)², as predicted', () => {
    for (const [device, bitsPerCell, level] of [
      ['rram', 2, 5],
      ['pcm', 1, -3],
      ['fefet', 3, 0],
    ] as const) {
      const hw = { ...HW, device, bitsPerCell };
      const bits = 6;
      const { kernel, step } = kernelAt(level, bits);
      const perturb = deviceWeightPerturbation({ seed: 1, weightBits: bits, noise: { stuckAtScale: 0 } });
      const perturbed = perturb('head.classifier', kernel, hw);
      expect(perturbed.shape).toEqual(kernel.shape);
      const before = kernel.dataSync();
      const after = perturbed.dataSync();
      const errors = Array.from(after.subarray(50), (w, i) => (w - before[50 + i]!) / step);
      const model = resolveCellNoise(hw, noiseSettings({ stuckAtScale: 0 }));
      const expected = weightLevelSigma(model, sliceLayout(bits, bitsPerCell, true), level, 0);
      expect(Math.abs(std(errors) / expected - 1)).toBeLessThan(5 / Math.sqrt(2 * errors.length));
      tf.dispose([kernel, perturbed]);
    }
  });

  test('more bits per cell → larger weight σ for the same conductance σ (bit slicing)', () => {
    const model = resolveCellNoise(
      HW,
      noiseSettings({ model: 'gaussian', programmingSigma: 0.05, readNoiseScale: 0 }),
    );
    const sigmas = [1, 2, 3, 4].map((bpc) => weightLevelSigma(model, sliceLayout(8, bpc, true), 37, 0));
    for (let i = 1; i < sigmas.length; i++) expect(sigmas[i]!).toBeGreaterThan(sigmas[i - 1]!);
    // The rectified Gaussian std: a cell at 0 with σ keeps σ·sqrt((1 − 1/π)/2).
    expect(rectifiedGaussianStd(0, 1)).toBeCloseTo(Math.sqrt((1 - 1 / Math.PI) / 2), 6);
    expect(rectifiedGaussianStd(100, 1)).toBeCloseTo(1, 6);
    expect(cellSigmaAt(model, 0.5, 0)).toBeCloseTo(0.05 * (1 - model.gMin), 3);
  });

  test('the grid is inferred from fake-quantized weights; kinds from shape and name', () => {
    const channelMax = new Float32Array([0.7]);
    const values = Float32Array.from([0.7, -0.1, 0.3, 0], (v) => Math.round((v / 0.7) * 7) * 0.1);
    expect(inferWeightBits(values, channelMax, () => 0)).toBe(4);
    expect(kernelKindOf('stage0.block0.depthwise', [3, 3, 8, 1])).toBe('depthwise');
    expect(kernelKindOf('stem', [3, 3, 1, 1])).toBe('conv');
    expect(kernelKindOf('head.classifier', [64, 10])).toBe('dense');
  });

  test('the supernet hook is seeded by (seed, step, layer): a resumed run draws the same perturbation', () => {
    const hook: WeightNoiseHook = deviceWeightNoiseHook(HW, { seed: 3 });
    const { kernel } = kernelAt(2, 6, 50, 8);
    const a = hook('head.classifier', kernel, { step: 10, kind: 'dense' }).dataSync();
    const b = hook('head.classifier', kernel, { step: 10, kind: 'dense' }).dataSync();
    const c = hook('head.classifier', kernel, { step: 11, kind: 'dense' }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // The straight-through gradient: d(perturbed)/d(weights) = 1.
    const grad = tf.grad((w: tf.Tensor) => tf.sum(hook('head.classifier', w, { step: 1, kind: 'dense' })))(
      kernel,
    );
    expect(Array.from(grad.dataSync()).every((g) => g === 1)).toBe(true);
  });

  test('stuck-at faults move weights by whole slices at the configured rate', () => {
    const { kernel, step } = kernelAt(0, 4, 1000, 10);
    // Only stuck-at-ON faults, no Gaussian noise: a weight at 0 jumps to ±(slice max · 2^shift).
    const perturb = deviceWeightPerturbation({
      seed: 5,
      // A kernel of zeros fits every grid: name the bits (fake-quantized kernels are inferred).
      weightBits: 4,
      noise: { programmingScale: 0, readNoiseScale: 0, stuckAtZeroRate: 0, stuckAtOneRate: 0.01 },
    });
    const changes = Array.from(perturb('head.classifier', kernel, HW).dataSync(), (w, i) =>
      Math.round((w - kernel.dataSync()[i]!) / step),
    );
    const moved = changes.filter((c, i) => i >= 10 && c !== 0);
    // 3 magnitude bits on 2-bit cells: slices (2, 1) → jumps of ±3 or ±4 levels; 4 cells per weight.
    expect(moved.every((c) => [3, -3, 4, -4, 7, -7, 1, -1].includes(c))).toBe(true);
    const expected = 9990 * 4 * 0.01;
    expect(Math.abs(moved.length - expected)).toBeLessThan(5 * Math.sqrt(expected));
  });

  test('depthwise kernels carry the leakage of the channels packed on their array', () => {
    const rng = new Rng(2);
    const values = Float32Array.from({ length: 3 * 3 * 64 }, () => Math.round(rng.next() * 62 - 31) * 0.01);
    const kernel = tf.tensor4d(values, [3, 3, 64, 1]);
    const noise = { model: 'gaussian' as const, programmingSigma: 0.05, readNoiseScale: 0, stuckAtScale: 0 };
    const spread = (name: string, hw: HardwareConfig) => {
      const out = deviceWeightPerturbation({ seed: 9, noise, weightBits: 6 })(name, kernel, hw).dataSync();
      return std(Array.from(out, (w, i) => w - values[i]!));
    };
    // 128 rows hold 14 channels of 9 rows; 9 rows hold one (no leakage).
    const packed = spread('stage0.block0.depthwise', HW);
    const alone = spread('stage0.block0.depthwise', { ...HW, rows: 9 });
    expect(packed / alone).toBeGreaterThan(2.5);
  });
});

describe('noise settings schema', () => {
  test('partial settings parse; unknown keys and bad values are named', () => {
    expect(NoiseSettingsSchema.parse({ model: 'gaussian', programmingSigma: 0.05 })).toEqual({
      model: 'gaussian',
      programmingSigma: 0.05,
    });
    const typo = NoiseSettingsSchema.safeParse({ programingSigma: 0.05 });
    expect(typo.success).toBe(false);
    expect(JSON.stringify(typo.error?.issues)).toMatch(/programingSigma/);
    expect(NoiseSettingsSchema.safeParse({ stuckAtOneRate: 2 }).success).toBe(false);
  });
});
