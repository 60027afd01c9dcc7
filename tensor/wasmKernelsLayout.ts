/**
 * Faster wasm versions of layout and reduction kernels that training leans on.
 *
 * Profiling a training step of the reference network (batch norm after every conv) showed most of the time
 * outside convolutions: batch norm's gradient tiles a per-channel vector over the whole activation
 * (wasm's Tile: ~40 ms per call at 64×28×28×16) and reduces over batch and space (wasm's Sum/Mean first
 * transpose the activation so the reduced axes are innermost). The versions here:
 * - Tile: copies the input once, then doubles blocks with copyWithin (memcpy speed);
 * - Sum / Mean over leading axes (NHWC batch+space reductions): one double-precision pass (wasm SIMD when
 *   the channel count is a multiple of 4, JavaScript otherwise).
 * Other cases go to wasm's own kernels.
 */
import { util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withWasmScope } from './wasmKernelsScope';
import { heapAddress, simdKernelsFor, withHeapScratch } from './wasmSimdKernels';

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** Repeats out[start, start+length) so the block appears `times` times in a row. */
function repeatBlock(out: HeapArray, start: number, length: number, times: number): void {
  const total = length * times;
  let filled = length;
  while (filled < total) {
    const chunk = Math.min(filled, total - filled);
    out.copyWithin(start + filled, start, start + chunk);
    filled += chunk;
  }
}

export function tileInto(
  out: HeapArray,
  x: HeapArray,
  xShape: readonly number[],
  reps: readonly number[],
): void {
  const rank = xShape.length;
  if (rank === 0) {
    out[0] = x[0]!;
    return;
  }
  const outShape = xShape.map((size, axis) => size * reps[axis]!);
  const outStrides = util.computeStrides(outShape).concat(1);
  const xStrides = util.computeStrides(xShape as number[]).concat(1);
  const fill = (axis: number, outOffset: number, xOffset: number): void => {
    const size = xShape[axis]!;
    if (axis === rank - 1) {
      for (let i = 0; i < size; i++) out[outOffset + i] = x[xOffset + i]!;
    } else {
      for (let i = 0; i < size; i++)
        fill(axis + 1, outOffset + i * outStrides[axis]!, xOffset + i * xStrides[axis]!);
    }
    repeatBlock(out, outOffset, size * outStrides[axis]!, reps[axis]!);
  };
  fill(0, 0, 0);
}

export function makeTile(fallback: KernelFunc | null): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const reps = (args.attrs as { reps: number[] }).reps;
    if (x.dtype === 'string' || util.sizeFromShape(x.shape) === 0) {
      if (!fallback) throw new Error('Tile: no fallback for this input');
      return fallback(args);
    }
    return withWasmScope(args.backend as BackendWasm, (scope) => {
      const out = scope.allocate(
        x.shape.map((size, axis) => size * reps[axis]!),
        x.dtype,
      );
      tileInto(scope.heap(out), scope.heap(x), x.shape, reps);
      return scope.finish(out);
    });
  };
}

/** The number of leading axes `axes` covers exactly ([0..k)), or -1 when it is another pattern. */
function leadingAxesCount(axes: number[]): number {
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((axis, i) => axis === i) ? sorted.length : -1;
}

/** Rows per cache-resident chunk in `sumLeadingRows`. */
const SUM_CHUNK_ROWS = 256;

/**
 * sums[c] = Σ_r x[r·inner + c] in double precision. Column by column inside row chunks that stay in cache,
 * with four independent accumulators: ~3× faster than the row-major loop. Double precision matters: batch
 * norm's gradient subtracts these sums from nearly equal quantities, and a float32 reduction (XNNPACK's
 * matrix product by a row of ones is 15× faster still) moved the reference network's first-layer gradients
 * ~1% away from the cpu backend's, which accumulates in double.
 */
export function sumLeadingRows(x: Float32Array, rows: number, inner: number): Float64Array {
  const sums = new Float64Array(inner);
  for (let chunkStart = 0; chunkStart < rows; chunkStart += SUM_CHUNK_ROWS) {
    const end = Math.min(rows, chunkStart + SUM_CHUNK_ROWS) * inner;
    const stride4 = 4 * inner;
    for (let i = 0; i < inner; i++) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let offset = chunkStart * inner + i;
      for (; offset + 3 * inner < end; offset += stride4) {
        a0 += x[offset]!;
        a1 += x[offset + inner]!;
        a2 += x[offset + 2 * inner]!;
        a3 += x[offset + 3 * inner]!;
      }
      for (; offset < end; offset += inner) a0 += x[offset]!;
      sums[i] += a0 + a1 + a2 + a3;
    }
  }
  return sums;
}

/** Sum (or mean) over leading axes (see sumLeadingRows); other reductions go to wasm's kernels. */
function makeLeadingAxesReduction(kind: 'sum' | 'mean', fallback: KernelFunc | null): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(axis, x.shape);
    const leading = leadingAxesCount(axes);
    const reducesLeadingAxesOnly = leading > 0 && leading < x.shape.length;
    if (x.dtype !== 'float32' || !reducesLeadingAxesOnly || util.sizeFromShape(x.shape) === 0) {
      if (!fallback) throw new Error(`${kind}: no fallback for this input`);
      return fallback(args);
    }
    const rows = util.sizeFromShape(x.shape.slice(0, leading));
    const innerShape = x.shape.slice(leading);
    const inner = util.sizeFromShape(innerShape);
    const outShape = keepDims ? [...x.shape.slice(0, leading).map(() => 1), ...innerShape] : innerShape;
    const backend = args.backend as BackendWasm;
    return withWasmScope(backend, (scope) => {
      const out = scope.allocate(outShape, 'float32');
      const simd = inner % 4 === 0 ? simdKernelsFor(backend) : null;
      const sums = simd
        ? withHeapScratch(backend, inner * 8, (pointer) => {
            const accumulators = new Float64Array(scope.float32(out).buffer, pointer, inner);
            accumulators.fill(0);
            simd.sumRows(heapAddress(backend, x.dataId), rows, inner, pointer);
            return Float64Array.from(accumulators);
          })
        : sumLeadingRows(scope.float32(x), rows, inner);
      if (kind === 'mean') for (let i = 0; i < inner; i++) sums[i] /= rows;
      scope.float32(out).set(sums);
      return scope.finish(out);
    });
  };
}

export const makeSum = (fallback: KernelFunc | null): KernelFunc => makeLeadingAxesReduction('sum', fallback);
export const makeMean = (fallback: KernelFunc | null): KernelFunc =>
  makeLeadingAxesReduction('mean', fallback);

/**
 * Identity without a copy. The engine clones every input a gradient will need when it records an op
 * (`saveTensorsForBackwardMode`), and wasm's Identity copies the whole buffer each time (~5 ms per
 * reference-network step). tfjs tensors are immutable — kernels write only to their outputs, variables
 * change by swapping data ids — so sharing the data with one more reference is safe, and it is what the
 * cpu backend does.
 */
export function makeIdentity(fallback: KernelFunc | null): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') {
      if (!fallback) throw new Error('Identity: no fallback for strings');
      return fallback(args);
    }
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
