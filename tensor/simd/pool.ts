/**
 * wasm SIMD builders for the max- and average-pool gradients, four channels at a time, run by
 * tensor/wasmSimdKernels.ts. Both walk the same loop nest (poolWindowLoops): every output pixel, its window
 * clamped to the input, four channels at a time.
 */
import { F32, functionWithParameters, I32, V128, type FunctionBuilder } from '../wasmSimdAssembler';
import { POOL_SHAPE_PARAMETERS } from './shapes';

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

type ShapeParams = Record<(typeof POOL_SHAPE_PARAMETERS)[number], number>;

/** What the body of poolWindowLoops sees for the four channels of one output pixel. */
interface PoolWindow {
  /** Byte offset of the four channels within a pixel. */
  c: number;
  /** Address of dy at this output pixel (channel 0). */
  dyAddress: number;
  /** Emits: for every input (h, w) in the window, `address` = tensor `base` at (b, h, w, c); then `body`. */
  forEachInput(base: number, address: number, body: () => void): void;
}

/**
 * The loop nest of a pooling gradient: batch, output row, output column (the window clamped to the
 * input), then the channels four at a time, with dy's address advanced one pixel per output column.
 */
function poolWindowLoops(
  f: FunctionBuilder,
  p: ShapeParams & { dy: number },
  body: (window: PoolWindow) => void,
) {
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
  const dyAddress = f.local(I32);
  const clamp = (first: number, end: number, filter: number, size: number) => {
    minMax(
      f,
      first,
      () => f.get(start),
      () => f.i32(0),
      'max',
    );
    minMax(
      f,
      end,
      () => f.get(start).get(filter).add(),
      () => f.get(size),
      'min',
    );
  };
  const forEachInput = (base: number, address: number, inner: () => void) =>
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
            f.get(base).get(b).get(p.inHeight).mul().get(h).add().get(p.inWidth).mul().get(w).add();
            f.get(channelBytes).mul().add().get(c).add().set(address);
            inner();
          },
        );
      },
    );

  f.get(p.channels).i32(2).shl().set(channelBytes);
  f.get(p.dy).set(dyAddress);
  f.forCount(b, p.batch, () => {
    f.forCount(oh, p.outHeight, () => {
      f.get(oh).get(p.strideHeight).mul().get(p.top).sub().set(start);
      clamp(hFirst, hEnd, p.filterHeight, p.inHeight);
      f.forCount(ow, p.outWidth, () => {
        f.get(ow).get(p.strideWidth).mul().get(p.left).sub().set(start);
        clamp(wFirst, wEnd, p.filterWidth, p.inWidth);
        f.forRange(
          c,
          () => f.i32(0),
          () => f.get(channelBytes),
          16,
          () => body({ c, dyAddress, forEachInput }),
        );
        f.get(dyAddress).get(channelBytes).add().set(dyAddress);
      });
    });
  });
}

export function buildMaxPoolGradient(): FunctionBuilder {
  const { f, p } = functionWithParameters('maxPoolGradient', ['x', 'dy', 'dx', ...POOL_SHAPE_PARAMETERS]);
  const address = f.local(I32);
  const target = f.local(I32);
  const best = f.local(V128);
  const bestAddress = f.local(V128);
  const value = f.local(V128);
  const mask = f.local(V128);
  const gradient = f.local(V128);

  poolWindowLoops(f, p, ({ c, dyAddress, forEachInput }) => {
    f.f32(-Infinity).f32x4Splat().set(best);
    // Address 0 never holds a tensor: it marks "no maximum yet" (an empty or all −∞ window).
    f.i32(0).i32x4Splat().set(bestAddress);
    forEachInput(p.x, address, () => {
      f.get(address).v128Load(0).set(value);
      // Strictly greater: the first maximum in window order wins, as on the cpu backend.
      f.get(value).get(best).f32x4Gt().set(mask);
      f.get(value).get(best).get(mask).v128Bitselect().set(best);
      f.get(address).i32x4Splat().get(bestAddress).get(mask).v128Bitselect().set(bestAddress);
    });
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
          f.get(target).get(target).f32Load(0).get(gradient).f32x4ExtractLane(lane).f32Add().f32Store(0);
        },
      );
    }
  });
  return f;
}

/**
 * dx[b, ih, iw, c] += dy[b, oh, ow, c]·multiplier for every input the window covered (scatter form,
 * four channels at a time).
 */
export function buildAvgPoolGradient(): FunctionBuilder {
  const tensorsAndShape = ['dy', 'dx', ...POOL_SHAPE_PARAMETERS] as const;
  const { f, p } = functionWithParameters('avgPoolGradient', tensorsAndShape, [F32]);
  const multiplier = tensorsAndShape.length; // the F32 after them
  const address = f.local(I32);
  const gradient = f.local(V128);

  poolWindowLoops(f, p, ({ c, dyAddress, forEachInput }) => {
    f.get(dyAddress).get(c).add().v128Load(0).get(multiplier).f32x4Splat().f32x4Mul().set(gradient);
    forEachInput(p.dx, address, () => {
      f.get(address).get(address).v128Load(0).get(gradient).f32x4Add().v128Store(0);
    });
  });
  return f;
}
