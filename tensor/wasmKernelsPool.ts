/**
 * MaxPoolGrad for the wasm backend. wasm has one, but it rescans every pooling window for every input
 * element (~30 ms for one 2×2 pool at 64×28×28×16, more than the convolutions of a small CNN); this one
 * scans each window once, all channels together (wasm SIMD when channels are a multiple of 4, JavaScript
 * otherwise), and routes dy to the window's first maximum, the tie-breaking rule of the cpu backend (ties
 * are common: relu outputs many zeros).
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withWasmScope } from './wasmKernelsScope';
import { heapAddress, poolShapeOf, simdKernelsFor } from './wasmSimdKernels';

/**
 * The attributes MaxPoolGrad and AvgPoolGrad share. AvgPoolGrad's carry no dimRoundingMode (tfjs-core's
 * AvgPoolGradAttrs), so it stays undefined there, as in the cpu backend's AvgPoolGrad.
 */
interface PoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The pooling geometry of a 4-D NHWC input, as the cpu backend computes it (dilation 1). */
function poolInfo(input: TensorInfo, attrs: PoolGradAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** wasm's own kernel for an input these do not handle. */
function runFallback(kernelName: string, fallback: KernelFunc | null, args: Parameters<KernelFunc>[0]) {
  if (!fallback) throw new Error(`${kernelName}: no fallback for this input`);
  return fallback(args);
}

export function makeMaxPoolGrad(fallback: KernelFunc | null): KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    if (input.dtype !== 'float32' || input.shape.length !== 4)
      return runFallback('MaxPoolGrad', fallback, args);
    const info = poolInfo(input, args.attrs as unknown as PoolGradAttrs);
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
    const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const backend = args.backend as BackendWasm;
    const simd = channels % 4 === 0 ? simdKernelsFor(backend) : null;
    if (simd) {
      return withWasmScope(backend, (scope) => {
        const dx = scope.allocate(input.shape, 'float32');
        simd.maxPoolGradient(
          heapAddress(backend, input.dataId),
          heapAddress(backend, dy.dataId),
          heapAddress(backend, dx.dataId),
          poolShapeOf(info),
        );
        return scope.finish(dx);
      });
    }
    return withWasmScope(backend, (scope) => {
      const dx = scope.allocate(input.shape, 'float32');
      const dxValues = scope.float32(dx);
      const xValues = scope.float32(input);
      const dyValues = scope.float32(dy);
      const best = new Float32Array(channels);
      const bestIndex = new Int32Array(channels);
      for (let b = 0; b < batchSize; b++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const hStart = oh * strideHeight - top;
          const hFirst = Math.max(0, hStart);
          const hEnd = Math.min(inHeight, hStart + filterHeight);
          for (let ow = 0; ow < outWidth; ow++) {
            const wStart = ow * strideWidth - left;
            const wFirst = Math.max(0, wStart);
            const wEnd = Math.min(inWidth, wStart + filterWidth);
            best.fill(-Infinity);
            bestIndex.fill(-1);
            for (let h = hFirst; h < hEnd; h++) {
              for (let w = wFirst; w < wEnd; w++) {
                const base = ((b * inHeight + h) * inWidth + w) * channels;
                for (let c = 0; c < channels; c++) {
                  const value = xValues[base + c]!;
                  // Strictly greater: the first maximum in window order wins, as on the cpu backend.
                  if (value > best[c]!) {
                    best[c] = value;
                    bestIndex[c] = base + c;
                  }
                }
              }
            }
            const dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
            for (let c = 0; c < channels; c++) {
              const target = bestIndex[c]!;
              if (target >= 0) dxValues[target] += dyValues[dyBase + c]!;
            }
          }
        }
      }
      return scope.finish(dx);
    });
  };
}

/**
 * AvgPoolGrad for the wasm backend: wasm's own rescans every window per input element (~10 ms for a 2×2
 * pool at 64×28×28×16, 22 ms for 3×3 stride 1); this spreads each dy over its window once, four channels
 * at a time (wasm SIMD, channels a multiple of 4; otherwise wasm's kernel). Like the cpu backend (and
 * tfjs's gradient), every window divides by filterHeight·filterWidth, also where 'same' padding clipped it.
 */
export function makeAvgPoolGrad(fallback: KernelFunc | null): KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const backend = args.backend as BackendWasm;
    const channels = input.shape[3] ?? 0;
    const simd = input.shape.length === 4 && channels % 4 === 0 ? simdKernelsFor(backend) : null;
    if (!simd) return runFallback('AvgPoolGrad', fallback, args);
    const info = poolInfo(input, args.attrs as unknown as PoolGradAttrs);
    return withWasmScope(backend, (scope) => {
      const dx = scope.allocate(input.shape, 'float32');
      simd.avgPoolGradient(
        heapAddress(backend, dy.dataId),
        heapAddress(backend, dx.dataId),
        poolShapeOf(info),
        1 / (info.filterHeight * info.filterWidth),
      );
      return scope.finish(dx);
    });
  };
}
