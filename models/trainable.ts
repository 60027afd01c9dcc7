/**
 * What the trainer needs from a model: named variables (for checkpoints), a loss for a batch and logits for
 * evaluation. The supernet implements this with a sampled path per step; small fixed models implement it
 * directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../storage/checkpoints';

export interface TrainableModel {
  readonly variables: Map<string, tf.Variable>;
  /** Mean cross-entropy of the batch; `step` lets a supernet pick its path for this step deterministically. */
  loss(x: tf.Tensor4D, labels: tf.Tensor1D, step: number): tf.Scalar;
  logits(x: tf.Tensor4D): tf.Tensor2D;
}

export function snapshotVariables(variables: Map<string, tf.Variable>): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const [name, variable] of variables) {
    out.set(name, { shape: variable.shape, data: variable.dataSync() as Float32Array });
  }
  return out;
}

export function restoreVariables(variables: Map<string, tf.Variable>, saved: Map<string, NamedTensor>): void {
  for (const [name, variable] of variables) {
    const tensor = saved.get(name);
    if (!tensor) throw new Error(`checkpoint lacks variable ${name}`);
    if (tensor.shape.join('x') !== variable.shape.join('x')) {
      throw new Error(
        `checkpoint variable ${name} has shape [${tensor.shape}] but the model expects [${variable.shape}]`,
      );
    }
    variable.assign(tf.tensor(tensor.data, tensor.shape));
  }
}

/** Top-1 accuracy over a whole split, evaluated in batches without keeping tensors alive. */
export function accuracy(
  model: TrainableModel,
  x: Float32Array,
  y: Int32Array,
  shape: [number, number, number],
  batchSize = 500,
): number {
  const pixels = shape[0] * shape[1] * shape[2];
  const count = y.length;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const predicted = tf.tidy(() => {
      const input = tf.tensor4d(x.subarray(start * pixels, (start + n) * pixels), [n, ...shape]);
      return tf.argMax(model.logits(input), 1);
    });
    const labels = predicted.dataSync();
    predicted.dispose();
    for (let i = 0; i < n; i++) if (labels[i] === y[start + i]) correct++;
  }
  return count === 0 ? 0 : correct / count;
}
