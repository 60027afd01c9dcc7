/**
 * Shared helpers for the tensor tests: run a kernel on a named backend from host arrays, and compare
 * results with a relative error measured against the reference's largest magnitude.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../common/rng';
import { silenceCpuBackendBanner } from '../../tensor/backend';

export interface HostTensor {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
}

export function randomHost(rng: Rng, shape: number[]): HostTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.next() * 2 - 1;
  return { values, shape, dtype: 'float32' };
}

/** Runs one kernel through the engine on `backendName` and returns its output values. */
export async function runKernelOn(
  backendName: string,
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backendName);
  silenceCpuBackendBanner();
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, host] of Object.entries(inputs))
      tensors[name] = tf.tensor(host.values, host.shape, host.dtype);
    const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
    return { values: Float32Array.from(out.dataSync()), shape: out.shape };
  });
}

/** max|actual − expected| / max|expected| (0 when both are all zeros). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  return scale === 0 ? worst : worst / scale;
}
