/**
 * Plumbing for imcnas's wasm kernels: run the wasm backend's own kernels on TensorInfos (no Tensor objects,
 * no engine bookkeeping, no tape) and free every intermediate once the composed kernel is done.
 *
 * Composing at this level, rather than calling `tf.*` ops inside a kernel, keeps the engine's tensor count
 * untouched and avoids the per-op overhead of the engine (scopes, tape checks) on the hot path.
 */
import { getKernel, util, type DataType, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export class WasmKernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** Runs a kernel the wasm backend registered; its output is freed at `finish` unless returned. */
  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`wasm backend has no ${kernelName} kernel to compose with`);
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs; expected one`);
    this.owned.push(out);
    return out;
  }

  /**
   * A fresh tensor on the wasm heap, freed at `finish` unless returned. Zero-filled unless the caller
   * writes every element (`zeroed: false`): malloc'd memory holds stale data.
   */
  allocate(shape: number[], dtype: DataType = 'float32', options: { zeroed?: boolean } = {}): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    if (options.zeroed ?? true) this.heap(out).fill(0);
    this.owned.push(out);
    return out;
  }

  /** Copies host values onto the wasm heap (small tensors: rearranged filters). */
  upload(values: Float32Array, shape: number[]): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32', undefined, values);
    this.owned.push(out);
    return out;
  }

  /**
   * The same data seen with another shape (a reshape without copy). Views are not owned: whoever owns the
   * data frees it.
   */
  view(tensor: TensorInfo, shape: number[]): TensorInfo {
    if (util.sizeFromShape(shape) !== util.sizeFromShape(tensor.shape)) {
      throw new Error(`cannot view [${tensor.shape}] as [${shape}]`);
    }
    return { dataId: tensor.dataId, shape, dtype: tensor.dtype };
  }

  /**
   * The tensor's elements on the wasm heap, without copy. Valid only until the next allocation (a heap
   * growth replaces the underlying buffer), so fetch it again after allocating.
   */
  heap(tensor: TensorInfo): Float32Array | Int32Array | Uint8Array {
    return this.backend.typedArrayFromHeap(tensor) as Float32Array | Int32Array | Uint8Array;
  }

  float32(tensor: TensorInfo): Float32Array {
    if (tensor.dtype !== 'float32') throw new Error(`expected float32, got ${tensor.dtype}`);
    return this.backend.typedArrayFromHeap(tensor) as Float32Array;
  }

  /** Frees every intermediate but `result`, and returns `result` with the given shape. */
  finish(result: TensorInfo, shape: number[] = result.shape): TensorInfo {
    const kept = this.owned.findIndex((t) => t.dataId === result.dataId);
    if (kept < 0) throw new Error('kernel result must be produced inside its scope');
    this.owned.splice(kept, 1);
    this.dispose();
    return this.view(result, shape);
  }

  /** For kernels with several outputs: frees every intermediate but `results`, and returns them. */
  finishMany(results: TensorInfo[]): TensorInfo[] {
    for (const result of results) {
      const kept = this.owned.findIndex((t) => t.dataId === result.dataId);
      if (kept < 0) throw new Error('kernel results must be produced inside its scope');
      this.owned.splice(kept, 1);
    }
    this.dispose();
    return results;
  }

  /** Frees every intermediate (on error paths too, so a failing kernel leaks nothing). */
  dispose(): void {
    for (const tensor of this.owned) this.backend.disposeData(tensor.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` with a scope that is always cleaned up; `body` returns the kernel's output(s). */
export function withWasmScope<Output extends TensorInfo | TensorInfo[] = TensorInfo>(
  backend: BackendWasm,
  body: (scope: WasmKernelScope) => Output,
): Output {
  const scope = new WasmKernelScope(backend);
  try {
    return body(scope);
  } catch (error) {
    scope.dispose();
    throw error;
  }
}
