/**
 * Batch norm's training gradient as one wasm kernel (used by `batchNormTraining`, batchNorm.ts):
 *   dβ = Σ dy,  dγ = invStd·(Σ dy·x − mean·Σ dy),  dx = k·dy + u·(x − mean) + w  per channel, with
 *   k = γ·invStd,  u = −invStd·k·dγ/N,  w = −k·dβ/N  (N = elements per channel).
 * Two passes over the activation instead of the ~9 elementwise ops of the composed gradient; sums in f64
 * (they are subtracted from nearly equal quantities). wasm SIMD when channels are a multiple of 4,
 * JavaScript otherwise. Other backends have no such kernel and run the composed gradient.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withWasmScope } from './wasmKernelsScope';
import { heapAddress, simdKernelsFor, withHeapScratch } from './wasmSimdKernels';

export const batchNormTrainingGrad: KernelFunc = ({ inputs, backend }) => {
  const { x, dy, mean, invStd, scale } = inputs as Record<
    'x' | 'dy' | 'mean' | 'invStd' | 'scale',
    TensorInfo
  >;
  const wasmBackend = backend as BackendWasm;
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  return withWasmScope<TensorInfo[]>(wasmBackend, (scope) => {
    const dx = scope.allocate(x.shape);
    const dScale = scope.allocate([channels]);
    const dOffset = scope.allocate([channels]);
    const simd = channels % 4 === 0 ? simdKernelsFor(wasmBackend) : null;

    // Pass 1: Σ dy and Σ dy·x per channel.
    let sumDy: Float64Array;
    let sumDyX: Float64Array;
    if (simd) {
      [sumDy, sumDyX] = withHeapScratch(wasmBackend, channels * 16, (pointer) => {
        const sums = new Float64Array(scope.float32(dx).buffer, pointer, channels * 2);
        sums.fill(0);
        simd.sumRowsWithProduct(
          heapAddress(wasmBackend, x.dataId),
          heapAddress(wasmBackend, dy.dataId),
          rows,
          channels,
          pointer,
        );
        return [sums.slice(0, channels), sums.slice(channels)];
      });
    } else {
      sumDy = new Float64Array(channels);
      sumDyX = new Float64Array(channels);
      const xValues = scope.float32(x);
      const dyValues = scope.float32(dy);
      for (let r = 0, i = 0; r < rows; r++) {
        for (let c = 0; c < channels; c++, i++) {
          const g = dyValues[i]!;
          sumDy[c] += g;
          sumDyX[c] += g * xValues[i]!;
        }
      }
    }

    // Per-channel coefficients.
    const meanValues = scope.float32(mean);
    const invStdValues = scope.float32(invStd);
    const scaleValues = scope.float32(scale);
    const coefficients = new Float32Array(channels * 4);
    const dScaleValues = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const m = meanValues[c]!;
      const s = invStdValues[c]!;
      const dGamma = s * (sumDyX[c]! - m * sumDy[c]!);
      const k = scaleValues[c]! * s;
      const u = (-s * k * dGamma) / rows;
      dScaleValues[c] = dGamma;
      coefficients[c] = k;
      coefficients[channels + c] = u;
      coefficients[2 * channels + c] = m;
      coefficients[3 * channels + c] = (-k * sumDy[c]!) / rows;
    }
    scope.float32(dScale).set(dScaleValues);
    scope.float32(dOffset).set(sumDy);

    // Pass 2: dx = k·dy + u·(x − mean) + w.
    if (simd) {
      withHeapScratch(wasmBackend, coefficients.byteLength, (pointer) => {
        new Float32Array(scope.float32(dx).buffer, pointer, coefficients.length).set(coefficients);
        simd.channelAffine(
          heapAddress(wasmBackend, x.dataId),
          heapAddress(wasmBackend, dy.dataId),
          heapAddress(wasmBackend, dx.dataId),
          rows,
          channels,
          pointer,
        );
      });
    } else {
      const xValues = scope.float32(x);
      const dyValues = scope.float32(dy);
      const dxValues = scope.float32(dx);
      for (let r = 0, i = 0; r < rows; r++) {
        for (let c = 0; c < channels; c++, i++) {
          dxValues[i] =
            coefficients[c]! * dyValues[i]! +
            coefficients[channels + c]! * (xValues[i]! - coefficients[2 * channels + c]!) +
            coefficients[3 * channels + c]!;
        }
      }
    }
    return scope.finishMany([dx, dScale, dOffset]);
  });
};
