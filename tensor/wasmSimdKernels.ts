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
 * All need the module instantiated against the backend's WebAssembly.Memory; `simdKernelsFor` returns
 * null when that or SIMD is unavailable, and callers keep their JavaScript paths.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { F32, FunctionBuilder, I32, V128, assembleModule, type ValueType } from './wasmSimdAssembler';

export interface DepthwiseShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  top: number;
  left: number;
}

export interface PoolShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  top: number;
  left: number;
}

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

/** Adds the f32x4 in `vector` into the two f64x2 at the address in `pointer` (low lanes, then high lanes). */
function accumulateF32x4IntoF64(f: FunctionBuilder, pointer: number, vector: number): void {
  f.get(pointer).get(pointer).v128Load(0).get(vector).f64x2PromoteLowF32x4().f64x2Add().v128Store(0);
  f.get(pointer)
    .get(pointer)
    .v128Load(16)
    .get(vector)
    .get(vector)
    .f32x4HighToLow()
    .f64x2PromoteLowF32x4()
    .f64x2Add()
    .v128Store(16);
}

/**
 * dx[b,h,w,c] = z[b, ⌊(h+startH)/sh⌋, ⌊(w+startW)/sw⌋, ((h+startH) mod sh · sw + (w+startW) mod sw)·C + c]:
 * the phase interleave of the strided backprop-input (wasmKernelsConv.ts), four channels per copy.
 */
export function buildInterleavePhases(): FunctionBuilder {
  const names = [
    'z',
    'dx',
    'batch',
    'height',
    'width',
    'channels',
    'zHeight',
    'zWidth',
    'zChannels',
    'strideHeight',
    'strideWidth',
    'startH',
    'startW',
  ] as const;
  const p = Object.fromEntries(names.map((n, i) => [n, i])) as Record<(typeof names)[number], number>;
  const f = new FunctionBuilder(
    'interleavePhases',
    names.map((): ValueType => I32),
  );
  const b = f.local(I32);
  const h = f.local(I32);
  const w = f.local(I32);
  const c = f.local(I32);
  const shifted = f.local(I32);
  const zRow = f.local(I32);
  const phaseRow = f.local(I32);
  const from = f.local(I32);
  const to = f.local(I32);
  const channelBytes = f.local(I32);
  f.get(p.channels).i32(2).shl().set(channelBytes);
  f.get(p.dx).set(to);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(p.batch),
    1,
    () => {
      f.forRange(
        h,
        () => f.i32(0),
        () => f.get(p.height),
        1,
        () => {
          f.get(h).get(p.startH).add().set(shifted);
          f.get(b)
            .get(p.zHeight)
            .mul()
            .get(shifted)
            .get(p.strideHeight)
            .divS()
            .add()
            .get(p.zWidth)
            .mul()
            .set(zRow);
          f.get(shifted).get(p.strideHeight).remS().get(p.strideWidth).mul().set(phaseRow);
          f.forRange(
            w,
            () => f.i32(0),
            () => f.get(p.width),
            1,
            () => {
              f.get(w).get(p.startW).add().set(shifted);
              // from = z + ((zRow + ⌊ww/sw⌋)·zChannels + (phaseRow + ww mod sw)·channels)·4
              f.get(p.z);
              f.get(zRow).get(shifted).get(p.strideWidth).divS().add().get(p.zChannels).mul();
              f.get(phaseRow).get(shifted).get(p.strideWidth).remS().add().get(p.channels).mul();
              f.add().i32(2).shl().add().set(from);
              f.forRange(
                c,
                () => f.i32(0),
                () => f.get(channelBytes),
                16,
                () => {
                  f.get(to).get(from).get(c).add().v128Load(0).v128Store(0);
                  f.get(to).i32(16).add().set(to);
                },
              );
            },
          );
        },
      );
    },
  );
  return f;
}

/**
 * For batch norm's gradient, in one pass over x and dy (rows × inner, inner % 4 == 0): out[0..inner) +=
 * Σ_r dy and out[inner..2·inner) += Σ_r dy·x, in f64.
 */
