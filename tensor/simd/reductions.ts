/**
 * wasm SIMD builders for row sums and batch norm's gradient (run by tensor/wasmSimdKernels.ts): sumRows,
 * sumRowsWithProduct and channelAffine accumulate in f64 (see there why), and the strided conv input
 * gradient's phase interleave.
 */
import { functionWithParameters, I32, V128, type FunctionBuilder } from '../wasmSimdAssembler';

/** Adds the f32x4 in `vector` into the two f64x2 at the address in `pointer` (low lanes, then high lanes). */
export function accumulateF32x4IntoF64(f: FunctionBuilder, pointer: number, vector: number): void {
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
  const { f, p } = functionWithParameters('interleavePhases', [
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
  ]);
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
  f.forCount(b, p.batch, () => {
    f.forCount(h, p.height, () => {
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
      f.forCount(w, p.width, () => {
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
      });
    });
  });
  return f;
}

/** What a row pass emits around its loops (see RowPass.emit). */
interface RowPassSteps {
  /** Once, before the first row: e.g. offsets between tensors. */
  beforeRows?: () => void;
  /** At the start of each row: e.g. reset an accumulator pointer to the first column. */
  startRow: () => void;
  /** For each f32x4 of the row, whose address is in `vectorAddress`. */
  eachVector: () => void;
}

/**
 * A pass over a rows × inner f32 matrix (inner % 4 == 0), one f32x4 at a time: the loop nest sumRows,
 * sumRowsWithProduct and channelAffine share. Construct it right after the FunctionBuilder (its locals
 * come first), declare the kernel's own locals, then emit it once.
 */
class RowPass {
  /** inner·4: one row in bytes. */
  readonly rowBytes: number;
  /** Address of the current f32x4. */
  readonly vectorAddress: number;
  private readonly end: number;
  private readonly row: number;
  private readonly rowEnd: number;

  constructor(private readonly f: FunctionBuilder) {
    this.rowBytes = f.local(I32);
    this.end = f.local(I32);
    this.row = f.local(I32);
    this.rowEnd = f.local(I32);
    this.vectorAddress = f.local(I32);
  }

  /** Walks the matrix at the address in param `matrix`, with `rows` and `inner` params. */
  emit(matrix: number, rows: number, inner: number, steps: RowPassSteps): void {
    const { f, rowBytes, end, row, rowEnd, vectorAddress } = this;
    f.get(inner).i32(2).shl().set(rowBytes);
    f.get(matrix).get(rows).get(rowBytes).mul().add().set(end);
    steps.beforeRows?.();
    f.forRange(
      row,
      () => f.get(matrix),
      () => f.get(end),
      () => f.get(rowBytes),
      () => {
        f.get(row).get(rowBytes).add().set(rowEnd);
        steps.startRow();
        f.forRange(
          vectorAddress,
          () => f.get(row),
          () => f.get(rowEnd),
          16,
          steps.eachVector,
        );
      },
    );
  }
}

/**
 * For batch norm's gradient, in one pass over x and dy (rows × inner, inner % 4 == 0): out[0..inner) +=
 * Σ_r dy and out[inner..2·inner) += Σ_r dy·x, in f64.
 */
export function buildSumRowsWithProduct(): FunctionBuilder {
  const {
    f,
    p: { x, dy, rows, inner, out },
  } = functionWithParameters('sumRowsWithProduct', ['x', 'dy', 'rows', 'inner', 'out']);
  const pass = new RowPass(f);
  const q = pass.vectorAddress;
  const offset = f.local(I32);
  const sumPtr = f.local(I32);
  const productPtr = f.local(I32);
  const gradient = f.local(V128);
  const product = f.local(V128);
  pass.emit(dy, rows, inner, {
    startRow: () => {
      f.get(out).set(sumPtr);
      f.get(out).get(inner).i32(3).shl().add().set(productPtr);
      // offset = x − dy: the same element of x is at q + offset.
      f.get(x).get(dy).sub().set(offset);
    },
    eachVector: () => {
      f.get(q).v128Load(0).set(gradient);
      f.get(gradient).get(q).get(offset).add().v128Load(0).f32x4Mul().set(product);
      accumulateF32x4IntoF64(f, sumPtr, gradient);
      accumulateF32x4IntoF64(f, productPtr, product);
      f.get(sumPtr).i32(32).add().set(sumPtr);
      f.get(productPtr).i32(32).add().set(productPtr);
    },
  });
  return f;
}

/**
 * dx = k·dy + u·(x − m) + w per channel (rows × inner, inner % 4 == 0), with coefficients k, u, m, w as
 * four f32 arrays of `inner` values at `coefficients`: batch norm's input gradient in one pass. (x − m)
 * first, so a large mean does not cancel away float32 precision.
 */
export function buildChannelAffine(): FunctionBuilder {
  const {
    f,
    p: { x, dy, dx, rows, inner, coefficients },
  } = functionWithParameters('channelAffine', ['x', 'dy', 'dx', 'rows', 'inner', 'coefficients']);
  const pass = new RowPass(f);
  const { rowBytes, vectorAddress: q } = pass;
  const coefficient = f.local(I32);
  const xOffset = f.local(I32);
  const dxOffset = f.local(I32);
  pass.emit(dy, rows, inner, {
    beforeRows: () => {
      f.get(x).get(dy).sub().set(xOffset);
      f.get(dx).get(dy).sub().set(dxOffset);
    },
    startRow: () => {
      f.get(coefficients).set(coefficient);
    },
    eachVector: () => {
      // dx[q] = k·dy[q] + u·(x[q] − m) + w, with k, u, m, w at coefficient + 0, 1, 2, 3 × inner·4 bytes.
      f.get(q).get(dxOffset).add();
      f.get(coefficient).v128Load(0).get(q).v128Load(0).f32x4Mul();
      f.get(coefficient).get(rowBytes).add().v128Load(0);
      f.get(q).get(xOffset).add().v128Load(0).get(coefficient).get(rowBytes).i32(1).shl().add().v128Load(0);
      f.f32x4Sub().f32x4Mul().f32x4Add();
      f.get(coefficient).get(rowBytes).i32(3).mul().add().v128Load(0).f32x4Add();
      f.v128Store(0);
      f.get(coefficient).i32(16).add().set(coefficient);
    },
  });
  return f;
}

/** out (f64, inner values) += Σ_r x[r, ·] (rows × inner, inner % 4 == 0). */
export function buildSumRows(): FunctionBuilder {
  const {
    f,
    p: { x, rows, inner, out },
  } = functionWithParameters('sumRows', ['x', 'rows', 'inner', 'out']);
  const pass = new RowPass(f);
  const acc = f.local(I32);
  const values = f.local(V128);
  pass.emit(x, rows, inner, {
    startRow: () => {
      f.get(out).set(acc);
    },
    eachVector: () => {
      f.get(pass.vectorAddress).v128Load(0).set(values);
      accumulateF32x4IntoF64(f, acc, values);
      f.get(acc).i32(32).add().set(acc);
    },
  });
  return f;
}
