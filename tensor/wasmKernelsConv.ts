/**
 * Gradients of a 2-D convolution for the wasm backend, expressed as forward convolutions so they run in the
 * backend's XNNPACK convolution (SIMD, ~10–20 GFLOP/s here) instead of scalar loops.
 *
 * - Conv2DBackpropFilter (wasm has none): dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh−pad, ow·s+kw−pad, ci] ·
 *   dy[b,oh,ow,co]. For short patches, a matrix product of the transposed patch matrix by dy (im2col);
 *   otherwise, read with ci as the batch, b as the input channel and dy as the filter, a forward
 *   convolution of xᵀ [ci,h,w,b] by dyᵀ [oh,ow,b,co] with dilation s, whose output is dW as [ci,kh,kw,co].
 * - Conv2DBackpropInput (wasm has one, a scalar loop ~8× slower than its forward convolution): dx is the
 *   "full" convolution of dy by the rotated filter. For stride s > 1, each output phase (h mod s) only
 *   meets every s-th filter tap, so the s² phases are computed by one forward convolution whose output
 *   channels are (phase, ci), then interleaved back into space.
 */
import { backend_util, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withWasmScope, type WasmKernelScope } from './wasmKernelsScope';
import { heapAddress, simdKernelsFor } from './wasmSimdKernels';

type ConvPad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type DimRoundingMode = 'floor' | 'round' | 'ceil' | undefined;
type Shape4 = [number, number, number, number];

/** The geometry attributes every convolution gradient here reads (regular and depthwise). */
export interface ConvGeometryAttrs {
  strides: number | [number, number];
  pad: ConvPad;
  dimRoundingMode?: DimRoundingMode;
}

/** The attributes both regular convolution gradients read, besides the shape of the tensor they produce. */
interface ConvGradientAttrs extends ConvGeometryAttrs {
  dataFormat: string;
}

/**
 * The convolution's geometry as tfjs computes it. tfjs's Conv2D gradients carry no dilations (always 1);
 * the depthwise ones pass theirs.
 */
export function convGeometry(
  inputShape: Shape4,
  filterShape: Shape4,
  attrs: ConvGeometryAttrs,
  dilations: number | [number, number],
  depthwise: boolean,
): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

function requireChannelsLast(kernelName: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`imcnas wasm ${kernelName} supports NHWC only, got dataFormat ${String(dataFormat)}`);
  }
}