export function buildSumRowsWithProduct(): FunctionBuilder {
  const x = 0;
  const dy = 1;
  const rows = 2;
  const inner = 3;
  const out = 4;
  const f = new FunctionBuilder('sumRowsWithProduct', [I32, I32, I32, I32, I32]);
  const rowBytes = f.local(I32);
  const end = f.local(I32);
  const row = f.local(I32);
  const rowEnd = f.local(I32);
  const q = f.local(I32);
  const offset = f.local(I32);
  const sumPtr = f.local(I32);
  const productPtr = f.local(I32);
  const gradient = f.local(V128);
  const product = f.local(V128);
  f.get(inner).i32(2).shl().set(rowBytes);
  f.get(dy).get(rows).get(rowBytes).mul().add().set(end);
  f.forRange(
    row,
    () => f.get(dy),
    () => f.get(end),
    () => f.get(rowBytes),
    () => {
      f.get(row).get(rowBytes).add().set(rowEnd);
      f.get(out).set(sumPtr);
      f.get(out).get(inner).i32(3).shl().add().set(productPtr);
      // offset = x − dy: the same element of x is at q + offset.
      f.get(x).get(dy).sub().set(offset);
      f.forRange(
        q,
        () => f.get(row),
        () => f.get(rowEnd),
        16,
        () => {
          f.get(q).v128Load(0).set(gradient);
          f.get(gradient).get(q).get(offset).add().v128Load(0).f32x4Mul().set(product);
          accumulateF32x4IntoF64(f, sumPtr, gradient);
          accumulateF32x4IntoF64(f, productPtr, product);
          f.get(sumPtr).i32(32).add().set(sumPtr);
          f.get(productPtr).i32(32).add().set(productPtr);
        },
      );
    },
  );
  return f;
}

/**
 * dx = k·dy + u·(x − m) + w per channel (rows × inner, inner % 4 == 0), with coefficients k, u, m, w as
 * four f32 arrays of `inner` values at `coefficients`: batch norm's input gradient in one pass. (x − m)
 * first, so a large mean does not cancel away float32 precision.
 */
export function buildChannelAffine(): FunctionBuilder {
  const x = 0;
  const dy = 1;
  const dx = 2;
  const rows = 3;
  const inner = 4;
  const coefficients = 5;
  const f = new FunctionBuilder('channelAffine', [I32, I32, I32, I32, I32, I32]);
  const rowBytes = f.local(I32);
  const end = f.local(I32);
  const row = f.local(I32);
  const rowEnd = f.local(I32);
  const q = f.local(I32);
  const coefficient = f.local(I32);
  const xOffset = f.local(I32);
  const dxOffset = f.local(I32);
  f.get(inner).i32(2).shl().set(rowBytes);
  f.get(dy).get(rows).get(rowBytes).mul().add().set(end);
  f.get(x).get(dy).sub().set(xOffset);
  f.get(dx).get(dy).sub().set(dxOffset);
  f.forRange(
    row,
    () => f.get(dy),
    () => f.get(end),
    () => f.get(rowBytes),
    () => {
      f.get(row).get(rowBytes).add().set(rowEnd);
      f.get(coefficients).set(coefficient);
      f.forRange(
        q,
        () => f.get(row),
        () => f.get(rowEnd),
        16,
        () => {
          // dx[q] = k·dy[q] + u·(x[q] − m) + w, with k, u, m, w at coefficient + 0, 1, 2, 3 × inner·4 bytes.
          f.get(q).get(dxOffset).add();
          f.get(coefficient).v128Load(0).get(q).v128Load(0).f32x4Mul();
          f.get(coefficient).get(rowBytes).add().v128Load(0);
          f.get(q)
            .get(xOffset)
            .add()
            .v128Load(0)
            .get(coefficient)
            .get(rowBytes)
            .i32(1)
            .shl()
            .add()
            .v128Load(0);
          f.f32x4Sub().f32x4Mul().f32x4Add();
          f.get(coefficient).get(rowBytes).i32(3).mul().add().v128Load(0).f32x4Add();
          f.v128Store(0);
          f.get(coefficient).i32(16).add().set(coefficient);
        },
      );
    },
  );
  return f;
}

