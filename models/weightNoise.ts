/**
 * Noise-aware training (the NACIM / AnalogNAS practice): the weights a path uses are perturbed on every
 * training step the way the device would perturb them, so the network learns to tolerate it.
 *
 * A hook receives each weight layer's (already fake-quantized) kernel and returns the perturbed kernel; the
 * straight-through gradient passes through the perturbation unchanged (the noise is a constant offset).
 * The default is the weight-level abstraction NAS papers use (docs/sources.md §Noise models):
 * w' = w + N(0, σ·max|w|) with σ ≈ 0.05–0.15 (0.1 headline). max|w| is taken per output channel: with
 * per-channel weight scales (models/quantization.ts) each output channel's largest weight maps to the
 * device's full conductance range, so a conductance error of σ·Gmax is σ·max|w_c| in that channel's weight units.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../common/rng';
import { perChannelReductionAxes, stopGradient } from './quantization';

export interface WeightNoiseContext {
  /** Training step: seeds the draw, so a resumed run perturbs exactly as the uninterrupted one. */
  step: number;
  kind: 'conv' | 'depthwise' | 'dense';
}

/** Perturbs one layer's kernel for one training step. `layerName` is the layerShapes() name. */
export type WeightNoiseHook = (
  layerName: string,
  weights: tf.Tensor,
  context: WeightNoiseContext,
) => tf.Tensor;

export interface GaussianWeightNoiseOptions {
  /** σ relative to the per-output-channel max|w| (0.05–0.15 in NAS papers; docs/sources.md §Noise models). */
  relativeSigma: number;
  seed: number;
}

/** The default hook: w + N(0, σ·max|w_c|), seeded by (seed, step, layer). */
export function gaussianWeightNoise(options: GaussianWeightNoiseOptions): WeightNoiseHook {
  const { relativeSigma, seed } = options;
  if (!(relativeSigma >= 0) || !Number.isFinite(relativeSigma)) {
    throw new RangeError(`relativeSigma must be a finite number ≥ 0, got ${relativeSigma}`);
  }
  return (layerName, weights, context) => {
    if (relativeSigma === 0) return weights;
    return tf.tidy(() => {
      const channelMax = tf.max(tf.abs(weights), perChannelReductionAxes(context.kind), true);
      // The magnitude is a constant of the draw: no gradient flows into max|w|.
      const sigma = tf.mul(stopGradient(channelMax), relativeSigma);
      const unitNoise = tf.randomNormal(
        weights.shape,
        0,
        1,
        'float32',
        deriveSeed(seed, 'weight-noise', context.step, layerName),
      );
      return tf.add(weights, tf.mul(unitNoise, sigma));
    });
  };
}
