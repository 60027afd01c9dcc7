/**
 * Gradients of a depthwise 2-D convolution for the wasm backend, which has neither.
 *
 * Forward (tfjs convention): y[b,oh,ow,c·M+m] = Σ_{kh,kw} x[b, oh·sh+kh·dh−top, ow·sw+kw·dw−left, c] ·
 * f[kh,kw,c,m], with M the depth multiplier. Both gradients are a few multiply-adds per element of dy
 * (memory bound, unlike a dense convolution). Paths, fastest first (all measured at batch 64):
 * - multiplier 1, channels a multiple of 4: hand-assembled wasm SIMD loops (wasmSimdKernels.ts), ~11× the
 *   JavaScript loop for the filter gradient, ~3× for a strided input gradient;
 * - input gradient with stride 1, multiplier 1: a depthwise convolution of dy by the flipped filter in the
 *   backend's XNNPACK kernel (~7× the loop, slightly ahead of the SIMD scatter);
 * - anything else: a direct JavaScript pass over the wasm heap, which covers every stride / dilation /
 *   padding / multiplier combination the cpu backend accepts.
 */
import type { backend_util, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  convGeometry,
  interleavePhases,
  planBackpropInputAxis,
  type ConvGeometryAttrs,
} from './wasmKernelsConv';
import { withWasmScope, type WasmKernelScope } from './wasmKernelsScope';
import { depthwiseShapeOf, heapAddress, simdKernelsFor, withHeapScratch } from './wasmSimdKernels';

interface DepthwiseAttrs extends ConvGeometryAttrs {
  dilations: number | [number, number];
}

function depthwiseInfo(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: DepthwiseAttrs,
): backend_util.Conv2DInfo {
  return convGeometry(inputShape, filterShape, attrs, attrs.dilations ?? 1, true);
}

/** First tap k whose input row origin + k·d is ≥ 0 (origin = o·s − pad). */
function firstTap(origin: number, dilation: number): number {
  return origin >= 0 ? 0 : Math.ceil(-origin / dilation);
}

/** Last tap k whose input row origin + k·d is ≤ size − 1, capped at taps − 1 (may be < firstTap). */
function lastTap(origin: number, dilation: number, size: number, taps: number): number {
  return Math.min(taps - 1, Math.floor((size - 1 - origin) / dilation));
}

/**
 * For each kw, the output columns [first, end) whose input column ow·sw + kw·dw − left is inside the
 * image, as i32 pairs (the SIMD loops run along these ranges without bounds checks).
 */
function writeOutputColumnRanges(ranges: Int32Array, info: backend_util.Conv2DInfo): void {
  for (let kw = 0; kw < info.filterWidth; kw++) {
    const offset = kw * info.dilationWidth - info.padInfo.left;
    const first = Math.max(0, Math.ceil(-offset / info.strideWidth));
    const end = Math.min(info.outWidth, Math.floor((info.inWidth - 1 - offset) / info.strideWidth) + 1);
    ranges[kw * 2] = first;
    ranges[kw * 2 + 1] = Math.max(first, end);
  }
}

/**
 * The loop nest both JavaScript gradients share: for every output pixel (b, oh, ow) and every tap (kh, kw)
 * whose input pixel lies inside the image, `visit` gets the element offsets of that input pixel (in x or
 * dx), of the output pixel (in dy) and of the tap (in the filter or its gradient), each at channel 0.
 */
function forEachDepthwiseTap(
  info: backend_util.Conv2DInfo,
  visit: (imageBase: number, dyBase: number, tapBase: number) => void,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const originH = oh * strideHeight - top;
      const khFirst = firstTap(originH, dilationHeight);
      const khLast = lastTap(originH, dilationHeight, inHeight, filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const originW = ow * strideWidth - left;
        const kwFirst = firstTap(originW, dilationWidth);
        const kwLast = lastTap(originW, dilationWidth, inWidth, filterWidth);
        const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = khFirst; kh <= khLast; kh++) {
          const ih = originH + kh * dilationHeight;
          for (let kw = kwFirst; kw <= kwLast; kw++) {
            const iw = originW + kw * dilationWidth;
            visit(
              ((b * inHeight + ih) * inWidth + iw) * inChannels,
              dyBase,
              (kh * filterWidth + kw) * outChannels,
            );
          }
        }
      }
    }
  }
}

