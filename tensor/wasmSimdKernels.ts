/**
 * Hand-assembled wasm SIMD loops that run on the tfjs wasm backend's memory (see wasmSimdAssembler.ts):
 *
 * - sumRows: out[c] += Σ_r x[r, c] for c a multiple of 4, accumulated in f64 (batch norm's gradient
 *   subtracts these sums from nearly equal quantities: float32 accumulation moves earlier layers'
 *   gradients ~1% off the cpu backend's, which accumulates in double).
 * - depthwiseFilterGradient: the depthwise filter gradient for multiplier 1 and channels a multiple of 4;
 *   products summed in f32x4 registers along one output row (≤ a few dozen terms), then into f64.
 *
 * - interleavePhases: the strided conv input gradient's phase interleave, 4 channels per copy.
 * - sumRowsWithProduct, channelAffine: batch norm's gradient in two passes (see wasmKernelsBatchNorm.ts).
 * - avgPoolGradient: spreads dy over each window, four channels at a time.
 * - maxPoolGradient: routes dy to each window's first maximum, four channels at a time (compare +
 *   bitselect keep the running maximum and its address).
 *
 * The builders live in simd/ (reductions, depthwise, pool; the pooling and depthwise shape parameters, in
 * the order both the builders and the calls below use, in simd/shapes). All need the module instantiated
 * against the backend's WebAssembly.Memory; `simdKernelsFor` returns null when that or SIMD is
 * unavailable, and callers keep their JavaScript paths.
 */