export function buildSumRows(): FunctionBuilder {
  const x = 0;
  const rows = 1;
  const inner = 2;
  const out = 3;
  const f = new FunctionBuilder('sumRows', [I32, I32, I32, I32]);
  const rowBytes = f.local(I32);
  const end = f.local(I32);
  const row = f.local(I32);
  const rowEnd = f.local(I32);
  const p = f.local(I32);
  const acc = f.local(I32);
  const vector = f.local(V128);
  f.get(inner).i32(2).shl().set(rowBytes);
  f.get(x).get(rows).get(rowBytes).mul().add().set(end);
  f.forRange(
    row,
    () => f.get(x),
    () => f.get(end),
    () => f.get(rowBytes),
    () => {
      f.get(row).get(rowBytes).add().set(rowEnd);
      f.get(out).set(acc);
      f.forRange(
        p,
        () => f.get(row),
        () => f.get(rowEnd),
        16,
        () => {
          f.get(p).v128Load(0).set(vector);
          accumulateF32x4IntoF64(f, acc, vector);
          f.get(acc).i32(32).add().set(acc);
        },
      );
    },
  );
  return f;
}

export function buildDepthwiseFilterGradient(): FunctionBuilder {
  // Parameters (all i32).
  const names = [
    'x',
    'dy',
    'acc',
    'owRanges',
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
    'dilationHeight',
    'dilationWidth',
    'top',
    'left',
  ] as const;
  const p = Object.fromEntries(names.map((n, i) => [n, i])) as Record<(typeof names)[number], number>;
  const f = new FunctionBuilder(
    'depthwiseFilterGradient',
    names.map(() => I32),
  );
  const b = f.local(I32);
  const oh = f.local(I32);
  const kh = f.local(I32);
  const kw = f.local(I32);
  const ih = f.local(I32);
  const c = f.local(I32);
  const ow = f.local(I32);
  const owEnd = f.local(I32);
  const channelBytes = f.local(I32);
  const xRow = f.local(I32); // byte address of x[b, ih, 0, 0]
  const dyRow = f.local(I32); // byte address of dy[b, oh, 0, 0]
  const xPtr = f.local(I32);
  const dyPtr = f.local(I32);
  const xStep = f.local(I32);
  const accPtr = f.local(I32);
  const sum = f.local(V128);

  f.get(p.channels).i32(2).shl().set(channelBytes);
  f.get(p.strideWidth).get(channelBytes).mul().set(xStep);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(p.batch),
    1,
    () => {
      f.forRange(
        oh,
        () => f.i32(0),
        () => f.get(p.outHeight),
        1,
        () => {
          // dyRow = dy + ((b·outHeight + oh)·outWidth)·channelBytes
          f.get(p.dy)
            .get(b)
            .get(p.outHeight)
            .mul()
            .get(oh)
            .add()
            .get(p.outWidth)
            .mul()
            .get(channelBytes)
            .mul()
            .add();
          f.set(dyRow);
          f.forRange(
            kh,
            () => f.i32(0),
            () => f.get(p.filterHeight),
            1,
            () => {
              // ih = oh·strideHeight + kh·dilationHeight − top; skip rows outside the image.
              f.get(oh)
                .get(p.strideHeight)
                .mul()
                .get(kh)
                .get(p.dilationHeight)
                .mul()
                .add()
                .get(p.top)
                .sub()
                .set(ih);
              f.when(
                () => f.get(ih).get(p.inHeight).ltU(),
                () => {
                  f.get(p.x)
                    .get(b)
                    .get(p.inHeight)
                    .mul()
                    .get(ih)
                    .add()
                    .get(p.inWidth)
                    .mul()
                    .get(channelBytes)
                    .mul()
                    .add();
                  f.set(xRow);
                  f.forRange(
                    kw,
                    () => f.i32(0),
                    () => f.get(p.filterWidth),
                    1,
                    () => {
                      // Valid output columns for this tap, precomputed by the caller.
                      f.get(p.owRanges).get(kw).i32(3).shl().add().i32Load(4).set(owEnd);
                      f.forRange(
                        c,
                        () => f.i32(0),
                        () => f.get(channelBytes),
                        16,
                        () => {
                          f.i32(0).i32x4Splat().set(sum); // all-zero bits: 0.0f in every lane
                          f.get(p.owRanges).get(kw).i32(3).shl().add().i32Load(0).set(ow);
                          // xPtr = xRow + (ow·strideWidth + kw·dilationWidth − left)·channelBytes + c
                          f.get(xRow);
                          f.get(ow)
                            .get(p.strideWidth)
                            .mul()
                            .get(kw)
                            .get(p.dilationWidth)
                            .mul()
                            .add()
                            .get(p.left)
                            .sub();
                          f.get(channelBytes).mul().add().get(c).add().set(xPtr);
                          f.get(dyRow).get(ow).get(channelBytes).mul().add().get(c).add().set(dyPtr);
                          f.forRange(
                            ow,
                            () => f.get(ow),
                            () => f.get(owEnd),
                            1,
                            () => {
                              f.get(sum)
                                .get(xPtr)
                                .v128Load(0)
                                .get(dyPtr)
                                .v128Load(0)
                                .f32x4Mul()
                                .f32x4Add()
                                .set(sum);
                              f.get(xPtr).get(xStep).add().set(xPtr);
                              f.get(dyPtr).get(channelBytes).add().set(dyPtr);
                            },
                          );
                          // accPtr = acc + ((kh·filterWidth + kw)·channels)·8 + c·2
                          f.get(p.acc)
                            .get(kh)
                            .get(p.filterWidth)
                            .mul()
                            .get(kw)
                            .add()
                            .get(p.channels)
                            .mul()
                            .i32(3)
                            .shl();
                          f.add().get(c).i32(1).shl().add().set(accPtr);
                          accumulateF32x4IntoF64(f, accPtr, sum);
                        },
                      );
                    },
                  );
                },
              );
            },
          );
        },
      );
    },
  );
  return f;
}