/**
 * target[t + c] += a[i + c]·b[j + c] for c < count: one tap's channels at multiplier 1, where both gradients
 * are the same elementwise multiply-add (products in double, as the loops they replace).
 */
function addProducts(
  target: Float32Array | Float64Array,
  t: number,
  a: Float32Array,
  i: number,
  b: Float32Array,
  j: number,
  count: number,
): void {
  for (let c = 0; c < count; c++) target[t + c] += a[i + c]! * b[j + c]!;
}

/**
 * The filter gradient at one tap for multiplier M > 1: sums[s + c·M + m] += x[i + c]·dy[j + c·M + m]. (All
 * operands are parameters, not closure variables: V8 keeps this loop as fast as the inline one it replaces.)
 */
function addSpreadProducts(
  sums: Float64Array,
  s: number,
  x: Float32Array,
  i: number,
  dy: Float32Array,
  j: number,
  channels: number,
  multiplier: number,
): void {
  for (let c = 0; c < channels; c++) {
    const xv = x[i + c]!;
    const cm = c * multiplier;
    for (let m = 0; m < multiplier; m++) sums[s + cm + m] += xv * dy[j + cm + m]!;
  }
}

/** The input gradient at one tap for multiplier M > 1: dx[t + c] += Σ_m dy[j + c·M + m]·filter[k + c·M + m]. */
function addGroupedProducts(
  dx: Float32Array,
  t: number,
  dy: Float32Array,
  j: number,
  filter: Float32Array,
  k: number,
  channels: number,
  multiplier: number,
): void {
  for (let c = 0; c < channels; c++) {
    const cm = c * multiplier;
    let sum = 0;
    for (let m = 0; m < multiplier; m++) sum += dy[j + cm + m]! * filter[k + cm + m]!;
    dx[t + c] += sum;
  }
}

export const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const typed = attrs as unknown as DepthwiseAttrs & { filterShape: [number, number, number, number] };
  const info = depthwiseInfo(x.shape as [number, number, number, number], typed.filterShape, typed);
  const { inChannels, outChannels, filterHeight, filterWidth } = info;
  const multiplier = outChannels / inChannels;
  const wasmBackend = backend as BackendWasm;
  const simd = multiplier === 1 && inChannels % 4 === 0 ? simdKernelsFor(wasmBackend) : null;
  if (simd) {
    return withWasmScope(wasmBackend, (scope) => {
      const dw = scope.allocate(typed.filterShape);
      const taps = filterHeight * filterWidth * inChannels;
      // Scratch: f64 accumulators, then (first output column, end) per kw as i32 pairs.
      const sums = withHeapScratch(wasmBackend, taps * 8 + filterWidth * 8, (pointer) => {
        const heap = scope.float32(dw).buffer;
        const accumulators = new Float64Array(heap, pointer, taps);
        accumulators.fill(0);
        writeOutputColumnRanges(new Int32Array(heap, pointer + taps * 8, filterWidth * 2), info);
        simd.depthwiseFilterGradient(
          heapAddress(wasmBackend, x.dataId),
          heapAddress(wasmBackend, dy.dataId),
          pointer,
          pointer + taps * 8,
          depthwiseShapeOf(info),
        );
        return Float64Array.from(accumulators);
      });
      scope.float32(dw).set(sums);
      return scope.finish(dw);
    });
  }
  return withWasmScope(wasmBackend, (scope) => {
    const dw = scope.allocate(typed.filterShape);
    const xValues = scope.float32(x);
    const dyValues = scope.float32(dy);
    // Float64 accumulators: each weight sums batch·outHeight·outWidth products, and the result must match
    // the cpu backend's to 1e-4 relative even for large batches.
    const sums = new Float64Array(filterHeight * filterWidth * outChannels);
    forEachDepthwiseTap(info, (xBase, dyBase, sumBase) => {
      if (multiplier === 1) addProducts(sums, sumBase, xValues, xBase, dyValues, dyBase, inChannels);
      else addSpreadProducts(sums, sumBase, xValues, xBase, dyValues, dyBase, inChannels, multiplier);
    });
    scope.float32(dw).set(sums);
    return scope.finish(dw);
  });
};

