/**
 * Training kernels imcnas registers for the TensorFlow.js wasm backend.
 *
 * The wasm backend runs forward passes fast (XNNPACK) but cannot train a CNN: the gradient paths of
 * conv2d, depthwiseConv2d and gather reach kernels it does not have. Found empirically by running training
 * steps of models built from every op the product uses (conv2d, depthwise/separable conv, fused conv and
 * matMul, batch norm via moments, relu/relu6, max/avg pool, gather, clip, customGrad straight-through
 * estimators, tfjs-layers fit) with a probe that recorded each kernel wasm lacked:
 *
 * - Conv2DBackpropFilter — dW of conv2d / fused conv2d / separableConv2d's pointwise step;
 * - DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput — both gradients of
 *   depthwiseConv2d / fused depthwise / separableConv2d;
 * - UnsortedSegmentSum — the gradient of gather (indexing inside a model);
 * - ImcnasBatchNormTrainingGrad — not a tfjs kernel: the two-pass gradient of imcnas's own
 *   `batchNormTraining` op (wasmKernelsBatchNorm.ts); backends without it run the composed gradient.
 *
 * And replacements for speed, found by profiling training steps (wasm's own stay as fallbacks):
 * - Conv2DBackpropInput — wasm's own is a scalar loop ~8× slower than its forward convolution; ours runs the
 *   backend's forward convolution;
 * - MaxPoolGrad, AvgPoolGrad — wasm's rescan each window per input element (wasm SIMD here);
 * - Tile, Sum, Mean — batch norm's gradient tiles per-channel vectors and reduces over batch and space,
 *   which wasm does with full transposes (see wasmKernelsLayout.ts);
 * - Identity — wasm's copies the buffer, and the engine clones every saved input of every recorded op.
 *
 * Everything else on those paths (Step, Relu6 mask ops, batch-norm algebra, Transpose, Select,
 * BatchMatMul, …) wasm already has.
 */
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BATCH_NORM_TRAINING_GRAD } from './batchNorm';
import { batchNormTrainingGrad } from './wasmKernelsBatchNorm';
import { conv2DBackpropFilter, makeConv2DBackpropInput } from './wasmKernelsConv';
import {
  depthwiseConv2dNativeBackpropFilter,
  depthwiseConv2dNativeBackpropInput,
} from './wasmKernelsDepthwise';
import { makeIdentity, makeMean, makeSum, makeTile } from './wasmKernelsLayout';
import { makeAvgPoolGrad, makeMaxPoolGrad } from './wasmKernelsPool';
import { withWasmScope } from './wasmKernelsScope';

/** Kernels added because wasm lacks them. */
export const ADDED_WASM_KERNELS = [
  BATCH_NORM_TRAINING_GRAD,
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;

/** Kernels wasm has that imcnas replaces with faster ones (wasm's own stay as fallback). */
export const REPLACED_WASM_KERNELS = [
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'AvgPoolGrad',
  'Tile',
  'Sum',
  'Mean',
  'Identity',
] as const;

/** out[segmentIds[i], …] += x[i, …]; ids outside [0, numSegments) are dropped, as in TensorFlow. */
export const unsortedSegmentSum: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  return withWasmScope(backend as BackendWasm, (scope) => {
    const out = scope.allocate([numSegments, ...innerShape], x.dtype);
    const outValues = scope.heap(out);
    const xValues = scope.heap(x);
    const ids = scope.heap(segmentIds);
    for (let i = 0; i < rows; i++) {
      const segment = ids[i]!;
      if (segment < 0 || segment >= numSegments) continue;
      const from = i * inner;
      const to = segment * inner;
      for (let j = 0; j < inner; j++) outValues[to + j] += xValues[from + j]!;
    }
    return scope.finish(out);
  });
};

let registered: string[] | null = null;

/**
 * Registers the training kernels under the wasm backend (idempotent). Returns the names of the kernels
 * imcnas provides, for the backend report.
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered) return registered;
  const original = (kernelName: string): KernelFunc | null =>
    getKernel(kernelName, 'wasm')?.kernelFunc ?? null;
  const kernels: Record<
    (typeof ADDED_WASM_KERNELS)[number] | (typeof REPLACED_WASM_KERNELS)[number],
    KernelFunc
  > = {
    [BATCH_NORM_TRAINING_GRAD]: batchNormTrainingGrad,
    Conv2DBackpropFilter: conv2DBackpropFilter,
    DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInput,
    UnsortedSegmentSum: unsortedSegmentSum,
    Conv2DBackpropInput: makeConv2DBackpropInput(original('Conv2DBackpropInput')),
    MaxPoolGrad: makeMaxPoolGrad(original('MaxPoolGrad')),
    AvgPoolGrad: makeAvgPoolGrad(original('AvgPoolGrad')),
    Tile: makeTile(original('Tile')),
    Sum: makeSum(original('Sum')),
    Mean: makeMean(original('Mean')),
    Identity: makeIdentity(original('Identity')),
  };
  for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
    if (getKernel(kernelName, 'wasm')) unregisterKernel(kernelName, 'wasm');
    registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  registered = Object.keys(kernels);
  return registered;
}
