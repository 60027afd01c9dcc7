/**
 * wasm SIMD builders for the depthwise convolution's filter and input gradients (multiplier 1, channels a
 * multiple of 4), run by tensor/wasmSimdKernels.ts. Both walk the same loop nest (depthwiseTapLoops) and
 * differ only in what one pass along an output row does.
 */
import { functionWithParameters, I32, V128, type FunctionBuilder } from '../wasmSimdAssembler';
import { accumulateF32x4IntoF64 } from './reductions';
import { DEPTHWISE_SHAPE_PARAMETERS } from './shapes';

/** Where one pass along an output row stands: the locals a kernel's row body reads. */
interface TapRow {
  f: FunctionBuilder;
  /** The index of a parameter, by name. */
  param: (name: string) => number;
  kh: number;
  kw: number;
  /** Byte offset of the first of the four channels. */
  c: number;
  channelBytes: number;
  /** Into the image-shaped tensor (x or dx) at the current output column's tap; advances stride·C. */
  imagePointer: number;
  /** Into dy at the current output column; advances C. */
  dyPointer: number;
}

interface RowBody {
  /** Before the pass: e.g. clear an accumulator, load the filter vector. */
  start(row: TapRow): void;
  /** One output column, before both pointers advance. */
  column(row: TapRow): void;
  /** After the pass. */
  end(row: TapRow): void;
}

/**
 * for b, oh: for kh whose input row ih = oh·sh + kh·dh − top is inside the image: for kw, for each 4
 * channels: one pass over the output columns owRanges allows for kw (first valid, one past the last,
 * precomputed by the caller as two i32 per kw), with `body` deciding what a pass computes.
 */
function depthwiseTapLoops(
  name: string,
  pointerParameters: readonly [string, string, string, string],
  imageParameter: string,
  declareLocals: (f: FunctionBuilder) => void,
  body: RowBody,
): FunctionBuilder {
  const { f, p } = functionWithParameters(name, [...pointerParameters, ...DEPTHWISE_SHAPE_PARAMETERS]);
  const param = (parameter: string) => {
    const index = (p as Partial<Record<string, number>>)[parameter];
    if (index === undefined) throw new Error(`${name}: no parameter ${parameter}`);
    return index;
  };
  const image = param(imageParameter);
  const dy = param('dy');
  const owRanges = param('owRanges');
  const b = f.local(I32);
  const oh = f.local(I32);
  const kh = f.local(I32);
  const kw = f.local(I32);
  const ih = f.local(I32);
  const c = f.local(I32);
  const ow = f.local(I32);
  const owEnd = f.local(I32);
  const channelBytes = f.local(I32);
  const imageRow = f.local(I32); // byte address of image[b, ih, 0, 0]
  const dyRow = f.local(I32); // byte address of dy[b, oh, 0, 0]
  const imagePointer = f.local(I32);
  const dyPointer = f.local(I32);
  const imageStep = f.local(I32);
  declareLocals(f);
  const row: TapRow = { f, param, kh, kw, c, channelBytes, imagePointer, dyPointer };

  f.get(p.channels).i32(2).shl().set(channelBytes);
  f.get(p.strideWidth).get(channelBytes).mul().set(imageStep);
  f.forCount(b, p.batch, () => {
    f.forCount(oh, p.outHeight, () => {
      // dyRow = dy + ((b·outHeight + oh)·outWidth)·channelBytes
      f.get(dy)
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
      f.forCount(kh, p.filterHeight, () => {
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
            f.get(image)
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
            f.set(imageRow);
            f.forCount(kw, p.filterWidth, () => {
              // Valid output columns for this tap, precomputed by the caller.
              f.get(owRanges).get(kw).i32(3).shl().add().i32Load(4).set(owEnd);
              f.forRange(
                c,
                () => f.i32(0),
                () => f.get(channelBytes),
                16,
                () => {
                  body.start(row);
                  f.get(owRanges).get(kw).i32(3).shl().add().i32Load(0).set(ow);
                  // imagePointer = imageRow + (ow·strideWidth + kw·dilationWidth − left)·channelBytes + c
                  f.get(imageRow);
                  f.get(ow)
                    .get(p.strideWidth)
                    .mul()
                    .get(kw)
                    .get(p.dilationWidth)
                    .mul()
                    .add()
                    .get(p.left)
                    .sub();
                  f.get(channelBytes).mul().add().get(c).add().set(imagePointer);
                  f.get(dyRow).get(ow).get(channelBytes).mul().add().get(c).add().set(dyPointer);
                  f.forRange(
                    ow,
                    () => f.get(ow),
                    () => f.get(owEnd),
                    1,
                    () => {
                      body.column(row);
                      f.get(imagePointer).get(imageStep).add().set(imagePointer);
                      f.get(dyPointer).get(channelBytes).add().set(dyPointer);
                    },
                  );
                  body.end(row);
                },
              );
            });
          },
        );
      });
    });
  });
  return f;
}