/** `target = a < b ? a : b` (signed), or the larger with `max`. */
function minMax(f: FunctionBuilder, target: number, a: () => void, b: () => void, kind: 'min' | 'max'): void {
  a();
  b();
  a();
  b();
  if (kind === 'min') f.ltS();
  else f.gtS();
  f.select().set(target);
}

export function buildMaxPoolGradient(): FunctionBuilder {
  const names = [
    'x',
    'dy',
    'dx',
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
    'top',
    'left',
  ] as const;
  const p = Object.fromEntries(names.map((n, i) => [n, i])) as Record<(typeof names)[number], number>;
  const f = new FunctionBuilder(
    'maxPoolGradient',
    names.map(() => I32),
  );
  const b = f.local(I32);
  const oh = f.local(I32);
  const ow = f.local(I32);
  const h = f.local(I32);
  const w = f.local(I32);
  const c = f.local(I32);
  const start = f.local(I32);
  const hFirst = f.local(I32);
  const hEnd = f.local(I32);
  const wFirst = f.local(I32);
  const wEnd = f.local(I32);
  const channelBytes = f.local(I32);
  const address = f.local(I32);
  const dyAddress = f.local(I32);
  const target = f.local(I32);
  const best = f.local(V128);
  const bestAddress = f.local(V128);
  const value = f.local(V128);
  const mask = f.local(V128);
  const gradient = f.local(V128);

  f.get(p.channels).i32(2).shl().set(channelBytes);
  f.get(p.dy).set(dyAddress);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(p.batch),
    1,
    () => {
      f.forRange(
        oh,
        () => f.i32(0),
        () => f.get(p.outHeight),
        1,
        () => {
          f.get(oh).get(p.strideHeight).mul().get(p.top).sub().set(start);
          minMax(
            f,
            hFirst,
            () => f.get(start),
            () => f.i32(0),
            'max',
          );
          minMax(
            f,
            hEnd,
            () => f.get(start).get(p.filterHeight).add(),
            () => f.get(p.inHeight),
            'min',
          );
          f.forRange(
            ow,
            () => f.i32(0),
            () => f.get(p.outWidth),
            1,
            () => {
              f.get(ow).get(p.strideWidth).mul().get(p.left).sub().set(start);
              minMax(
                f,
                wFirst,
                () => f.get(start),
                () => f.i32(0),
                'max',
              );
              minMax(
                f,
                wEnd,
                () => f.get(start).get(p.filterWidth).add(),
                () => f.get(p.inWidth),
                'min',
              );
              f.forRange(
                c,
                () => f.i32(0),
                () => f.get(channelBytes),
                16,
                () => {
                  f.f32(-Infinity).f32x4Splat().set(best);
                  // Address 0 never holds a tensor: it marks "no maximum yet" (an empty or all −∞ window).
                  f.i32(0).i32x4Splat().set(bestAddress);
                  f.forRange(
                    h,
                    () => f.get(hFirst),
                    () => f.get(hEnd),
                    1,
                    () => {
                      f.forRange(
                        w,
                        () => f.get(wFirst),
                        () => f.get(wEnd),
                        1,
                        () => {
                          f.get(p.x)
                            .get(b)
                            .get(p.inHeight)
                            .mul()
                            .get(h)
                            .add()
                            .get(p.inWidth)
                            .mul()
                            .get(w)
                            .add();
                          f.get(channelBytes).mul().add().get(c).add().set(address);
                          f.get(address).v128Load(0).set(value);
                          // Strictly greater: the first maximum in window order wins, as on the cpu backend.
                          f.get(value).get(best).f32x4Gt().set(mask);
                          f.get(value).get(best).get(mask).v128Bitselect().set(best);
                          f.get(address)
                            .i32x4Splat()
                            .get(bestAddress)
                            .get(mask)
                            .v128Bitselect()
                            .set(bestAddress);
                        },
                      );
                    },
                  );
                  f.get(dyAddress).get(c).add().v128Load(0).set(gradient);
                  for (let lane = 0; lane < 4; lane++) {
                    f.get(bestAddress).i32x4ExtractLane(lane).set(target);
                    f.when(
                      () => f.get(target),
                      () => {
                        // dx address = target − x + dx + lane·4
                        f.get(target)
                          .get(p.x)
                          .sub()
                          .get(p.dx)
                          .add()
                          .i32(lane * 4)
                          .add()
                          .set(target);
                        f.get(target)
                          .get(target)
                          .f32Load(0)
                          .get(gradient)
                          .f32x4ExtractLane(lane)
                          .f32Add()
                          .f32Store(0);
                      },
                    );
                  }
                },
              );
              f.get(dyAddress).get(channelBytes).add().set(dyAddress);
            },
          );
        },
      );
    },
  );
  return f;
}