function explicitPadding(
  top: number,
  bottom: number,
  left: number,
  right: number,
): backend_util.ExplicitPadding {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * How one spatial axis of a backprop-input is computed as a stride-1 forward convolution of dy.
 *
 * With h + padBefore = o·s + k·d (forward: output o reads input h through tap k), dx[h] collects dy[o]·w[k].
 * Writing h + padBefore = q·s + r, the taps that reach phase r are k = r + s·t, so each phase is a
 * correlation of dy with `taps` reversed taps. The forward convolution pads dy by `padBefore`/`padAfter`;
 * its output row j, phase r, is dx row j·s + r − `start`.
 */
export interface BackpropInputAxisPlan {
  stride: number;
  /** Dilation of the stride-1 convolution (the forward dilation; only when stride is 1). */
  convDilation: number;
  /** Taps per phase. */
  taps: number;
  padBefore: number;
  padAfter: number;
  /** Offset of dx row 0 in the interleaved output. */
  start: number;
}

export function planBackpropInputAxis(
  inSize: number,
  outSize: number,
  filterSize: number,
  stride: number,
  dilation: number,
  padBefore: number,
): BackpropInputAxisPlan | null {
  // Both > 1 never comes out of tfjs's gradients (they forbid it); callers fall back to a direct loop.
  if (stride > 1 && dilation > 1) return null;
  const taps = stride > 1 ? Math.ceil(filterSize / stride) : filterSize;
  const convDilation = stride > 1 ? 1 : dilation;
  const span = (taps - 1) * convDilation;
  const top = Math.max(0, span - Math.floor(padBefore / stride));
  const start = padBefore - (span - top) * stride;
  const rowsNeeded = Math.ceil((start + inSize) / stride);
  const bottom = Math.max(0, rowsNeeded - outSize - top + span);
  return { stride, convDilation, taps, padBefore: top, padAfter: bottom, start };
}

/** Filter tap of the original filter that phase `phase`, tap `u` of a plan reads (or -1: none). */
function sourceTap(plan: BackpropInputAxisPlan, filterSize: number, phase: number, u: number): number {
  const k = phase + plan.stride * (plan.taps - 1 - u);
  return k < filterSize ? k : -1;
}

/**
 * dx[b,h,w,c] = z[b, ⌊(h+startH)/sh⌋, ⌊(w+startW)/sw⌋, ((h+startH) mod sh · sw + (w+startW) mod sw)·C + c]:
 * interleaves the phases and crops to the input size in one pass (wasm SIMD when channels % 4 == 0).
 */
export function interleavePhases(
  scope: WasmKernelScope,
  z: TensorInfo,
  inputShape: [number, number, number, number],
  planH: BackpropInputAxisPlan,
  planW: BackpropInputAxisPlan,
): TensorInfo {
  const [batch, height, width, channels] = inputShape;
  const [, zHeight, zWidth, zChannels] = z.shape as [number, number, number, number];
  const sh = planH.stride;
  const sw = planW.stride;
  if (
    sh === 1 &&
    sw === 1 &&
    planH.start === 0 &&
    planW.start === 0 &&
    zHeight === height &&
    zWidth === width
  ) {
    return z;
  }
  const backend = scope.backend;
  const simd = channels % 4 === 0 ? simdKernelsFor(backend) : null;
  if (simd) {
    const dx = scope.allocate(inputShape, 'float32', { zeroed: false });
    simd.interleavePhases(heapAddress(backend, z.dataId), heapAddress(backend, dx.dataId), {
      batch,
      height,
      width,
      channels,
      zHeight,
      zWidth,
      zChannels,
      strideHeight: sh,
      strideWidth: sw,
      startH: planH.start,
      startW: planW.start,
    });
    return dx;
  }
  const dx = scope.allocate(inputShape, 'float32', { zeroed: false });
  const zValues = scope.float32(z);
  const dxValues = scope.float32(dx);
  let out = 0;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < height; h++) {
      const hh = h + planH.start;
      const zRow = (b * zHeight + Math.floor(hh / sh)) * zWidth;
      const phaseRow = (hh % sh) * sw;
      for (let w = 0; w < width; w++) {
        const ww = w + planW.start;
        const from = (zRow + Math.floor(ww / sw)) * zChannels + (phaseRow + (ww % sw)) * channels;
        for (let c = 0; c < channels; c++) dxValues[out++] = zValues[from + c]!;
      }
    }
  }
  return dx;
}