/**
 * acc[kh, kw, c] (f64) += Σ_{b, oh, ow} x[b, ih, iw, c]·dy[b, oh, ow, c]: products summed in f32x4 registers
 * along one output row (≤ a few dozen terms), then into f64.
 */
export function buildDepthwiseFilterGradient(): FunctionBuilder {
  let sum = -1;
  let accPointer = -1;
  return depthwiseTapLoops(
    'depthwiseFilterGradient',
    ['x', 'dy', 'acc', 'owRanges'],
    'x',
    (f) => {
      accPointer = f.local(I32);
      sum = f.local(V128);
    },
    {
      start: ({ f }) => {
        f.i32(0).i32x4Splat().set(sum); // all-zero bits: 0.0f in every lane
      },
      column: ({ f, imagePointer, dyPointer }) => {
        f.get(sum).get(imagePointer).v128Load(0).get(dyPointer).v128Load(0).f32x4Mul().f32x4Add().set(sum);
      },
      end: ({ f, param, kh, kw, c }) => {
        // accPointer = acc + ((kh·filterWidth + kw)·channels)·8 + c·2
        f.get(param('acc'))
          .get(kh)
          .get(param('filterWidth'))
          .mul()
          .get(kw)
          .add()
          .get(param('channels'))
          .mul()
          .i32(3)
          .shl();
        f.add().get(c).i32(1).shl().add().set(accPointer);
        accumulateF32x4IntoF64(f, accPointer, sum);
      },
    },
  );
}

/**
 * dx[b, ih, iw, c] += dy[b, oh, ow, c]·f[kh, kw, c] over every tap (scatter form, multiplier 1): for each
 * (b, oh, kh, kw) and 4 channels, one pass along the output row with the filter vector held in a register.
 */
export function buildDepthwiseInputGradient(): FunctionBuilder {
  let weights = -1;
  return depthwiseTapLoops(
    'depthwiseInputGradient',
    ['dy', 'filter', 'dx', 'owRanges'],
    'dx',
    (f) => {
      weights = f.local(V128);
    },
    {
      start: ({ f, param, kh, kw, c, channelBytes }) => {
        // weights = filter[kh, kw, c..c+3]
        f.get(param('filter'))
          .get(kh)
          .get(param('filterWidth'))
          .mul()
          .get(kw)
          .add()
          .get(channelBytes)
          .mul()
          .add();
        f.get(c).add().v128Load(0).set(weights);
      },
      column: ({ f, imagePointer, dyPointer }) => {
        f.get(imagePointer)
          .get(imagePointer)
          .v128Load(0)
          .get(dyPointer)
          .v128Load(0)
          .get(weights)
          .f32x4Mul()
          .f32x4Add();
        f.v128Store(0);
      },
      end: () => undefined,
    },
  );
}