/**
 * dx[b, ih, iw, c] += dy[b, oh, ow, c]·multiplier for every input the window covered (scatter form,
 * four channels at a time).
 */
export function buildAvgPoolGradient(): FunctionBuilder {
  const names = [
    'dy',
    'dx',
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
    'top',
    'left',
  ] as const;
  const p = Object.fromEntries(names.map((n, i) => [n, i])) as Record<(typeof names)[number], number>;
  const multiplier = names.length;
  const f = new FunctionBuilder('avgPoolGradient', [...names.map((): ValueType => I32), F32]);
  const b = f.local(I32);
  const oh = f.local(I32);
  const ow = f.local(I32);
  const h = f.local(I32);
  const w = f.local(I32);
  const c = f.local(I32);
  const start = f.local(I32);
  const hFirst = f.local(I32);
  const hEnd = f.local(I32);
  const wFirst = f.local(I32);
  const wEnd = f.local(I32);
  const channelBytes = f.local(I32);
  const address = f.local(I32);
  const dyAddress = f.local(I32);
  const gradient = f.local(V128);

  f.get(p.channels).i32(2).shl().set(channelBytes);
  f.get(p.dy).set(dyAddress);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(p.batch),
    1,
    () => {
      f.forRange(
        oh,
        () => f.i32(0),
        () => f.get(p.outHeight),
        1,
        () => {
          f.get(oh).get(p.strideHeight).mul().get(p.top).sub().set(start);
          minMax(
            f,
            hFirst,
            () => f.get(start),
            () => f.i32(0),
            'max',
          );
          minMax(
            f,
            hEnd,
            () => f.get(start).get(p.filterHeight).add(),
            () => f.get(p.inHeight),
            'min',
          );
          f.forRange(
            ow,
            () => f.i32(0),
            () => f.get(p.outWidth),
            1,
            () => {
              f.get(ow).get(p.strideWidth).mul().get(p.left).sub().set(start);
              minMax(
                f,
                wFirst,
                () => f.get(start),
                () => f.i32(0),
                'max',
              );
              minMax(
                f,
                wEnd,
                () => f.get(start).get(p.filterWidth).add(),
                () => f.get(p.inWidth),
                'min',
              );
              f.forRange(
                c,
                () => f.i32(0),
                () => f.get(channelBytes),
                16,
                () => {
                  f.get(dyAddress)
                    .get(c)
                    .add()
                    .v128Load(0)
                    .get(multiplier)
                    .f32x4Splat()
                    .f32x4Mul()
                    .set(gradient);
                  f.forRange(
                    h,
                    () => f.get(hFirst),
                    () => f.get(hEnd),
                    1,
                    () => {
                      f.forRange(
                        w,
                        () => f.get(wFirst),
                        () => f.get(wEnd),
                        1,
                        () => {
                          f.get(p.dx)
                            .get(b)
                            .get(p.inHeight)
                            .mul()
                            .get(h)
                            .add()
                            .get(p.inWidth)
                            .mul()
                            .get(w)
                            .add();
                          f.get(channelBytes).mul().add().get(c).add().set(address);
                          f.get(address).get(address).v128Load(0).get(gradient).f32x4Add().v128Store(0);
                        },
                      );
                    },
                  );
                },
              );
              f.get(dyAddress).get(channelBytes).add().set(dyAddress);
            },
          );
        },
      );
    },
  );
  return f;
}