function conv2DBackpropInputNHWC(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: [number, number, number, number],
  gradientAttrs: ConvGradientAttrs,
  fallback: KernelFunc | null,
  attrs: NamedAttrMap,
): TensorInfo {
  const info = convGeometry(inputShape, filter.shape as Shape4, gradientAttrs, 1, false);
  const planH = planBackpropInputAxis(
    info.inHeight,
    info.outHeight,
    info.filterHeight,
    info.strideHeight,
    1,
    info.padInfo.top,
  );
  const planW = planBackpropInputAxis(
    info.inWidth,
    info.outWidth,
    info.filterWidth,
    info.strideWidth,
    1,
    info.padInfo.left,
  );
  if (!planH || !planW) {
    if (!fallback) throw new Error('Conv2DBackpropInput: unsupported stride/dilation combination');
    return fallback({ inputs: { dy, filter }, attrs, backend }) as TensorInfo;
  }
  return withWasmScope(backend, (scope) => {
    const kh = info.filterHeight;
    const kw = info.filterWidth;
    const inChannels = info.inChannels;
    const outChannels = info.outChannels;
    const phases = planH.stride * planW.stride;
    // Phase filter g[u,v,co,(rh·sw+rw)·ci] = w[kh(rh,u), kw(rw,v), ci, co]: taps reversed, in/out swapped.
    const w = scope.float32(filter);
    const g = new Float32Array(planH.taps * planW.taps * outChannels * phases * inChannels);
    const gOutChannels = phases * inChannels;
    for (let rh = 0; rh < planH.stride; rh++) {
      for (let rw = 0; rw < planW.stride; rw++) {
        const phase = rh * planW.stride + rw;
        for (let u = 0; u < planH.taps; u++) {
          const sourceH = sourceTap(planH, kh, rh, u);
          if (sourceH < 0) continue;
          for (let v = 0; v < planW.taps; v++) {
            const sourceW = sourceTap(planW, kw, rw, v);
            if (sourceW < 0) continue;
            for (let ci = 0; ci < inChannels; ci++) {
              const from = ((sourceH * kw + sourceW) * inChannels + ci) * outChannels;
              const to = (u * planW.taps + v) * outChannels * gOutChannels + phase * inChannels + ci;
              for (let co = 0; co < outChannels; co++) g[to + co * gOutChannels] = w[from + co]!;
            }
          }
        }
      }
    }
    const gTensor = scope.upload(g, [planH.taps, planW.taps, outChannels, gOutChannels]);
    const z = scope.run(
      'Conv2D',
      { x: dy, filter: gTensor },
      {
        strides: [1, 1],
        pad: explicitPadding(planH.padBefore, planH.padAfter, planW.padBefore, planW.padAfter),
        dilations: [planH.convDilation, planW.convDilation],
        dataFormat: 'NHWC',
      },
    );
    return scope.finish(interleavePhases(scope, z, inputShape, planH, planW));
  });
}

export function makeConv2DBackpropInput(fallback: KernelFunc | null): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const typed = attrs as unknown as ConvGradientAttrs & { inputShape: [number, number, number, number] };
    if (typed.dataFormat === 'NCHW' && fallback) {
      return fallback({ inputs, attrs, backend });
    }
    requireChannelsLast('Conv2DBackpropInput', typed.dataFormat);
    return conv2DBackpropInputNHWC(
      backend as BackendWasm,
      dy,
      filter,
      typed.inputShape,
      typed,
      fallback,
      attrs ?? {},
    );
  };
}

/**
 * Which formulation computes Conv2DBackpropFilter. `auto` picks by shape (see chooseFilterGradient);
 * the others exist so tests can check both against the cpu backend and benchmarks can compare them.
 */
export type FilterGradientStrategy = 'auto' | 'im2col' | 'transposedConv';
let filterGradientStrategy: FilterGradientStrategy = 'auto';

export function setFilterGradientStrategy(strategy: FilterGradientStrategy): void {
  filterGradientStrategy = strategy;
}

/** What either way of computing the filter gradient (im2col or transposed convolution) works from. */
interface FilterGradientInputs {
  scope: WasmKernelScope;
  x: TensorInfo;
  dy: TensorInfo;
  info: backend_util.Conv2DInfo;
  filterShape: Shape4;
}

/**
 * im2col wins when a patch is short (few taps × input channels) and for 1×1 convolutions (where the patch
 * matrix is just xᵀ): building it costs kh·kw·ci copies per output pixel, and the matrix product then has
 * a long inner dimension, which XNNPACK's fully-connected kernel handles well. The transposed convolution
 * wins for wide strided layers, where that copy reads x with a large stride. Measured (batch 64, CPU time):
 * stem 3×3×1 3.4 ms vs 10.6; 1×1×32→32 3.3 vs 6.3; 1×1×64→64 13 vs 17; 3×3×16 stride 2 19 vs 14;
 * 3×3×16 and 3×3×32 stride 1 even.
 */
const IM2COL_MAX_PATCH = 64;

function chooseFilterGradient(info: backend_util.Conv2DInfo): Exclude<FilterGradientStrategy, 'auto'> {
  if (filterGradientStrategy !== 'auto') return filterGradientStrategy;
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  const pointwise = info.filterHeight === 1 && info.filterWidth === 1;
  return patch <= IM2COL_MAX_PATCH || pointwise ? 'im2col' : 'transposedConv';
}

/**
 * dW = Pᵀ·dY with Pᵀ [kh·kw·ci, b·oh·ow] the transposed patch matrix (zero where a patch reaches into the
 * padding), built row by row in one pass, and dY = dy as [b·oh·ow, co]. The product's rows come out in
 * (kh, kw, ci) order: dW in its final [kh, kw, ci, co] layout.
 */