/** dx as a stride-1 depthwise convolution of dy by the flipped filter (multiplier 1, any dilation). */
function backpropInputByFlippedFilter(
  scope: WasmKernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  inputShape: [number, number, number, number],
): TensorInfo | null {
  const planH = planBackpropInputAxis(
    info.inHeight,
    info.outHeight,
    info.filterHeight,
    1,
    info.dilationHeight,
    info.padInfo.top,
  );
  const planW = planBackpropInputAxis(
    info.inWidth,
    info.outWidth,
    info.filterWidth,
    1,
    info.dilationWidth,
    info.padInfo.left,
  );
  if (!planH || !planW) return null;
  const { filterHeight: kh, filterWidth: kw, inChannels: channels } = info;
  const source = scope.float32(filter);
  const flipped = new Float32Array(source.length);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * channels;
      flipped.set(source.subarray(from, from + channels), (i * kw + j) * channels);
    }
  }
  const flippedFilter = scope.upload(flipped, [kh, kw, channels, 1]);
  const z = scope.run(
    'DepthwiseConv2dNative',
    { x: dy, filter: flippedFilter },
    {
      strides: [1, 1],
      dilations: [planH.convDilation, planW.convDilation],
      pad: [
        [0, 0],
        [planH.padBefore, planH.padAfter],
        [planW.padBefore, planW.padAfter],
        [0, 0],
      ],
    },
  );
  return interleavePhases(scope, z, inputShape, planH, planW);
}

export const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const typed = attrs as unknown as DepthwiseAttrs & { inputShape: [number, number, number, number] };
  const info = depthwiseInfo(typed.inputShape, filter.shape as [number, number, number, number], typed);
  // Stride 1: XNNPACK's depthwise convolution by the flipped filter (measured ~15% faster than the SIMD
  // scatter below); strided: the SIMD scatter (3× faster than JavaScript).
  if (info.strideHeight === 1 && info.strideWidth === 1 && info.outChannels === info.inChannels) {
    return withWasmScope(backend as BackendWasm, (scope) => {
      const dx = backpropInputByFlippedFilter(scope, dy, filter, info, typed.inputShape);
      if (!dx) throw new Error('unreachable: stride 1 always has a plan');
      return scope.finish(dx);
    });
  }
  const wasmBackend = backend as BackendWasm;
  const simd =
    info.outChannels === info.inChannels && info.inChannels % 4 === 0 ? simdKernelsFor(wasmBackend) : null;
  if (simd) {
    return withWasmScope(wasmBackend, (scope) => {
      const dx = scope.allocate(typed.inputShape);
      withHeapScratch(wasmBackend, info.filterWidth * 8, (pointer) => {
        writeOutputColumnRanges(
          new Int32Array(scope.float32(dx).buffer, pointer, info.filterWidth * 2),
          info,
        );
        simd.depthwiseInputGradient(
          heapAddress(wasmBackend, dy.dataId),
          heapAddress(wasmBackend, filter.dataId),
          heapAddress(wasmBackend, dx.dataId),
          pointer,
          depthwiseShapeOf(info),
        );
      });
      return scope.finish(dx);
    });
  }
  const { inChannels, outChannels } = info;
  const multiplier = outChannels / inChannels;
  return withWasmScope(backend as BackendWasm, (scope) => {
    const dx = scope.allocate(typed.inputShape);
    const dxValues = scope.float32(dx);
    const dyValues = scope.float32(dy);
    const filterValues = scope.float32(filter);
    // Scatter form: every dy element adds its contribution to the inputs its window covered. Each dx
    // element receives at most kh·kw·M terms, so float32 accumulation stays accurate.
    forEachDepthwiseTap(info, (dxBase, dyBase, filterBase) => {
      if (multiplier === 1)
        addProducts(dxValues, dxBase, dyValues, dyBase, filterValues, filterBase, inChannels);
      else
        addGroupedProducts(
          dxValues,
          dxBase,
          dyValues,
          dyBase,
          filterValues,
          filterBase,
          inChannels,
          multiplier,
        );
    });
    return scope.finish(dx);
  });
};