/**
 * dx[b, ih, iw, c] += dy[b, oh, ow, c]·f[kh, kw, c] over every tap (scatter form, multiplier 1): for each
 * (b, oh, kh, kw) and 4 channels, one pass along the output row with the filter vector held in a register.
 */
export function buildDepthwiseInputGradient(): FunctionBuilder {
  const names = [
    'dy',
    'filter',
    'dx',
    'owRanges',
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
    'dilationHeight',
    'dilationWidth',
    'top',
    'left',
  ] as const;
  const p = Object.fromEntries(names.map((n, i) => [n, i])) as Record<(typeof names)[number], number>;
  const f = new FunctionBuilder(
    'depthwiseInputGradient',
    names.map(() => I32),
  );
  const b = f.local(I32);
  const oh = f.local(I32);
  const kh = f.local(I32);
  const kw = f.local(I32);
  const ih = f.local(I32);
  const c = f.local(I32);
  const ow = f.local(I32);
  const owEnd = f.local(I32);
  const channelBytes = f.local(I32);
  const dxRow = f.local(I32);
  const dyRow = f.local(I32);
  const dxPtr = f.local(I32);
  const dyPtr = f.local(I32);
  const dxStep = f.local(I32);
  const weights = f.local(V128);

  f.get(p.channels).i32(2).shl().set(channelBytes);
  f.get(p.strideWidth).get(channelBytes).mul().set(dxStep);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(p.batch),
    1,
    () => {
      f.forRange(
        oh,
        () => f.i32(0),
        () => f.get(p.outHeight),
        1,
        () => {
          f.get(p.dy)
            .get(b)
            .get(p.outHeight)
            .mul()
            .get(oh)
            .add()
            .get(p.outWidth)
            .mul()
            .get(channelBytes)
            .mul()
            .add();
          f.set(dyRow);
          f.forRange(
            kh,
            () => f.i32(0),
            () => f.get(p.filterHeight),
            1,
            () => {
              f.get(oh)
                .get(p.strideHeight)
                .mul()
                .get(kh)
                .get(p.dilationHeight)
                .mul()
                .add()
                .get(p.top)
                .sub()
                .set(ih);
              f.when(
                () => f.get(ih).get(p.inHeight).ltU(),
                () => {
                  f.get(p.dx)
                    .get(b)
                    .get(p.inHeight)
                    .mul()
                    .get(ih)
                    .add()
                    .get(p.inWidth)
                    .mul()
                    .get(channelBytes)
                    .mul()
                    .add();
                  f.set(dxRow);
                  f.forRange(
                    kw,
                    () => f.i32(0),
                    () => f.get(p.filterWidth),
                    1,
                    () => {
                      f.get(p.owRanges).get(kw).i32(3).shl().add().i32Load(4).set(owEnd);
                      f.forRange(
                        c,
                        () => f.i32(0),
                        () => f.get(channelBytes),
                        16,
                        () => {
                          // weights = filter[kh, kw, c..c+3]
                          f.get(p.filter)
                            .get(kh)
                            .get(p.filterWidth)
                            .mul()
                            .get(kw)
                            .add()
                            .get(channelBytes)
                            .mul()
                            .add();
                          f.get(c).add().v128Load(0).set(weights);
                          f.get(p.owRanges).get(kw).i32(3).shl().add().i32Load(0).set(ow);
                          f.get(dxRow);
                          f.get(ow)
                            .get(p.strideWidth)
                            .mul()
                            .get(kw)
                            .get(p.dilationWidth)
                            .mul()
                            .add()
                            .get(p.left)
                            .sub();
                          f.get(channelBytes).mul().add().get(c).add().set(dxPtr);
                          f.get(dyRow).get(ow).get(channelBytes).mul().add().get(c).add().set(dyPtr);
                          f.forRange(
                            ow,
                            () => f.get(ow),
                            () => f.get(owEnd),
                            1,
                            () => {
                              f.get(dxPtr)
                                .get(dxPtr)
                                .v128Load(0)
                                .get(dyPtr)
                                .v128Load(0)
                                .get(weights)
                                .f32x4Mul()
                                .f32x4Add();
                              f.v128Store(0);
                              f.get(dxPtr).get(dxStep).add().set(dxPtr);
                              f.get(dyPtr).get(channelBytes).add().set(dyPtr);
                            },
                          );
                        },
                      );
                    },
                  );
                },
              );
            },
          );
        },
      );
    },
  );
  return f;
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