function filterGradientByIm2col({ scope, x, dy, info, filterShape }: FilterGradientInputs): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const pixels = batchSize * outHeight * outWidth;
  const patchLength = filterHeight * filterWidth * inChannels;
  const patches = scope.allocate([1, patchLength, pixels]);
  const patchValues = scope.float32(patches);
  const xValues = scope.float32(x);
  let row = 0;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      // Output columns whose input column ow·s + kw − left lies inside the image.
      const owFirst = Math.max(0, Math.ceil((left - kw) / strideWidth));
      const owLast = Math.min(outWidth - 1, Math.floor((inWidth - 1 + left - kw) / strideWidth));
      for (let ci = 0; ci < inChannels; ci++, row++) {
        let out = row * pixels;
        for (let b = 0; b < batchSize; b++) {
          for (let oh = 0; oh < outHeight; oh++, out += outWidth) {
            const ih = oh * strideHeight + kh - top;
            if (ih < 0 || ih >= inHeight) continue;
            const rowBase = (b * inHeight + ih) * inWidth;
            let from = (rowBase + owFirst * strideWidth + kw - left) * inChannels + ci;
            const step = strideWidth * inChannels;
            for (let ow = owFirst; ow <= owLast; ow++, from += step) patchValues[out + ow] = xValues[from]!;
          }
        }
      }
    }
  }
  const product = scope.run(
    'BatchMatMul',
    { a: patches, b: scope.view(dy, [1, pixels, outChannels]) },
    { transposeA: false, transposeB: false },
  );
  return scope.view(product, filterShape);
}

/**
 * dW read as a forward convolution: with ci as the batch, b as the input channel and dy as the filter, it
 * is xᵀ [ci,h,w,b] convolved by dyᵀ [oh,ow,b,co] with dilation s, giving dW as [ci,kh,kw,co].
 */
function filterGradientByTransposedConv({
  scope,
  x,
  dy,
  info,
  filterShape,
}: FilterGradientInputs): TensorInfo {
  const [kh, kw, inChannels, outChannels] = filterShape;
  const { inHeight: height, inWidth: width, outHeight, outWidth } = info;
  const xT = scope.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = scope.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const { top, left } = info.padInfo;
  // Pad the far side just enough for kh×kw outputs; extra input rows (valid padding) give extra outputs
  // that are cropped below.
  const bottom = Math.max(0, kh + (outHeight - 1) * info.strideHeight - height - top);
  const right = Math.max(0, kw + (outWidth - 1) * info.strideWidth - width - left);
  const z = scope.run(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: explicitPadding(top, bottom, left, right),
      dilations: [info.strideHeight, info.strideWidth],
      dataFormat: 'NHWC',
    },
  );
  // z is [ci, zh, zw, co] with zh ≥ kh, zw ≥ kw: crop and reorder to [kh, kw, ci, co] in one small pass.
  const [, zHeight, zWidth] = z.shape as [number, number, number, number];
  const dw = scope.allocate(filterShape);
  const zValues = scope.float32(z);
  const dwValues = scope.float32(dw);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let ci = 0; ci < inChannels; ci++) {
        const from = ((ci * zHeight + i) * zWidth + j) * outChannels;
        const to = ((i * kw + j) * inChannels + ci) * outChannels;
        dwValues.set(zValues.subarray(from, from + outChannels), to);
      }
    }
  }
  return dw;
}

export const conv2DBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const typed = attrs as unknown as ConvGradientAttrs & { filterShape: [number, number, number, number] };
  requireChannelsLast('Conv2DBackpropFilter', typed.dataFormat);
  const { filterShape } = typed;
  const info = convGeometry(x.shape as Shape4, filterShape, typed, 1, false);
  return withWasmScope(backend as BackendWasm, (scope) => {
    const compute =
      chooseFilterGradient(info) === 'im2col' ? filterGradientByIm2col : filterGradientByTransposedConv;
    return scope.finish(compute({ scope, x, dy, info, filterShape }));
  });
};
