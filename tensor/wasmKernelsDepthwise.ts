/**
 * Gradients of a depthwise 2-D convolution for the wasm backend, which has neither.
 *
 * Forward (tfjs convention): y[b,oh,ow,c·M+m] = Σ_{kh,kw} x[b, oh·sh+kh·dh−top, ow·sw+kw·dw−left, c] ·
 * f[kh,kw,c,m], with M the depth multiplier. Both gradients are a few multiply-adds per element of dy
 * (memory bound, unlike a dense convolution), so a direct pass over the wasm heap is as fast as composing
 * backend kernels that would each copy whole activations (transposes, phase interleaving), and it covers
 * every stride/dilation/padding/multiplier combination the cpu backend accepts.
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withWasmScope } from './wasmKernelsScope';

type ConvPad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: ConvPad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function depthwiseInfo(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: DepthwiseAttrs,
): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/** Valid taps along one axis: for output row o, the taps k whose input row o·s + k·d − pad is in range. */
function tapRange(
  o: number,
  stride: number,
  dilation: number,
  pad: number,
  size: number,
  taps: number,
): [number, number] {
  const origin = o * stride - pad;
  // First k with origin + k·d ≥ 0, last k with origin + k·d ≤ size − 1.
  const first = origin >= 0 ? 0 : Math.ceil(-origin / dilation);
  const last = Math.min(taps - 1, Math.floor((size - 1 - origin) / dilation));
  return [first, last];
}

export const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const typed = attrs as unknown as DepthwiseAttrs & { filterShape: [number, number, number, number] };
  const info = depthwiseInfo(x.shape as [number, number, number, number], typed.filterShape, typed);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  return withWasmScope(backend as BackendWasm, (scope) => {
    const dw = scope.allocate(typed.filterShape);
    const xValues = scope.float32(x);
    const dyValues = scope.float32(dy);
    // Float64 accumulators: each weight sums batch·outHeight·outWidth products, and the result must match
    // the cpu backend's to 1e-4 relative even for large batches.
    const sums = new Float64Array(filterHeight * filterWidth * outChannels);
    for (let b = 0; b < batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const [khFirst, khLast] = tapRange(oh, strideHeight, dilationHeight, top, inHeight, filterHeight);
        for (let ow = 0; ow < outWidth; ow++) {
          const [kwFirst, kwLast] = tapRange(ow, strideWidth, dilationWidth, left, inWidth, filterWidth);
          const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          for (let kh = khFirst; kh <= khLast; kh++) {
            const ih = oh * strideHeight + kh * dilationHeight - top;
            for (let kw = kwFirst; kw <= kwLast; kw++) {
              const iw = ow * strideWidth + kw * dilationWidth - left;
              const xBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
              const sumBase = (kh * filterWidth + kw) * outChannels;
              if (multiplier === 1) {
                for (let c = 0; c < inChannels; c++) {
                  sums[sumBase + c] += xValues[xBase + c]! * dyValues[dyBase + c]!;
                }
              } else {
                for (let c = 0; c < inChannels; c++) {
                  const xv = xValues[xBase + c]!;
                  const cm = c * multiplier;
                  for (let m = 0; m < multiplier; m++)
                    sums[sumBase + cm + m] += xv * dyValues[dyBase + cm + m]!;
                }
              }
            }
          }
        }
      }
    }
    scope.float32(dw).set(sums);
    return scope.finish(dw);
  });
};

export const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const typed = attrs as unknown as DepthwiseAttrs & { inputShape: [number, number, number, number] };
  const info = depthwiseInfo(typed.inputShape, filter.shape as [number, number, number, number], typed);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  return withWasmScope(backend as BackendWasm, (scope) => {
    const dx = scope.allocate(typed.inputShape);
    const dxValues = scope.float32(dx);
    const dyValues = scope.float32(dy);
    const filterValues = scope.float32(filter);
    // Scatter form: every dy element adds its contribution to the inputs its window covered. Each dx
    // element receives at most kh·kw·M terms, so float32 accumulation stays accurate.
    for (let b = 0; b < batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const [khFirst, khLast] = tapRange(oh, strideHeight, dilationHeight, top, inHeight, filterHeight);
        for (let ow = 0; ow < outWidth; ow++) {
          const [kwFirst, kwLast] = tapRange(ow, strideWidth, dilationWidth, left, inWidth, filterWidth);
          const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          for (let kh = khFirst; kh <= khLast; kh++) {
            const ih = oh * strideHeight + kh * dilationHeight - top;
            for (let kw = kwFirst; kw <= kwLast; kw++) {
              const iw = ow * strideWidth + kw * dilationWidth - left;
              const dxBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
              const filterBase = (kh * filterWidth + kw) * outChannels;
              if (multiplier === 1) {
                for (let c = 0; c < inChannels; c++) {
                  dxValues[dxBase + c] += dyValues[dyBase + c]! * filterValues[filterBase + c]!;
                }
              } else {
                for (let c = 0; c < inChannels; c++) {
                  const cm = c * multiplier;
                  let sum = 0;
                  for (let m = 0; m < multiplier; m++) {
                    sum += dyValues[dyBase + cm + m]! * filterValues[filterBase + cm + m]!;
                  }
                  dxValues[dxBase + c] += sum;
                }
              }
            }
          }
        }
      }
    }
    return scope.finish(dx);
  });
};