import type { backend_util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { buildDepthwiseFilterGradient, buildDepthwiseInputGradient } from './simd/depthwise';
import { buildAvgPoolGradient, buildMaxPoolGradient } from './simd/pool';
import {
  buildChannelAffine,
  buildInterleavePhases,
  buildSumRows,
  buildSumRowsWithProduct,
} from './simd/reductions';
import {
  DEPTHWISE_SHAPE_PARAMETERS,
  POOL_SHAPE_PARAMETERS,
  shapeArguments,
  type DepthwiseShape,
  type PoolShape,
} from './simd/shapes';
import { assembleModule } from './wasmSimdAssembler';

export type { DepthwiseShape, PoolShape } from './simd/shapes';

export interface SimdKernels {
  /** out (f64, `inner` values, accumulated into) += column sums of x (f32, rows × inner); inner % 4 == 0. */
  sumRows(xPointer: number, rows: number, inner: number, outPointer: number): void;
  /** The phase interleave of wasmKernelsConv.ts (channels % 4 == 0; dx fully written). */
  interleavePhases(
    zPointer: number,
    dxPointer: number,
    shape: {
      batch: number;
      height: number;
      width: number;
      channels: number;
      zHeight: number;
      zWidth: number;
      zChannels: number;
      strideHeight: number;
      strideWidth: number;
      startH: number;
      startW: number;
    },
  ): void;
  /** out (f64, 2·inner, accumulated into) += [Σ_r dy, Σ_r dy·x]; inner % 4 == 0. */
  sumRowsWithProduct(
    xPointer: number,
    dyPointer: number,
    rows: number,
    inner: number,
    outPointer: number,
  ): void;
  /** dx = k·dy + u·(x − m) + w per channel; coefficients: f32 [k, u, m, w] (inner values each). */
  channelAffine(
    xPointer: number,
    dyPointer: number,
    dxPointer: number,
    rows: number,
    inner: number,
    coefficientsPointer: number,
  ): void;
  /**
   * dx (zeroed, same shape as x) += dy routed to the first maximum of each pooling window; channels % 4 == 0.
   */
  maxPoolGradient(xPointer: number, dyPointer: number, dxPointer: number, shape: PoolShape): void;
  /** dx (zeroed) += dy·multiplier over each pooling window's valid inputs; channels % 4 == 0. */
  avgPoolGradient(dyPointer: number, dxPointer: number, shape: PoolShape, multiplier: number): void;
  /**
   * acc (f64, kh·kw·channels, accumulated into) += Σ x·dy per tap and channel; `owRanges` (i32 pairs per
   * kw: first output column and one past the last whose input column is inside the image).
   */
  depthwiseFilterGradient(
    xPointer: number,
    dyPointer: number,
    accPointer: number,
    owRangesPointer: number,
    shape: DepthwiseShape,
  ): void;
  /** dx (zeroed) += the depthwise input gradient (multiplier 1); owRanges as for the filter gradient. */
  depthwiseInputGradient(
    dyPointer: number,
    filterPointer: number,
    dxPointer: number,
    owRangesPointer: number,
    shape: DepthwiseShape,
  ): void;
}

/** The parts of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Duck-typed: the memory may come from another realm (jest's vm contexts), where instanceof fails. */
function isWasmMemory(value: unknown): value is WasmMemory {
  const candidate = value as Partial<WasmMemory> | null;
  return (
    typeof candidate?.grow === 'function' &&
    candidate.buffer instanceof Object &&
    'byteLength' in candidate.buffer
  );
}

interface Compiled {
  memory: WasmMemory;
  kernels: SimdKernels;
}

const compiledByBackend = new WeakMap<BackendWasm, Compiled | null>();

function backendMemory(backend: BackendWasm): WasmMemory | null {
  const module = backend.wasm as unknown as { asm?: Record<string, unknown>; wasmMemory?: unknown };
  const candidates = [module.wasmMemory, module.asm?.memory, ...Object.values(module.asm ?? {})];
  return (candidates.find(isWasmMemory) as WasmMemory | undefined) ?? null;
}

function compile(backend: BackendWasm): Compiled | null {
  const memory = backendMemory(backend);
  if (!memory) return null;
  const bytes = assembleModule([
    buildInterleavePhases(),
    buildSumRows(),
    buildSumRowsWithProduct(),
    buildChannelAffine(),
    buildDepthwiseFilterGradient(),
    buildDepthwiseInputGradient(),
    buildMaxPoolGradient(),
    buildAvgPoolGradient(),
  ]);
  if (!webAssembly.validate(bytes)) return null;
  const instance = new webAssembly.Instance(new webAssembly.Module(bytes), { env: { memory } });
  const exports = instance.exports as {
    sumRows: (...args: number[]) => void;
    depthwiseFilterGradient: (...args: number[]) => void;
    depthwiseInputGradient: (...args: number[]) => void;
    maxPoolGradient: (...args: number[]) => void;
    avgPoolGradient: (...args: number[]) => void;
    sumRowsWithProduct: (...args: number[]) => void;
    interleavePhases: (...args: number[]) => void;
    channelAffine: (...args: number[]) => void;
  };
  return {
    memory,
    kernels: {
      sumRows: (x, rows, inner, out) => exports.sumRows(x, rows, inner, out),
      interleavePhases: (z, dx, s) =>
        exports.interleavePhases(
          z,
          dx,
          s.batch,
          s.height,
          s.width,
          s.channels,
          s.zHeight,
          s.zWidth,
          s.zChannels,
          s.strideHeight,
          s.strideWidth,
          s.startH,
          s.startW,
        ),
      sumRowsWithProduct: (x, dy, rows, inner, out) => exports.sumRowsWithProduct(x, dy, rows, inner, out),
      channelAffine: (x, dy, dx, rows, inner, coefficients) =>
        exports.channelAffine(x, dy, dx, rows, inner, coefficients),
      avgPoolGradient: (dy, dx, s, multiplier) =>
        exports.avgPoolGradient(dy, dx, ...shapeArguments(POOL_SHAPE_PARAMETERS, s), multiplier),
      maxPoolGradient: (x, dy, dx, s) =>
        exports.maxPoolGradient(x, dy, dx, ...shapeArguments(POOL_SHAPE_PARAMETERS, s)),
      depthwiseFilterGradient: (x, dy, acc, owRanges, s) =>
        exports.depthwiseFilterGradient(
          x,
          dy,
          acc,
          owRanges,
          ...shapeArguments(DEPTHWISE_SHAPE_PARAMETERS, s),
        ),
      depthwiseInputGradient: (dy, filter, dx, owRanges, s) =>
        exports.depthwiseInputGradient(
          dy,
          filter,
          dx,
          owRanges,
          ...shapeArguments(DEPTHWISE_SHAPE_PARAMETERS, s),
        ),
    },
  };
}

let simdDisabled = false;

/** Turns the SIMD paths off (tests compare them with the JavaScript ones). */
export function setSimdKernelsEnabled(enabled: boolean): void {
  simdDisabled = !enabled;
}

/** The SIMD kernels bound to this backend's memory, or null (callers then use JavaScript). */
export function simdKernelsFor(backend: BackendWasm): SimdKernels | null {
  if (simdDisabled) return null;
  if (!compiledByBackend.has(backend)) {
    let compiled: Compiled | null;
    try {
      compiled = compile(backend);
    } catch {
      // A wasm engine that rejects the module (no SIMD) leaves the JavaScript paths in charge.
      compiled = null;
    }
    compiledByBackend.set(backend, compiled);
  }
  return compiledByBackend.get(backend)?.kernels ?? null;
}

/** The pooling kernels' shape of a tfjs pooling (or convolution) geometry, channels last. */
export function poolShapeOf(info: backend_util.Conv2DInfo): PoolShape {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    channels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/** The depthwise kernels' shape of a depthwise convolution's geometry (multiplier 1). */
export function depthwiseShapeOf(info: backend_util.Conv2DInfo): DepthwiseShape {
  return { ...poolShapeOf(info), dilationHeight: info.dilationHeight, dilationWidth: info.dilationWidth };
}

/** Byte address of a tensor's data on the wasm heap. */
export function heapAddress(backend: BackendWasm, dataId: object): number {
  return backend.dataIdMap.get(dataId)!.memoryOffset;
}

/**
 * Scratch memory on the wasm heap for the duration of `use` (freed after). Views of the heap must be
 * created after this allocates, since an allocation can grow (and so replace) the heap buffer.
 */
export function withHeapScratch<T>(backend: BackendWasm, bytes: number, use: (pointer: number) => T): T {
  const module = backend.wasm as unknown as { _malloc(bytes: number): number; _free(pointer: number): void };
  const pointer = module._malloc(bytes) >>> 0;
  try {
    return use(pointer);
  } finally {
    module._free(pointer);
  }
}