function poolShapeArgs(s: PoolShape): number[] {
  return [
    s.batch,
    s.inHeight,
    s.inWidth,
    s.channels,
    s.outHeight,
    s.outWidth,
    s.filterHeight,
    s.filterWidth,
    s.strideHeight,
    s.strideWidth,
    s.top,
    s.left,
  ];
}

function depthwiseShapeArgs(s: DepthwiseShape): number[] {
  return [
    s.batch,
    s.inHeight,
    s.inWidth,
    s.channels,
    s.outHeight,
    s.outWidth,
    s.filterHeight,
    s.filterWidth,
    s.strideHeight,
    s.strideWidth,
    s.dilationHeight,
    s.dilationWidth,
    s.top,
    s.left,
  ];
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
        exports.avgPoolGradient(dy, dx, ...poolShapeArgs(s), multiplier),
      maxPoolGradient: (x, dy, dx, s) =>
        exports.maxPoolGradient(
          x,
          dy,
          dx,
          s.batch,
          s.inHeight,
          s.inWidth,
          s.channels,
          s.outHeight,
          s.outWidth,
          s.filterHeight,
          s.filterWidth,
          s.strideHeight,
          s.strideWidth,
          s.top,
          s.left,
        ),
      depthwiseFilterGradient: (x, dy, acc, owRanges, s) =>
        exports.depthwiseFilterGradient(x, dy, acc, owRanges, ...depthwiseShapeArgs(s)),
      depthwiseInputGradient: (dy, filter, dx, owRanges, s) =>
        exports.depthwiseInputGradient(dy, filter, dx, owRanges, ...depthwiseShapeArgs(s)),
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
