/**
 * Training-mode batch normalization with a closed-form gradient.
 *
 * Written the textbook way (tf.moments then tf.batchNorm), tfjs differentiates through every op of the
 * moments and of its generic batch-norm gradient: ~30 full passes over the activation per layer (tiles,
 * broadcasts, reductions), which made batch norm the most expensive part of a training step on wasm. The
 * closed form needs about a third of that:
 *   x̂ = (x − μ)/√(σ² + ε),  y = γ·x̂ + β,  with μ, σ² the batch statistics over all axes but the channel axis;
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + ε) · (dy − dβ/N − x̂·dγ/N),  N = elements per channel.
 * Same values and gradients as the textbook composition (tested), on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Name of the fused gradient kernel: registered for wasm (wasmKernelsBatchNorm.ts); on other backends the
 * gradient is composed from tfjs ops. Inputs x, dy, mean, invStd, scale; outputs dx, dScale, dOffset.
 */
export const BATCH_NORM_TRAINING_GRAD = 'ImcnasBatchNormTrainingGrad';

export interface BatchNormTrainingOptions {
  epsilon: number;
  /**
   * Receives the batch mean and (biased) variance, e.g. to update running statistics with `assign`. The
   * tensors are disposed after the call: keep what you need via assign or tf.keep.
   */
  onStatistics?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;
}

/** Normalizes `x` (channels last) with its own batch statistics, then scales by `gamma` and shifts by `beta`. */
export function batchNormTraining<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  options: BatchNormTrainingOptions,
): T {
  const channels = x.shape[x.rank - 1]!;
  const reductionAxes = x.shape.slice(0, -1).map((_, axis) => axis);
  const perChannel = x.size / channels;
  const { epsilon, onStatistics } = options;

  const normalize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, scale, offset, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const { mean, variance } = tf.moments(input, reductionAxes) as {
      mean: tf.Tensor1D;
      variance: tf.Tensor1D;
    };
    onStatistics?.(mean, variance);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const value = tf.batchNorm(input, mean, variance, offset as tf.Tensor1D, scale as tf.Tensor1D, epsilon);
    save([input, mean, invStd, scale]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedInput, savedMean, savedInvStd, savedScale] = saved as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        if (tf.getKernel(BATCH_NORM_TRAINING_GRAD, tf.getBackend())) {
          return tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, {
            x: savedInput,
            dy,
            mean: savedMean,
            invStd: savedInvStd,
            scale: savedScale,
          }) as tf.Tensor[];
        }
        const normalized = tf.mul(tf.sub(savedInput, savedMean), savedInvStd);
        const dOffset = tf.sum(dy, reductionAxes);
        const dScale = tf.sum(tf.mul(dy, normalized), reductionAxes);
        const inputScale = tf.mul(savedScale, savedInvStd);
        // dx = k·dy − x̂·(k·dγ/N) − k·dβ/N with k = γ/√(σ² + ε): two per-channel vectors, four full passes.
        const normalizedCoefficient = tf.div(tf.mul(inputScale, dScale), perChannel);
        const constantTerm = tf.div(tf.mul(inputScale, dOffset), perChannel);
        const dInput = tf.sub(
          tf.sub(tf.mul(dy, inputScale), tf.mul(normalized, normalizedCoefficient)),
          constantTerm,
        );
        return [dInput, dScale, dOffset];
      },
    };
  });
  return normalize(x, gamma, beta) as T;
}
