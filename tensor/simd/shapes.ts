/**
 * The shape parameters of the pooling and depthwise SIMD kernels, in the order the wasm functions take them
 * after their tensor addresses. One list serves both the builders (simd/pool.ts, simd/depthwise.ts: the
 * parameter indices) and the callers (wasmSimdKernels.ts: the arguments), so the two cannot drift apart.
 */

/** Image, output and window sizes and strides: what both walks share, first. */
const WINDOW_PARAMETERS = [
  'batch',
  'inHeight',
  'inWidth',
  'channels',
  'outHeight',
  'outWidth',
  'filterHeight',
  'filterWidth',
  'strideHeight',
  'strideWidth',
] as const;

/** A pooling window's walk over an NHWC image (all i32). */
export const POOL_SHAPE_PARAMETERS = [...WINDOW_PARAMETERS, 'top', 'left'] as const;

/** The depthwise convolution's walk: the pooling walk with the dilations before the padding. */
export const DEPTHWISE_SHAPE_PARAMETERS = [
  ...WINDOW_PARAMETERS,
  'dilationHeight',
  'dilationWidth',
  'top',
  'left',
] as const;

export type PoolShape = Record<(typeof POOL_SHAPE_PARAMETERS)[number], number>;
export type DepthwiseShape = Record<(typeof DEPTHWISE_SHAPE_PARAMETERS)[number], number>;

/** The arguments for `shape`, in the order of `parameters`. */
export function shapeArguments<Name extends string>(
  parameters: readonly Name[],
  shape: Record<Name, number>,
): number[] {
  return parameters.map((parameter) => shape[parameter]);
}
