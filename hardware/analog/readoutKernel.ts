/**
 * The fused readout of one array block for one Monte-Carlo sample, as one hand-assembled wasm function
 * (tensor/wasmSimdAssembler.ts): for every (cycle, pixel) read in the order chip.ts reads them, the bit-serial
 * partial sums of every (slice, column), then per-read noise, the ADC and the shift-add — what
 * expandInput + tf.matMul + accumulateReads (readout.ts) compute, in one pass, with the same numbers.
 *
 * Why it is faster: a read drives each row with a DAC chunk of its input level, and most chunks are 0
 * (ReLU zeros, and the high bits of small activations), so the product only needs the rows whose chunk is
 * not 0: the kernel lists them and sums chunk·W[row] over them, four columns per SIMD lane group. The
 * dense product spent most of its MACs on zero rows; the per-read pass then ran in JavaScript.
 *
 * Why the numbers are the same, bit for bit:
 * - the dense product (tfjs-wasm's XNNPACK GEMM) sums every output over the rows in order in float32,
 *   multiply then add (no fused multiply-add; checked bit for bit in test/hardware/readoutKernel.test.ts).
 *   A zero chunk adds 0·W = ±0, which leaves a float32 sum unchanged, so summing only the nonzero rows in
 *   the same order gives the same float32 value;
 * - the per-read pass is accumulateReads' arithmetic in float64 (JavaScript numbers): the same xorshift32
 *   draws from the same pool in the same (cycle, pixel, slice, column) order, the same round-to-nearest
 *   code, clip and shift-add, and the same jump of the stream over all-zero reads.
 * Calibration runs here too (the `record` variants): the same noise-free sums, each counted into its read
 * class's histogram of |sum| rounded to the nearest integer, as PartialSumHistogram.addAll counts them
 * (adc.ts), and passed on through the ideal readout. The linear readout (ideal ADC, no per-read noise)
 * keeps the dense product: it folds cycles and slices into one product that is already cheap.
 */
import {
  assembleModule,
  F32,
  F64,
  functionWithParameters,
  I32,
  V128,
  type FunctionBuilder,
} from '../../tensor/wasmSimdAssembler';
import { ReadNoise } from './readout';

/** The i32 parameters of the kernel, in call order (byte addresses end in `At`). */
const PARAMETERS = [
  'patchesAt',
  'rowsTotal',
  'rowStart',
  'rows',
  'mb',
  'cycles',
  'chunkTableAt',
  'levelSpan',
  'levelMin',
  'weightsAt',
  'stride',
  'accAt',
  'accBase',
  'accStride',
  'slices',
  'outCount',
  'readWeightsAt',
  'sliceReadSigmaAt',
  'sliceOutputSigmaAt',
  'poolAt',
  'stateAt',
  'jumpAt',
  'rowListAt',
  'chunkListAt',
  'sumsAt',
  'levelRowsAt',
  'levelsAt',
  'levelCountsAt',
  'laneJumpsAt',
  'drawsAt',
  'laneEndsAt',
  'histogramsAt',
  'binCount',
] as const;

type Parameter = (typeof PARAMETERS)[number];

/** The f64 parameters after the i32 ones. */
const F64_PARAMETERS = ['inverseStep', 'codeMin', 'codeMax'] as const;

/** Which per-read terms a kernel variant computes (fixed at assembly: no branches in the inner loops). */
export interface ReadoutVariant {
  /** Per-read noise draws are taken (a sample with read or output noise). */
  noise: boolean;
  /** Cell read noise, σ ∝ sqrt(Σ x²) per read. */
  withRead: boolean;
  /** Output noise, drawn whatever the input. */
  withOutput: boolean;
  /** Ideal ADC: the sum passes through unquantized. */
  ideal: boolean;
  /** All-zero reads are left out (their draws jumped over); off with output noise. */
  skipZero: boolean;
  /**
   * Every nonzero chunk is 1 (unsigned inputs through a 1-bit DAC, the common case): the sum adds the
   * listed rows without multiplying (1·w = w exactly, so the numbers are the same).
   */
  unitChunks: boolean;
  /**
   * Calibration: every read's (cycle c, slice s) sums are counted into float64 histogram `c·slices + s` at
   * histogramsAt (binCount bins each, bin = round(|sum|), the last bin holding everything above it); a read
   * left out as all zero counts outCount zeros. Only with an ideal readout and no noise.
   */
  record?: boolean;
}

function variantName(v: ReadoutVariant): string {
  return `reads_${+v.noise}${+v.withRead}${+v.withOutput}${+v.ideal}${+v.skipZero}${+v.unitChunks}${+(v.record ?? false)}`;
}

const POOL_MASK = (1 << ReadNoise.POOL_BITS) - 1;

/** Emits one xorshift32 step of local `x` (Marsaglia 2003: 13, 17, 5), as readout.ts's loops do. */
function xorshift(f: FunctionBuilder, x: number): void {
  f.get(x).get(x).i32(13).shl().xor().set(x);
  f.get(x).get(x).i32(17).shrU().xor().set(x);
  f.get(x).get(x).i32(5).shl().xor().set(x);
}

/** One xorshift32 step of each of the four lanes of v128 local `v`. */
function xorshiftLanes(f: FunctionBuilder, v: number): void {
  f.get(v).get(v).i32(13).i32x4Shl().v128Xor().set(v);
  f.get(v).get(v).i32(17).i32x4ShrU().v128Xor().set(v);
  f.get(v).get(v).i32(5).i32x4Shl().v128Xor().set(v);
}

/** pool[x & mask] as f64: the next standard normal of the stream (after `xorshift`). */
function poolDraw(f: FunctionBuilder, p: Record<Parameter, number>, x: number): void {
  f.get(p.poolAt).get(x).i32(POOL_MASK).and().i32(2).shl().add().f32Load().f64PromoteF32();
}

function buildReads(variant: ReadoutVariant): FunctionBuilder {
  const { f, p: named } = functionWithParameters(variantName(variant), PARAMETERS, [F64, F64, F64]);
  const p = named as Record<Parameter, number>;
  const [inverseStep, codeMin, codeMax] = F64_PARAMETERS.map((_, i) => PARAMETERS.length + i) as [
    number,
    number,
    number,
  ];
  const x = f.local(I32);
  const c = f.local(I32);
  const m = f.local(I32);
  const r = f.local(I32);
  const i = f.local(I32);
  const s = f.local(I32);
  const o = f.local(I32);
  const t = f.local(I32);
  const n = f.local(I32);
  const bit = f.local(I32);
  const tableAt = f.local(I32);
  const sourceAt = f.local(I32);
  const listAt = f.local(I32);
  const level = f.local(I32);
  const count = f.local(I32);
  const laneOfRead = f.local(I32);
  const drawAt = f.local(I32);
  const laneMask = f.local(V128);
  const lanesLow = f.local(V128);
  const lanesHigh = f.local(V128);
  const histogramAt = f.local(I32);
  const bin = f.local(I32);
  const lastBin = f.local(I32);
  // One noise term alone — read noise (the common case), or output noise (SRAM and other cells without
  // read noise): each read's S·outCount draws are generated for eight reads at a time, one read per SIMD
  // lane, instead of one serial xorshift chain (whose 6-step dependency was the per-read pass's floor).
  // Lane j of a group starts at the state j reads on — the stream jumped by j·S·outCount draws (jump
  // matrices, readout.ts XorshiftJump) — so every read meets the very draws it met in the serial stream;
  // the reads left out just leave theirs unused. Output noise draws once per conversion of every slice
  // (its σ is > 0 for every slice: chip.ts), so a read takes S·outCount draws either way.
  const laneDraws = variant.noise && variant.withRead !== variant.withOutput;
  // Two conversions per f64x2 operation unless both terms are drawn (interleaved, they stay scalar): the
  // same float64 arithmetic per lane, so the same numbers.
  const pairs = !(variant.withRead && variant.withOutput);
  const outPairsEnd = f.local(I32);
  const pairValue = f.local(V128);
  const pairCode = f.local(V128);
  const pairWeight = f.local(V128);
  const pairReadStd = f.local(V128);
  const pairInverseStep = f.local(V128);
  const pairHalf = f.local(V128);
  const pairCodeMin = f.local(V128);
  const pairCodeMax = f.local(V128);
  const rowBytes = f.local(I32);
  const strideEnd32 = f.local(I32);
  const address = f.local(I32);
  const accRowAt = f.local(I32);
  const sumAt = f.local(I32);
  const chunk = f.local(F32);
  const squares = f.local(F64);
  const readStd = f.local(F64);
  const sliceReadStd = f.local(F64);
  const outputSigma = f.local(F64);
  // The σ of the one noise term the lane draws serve (read noise, else output noise).
  const noiseStd = variant.withRead ? sliceReadStd : outputSigma;
  const weight = f.local(F64);
  const value = f.local(F64);
  const code = f.local(F64);
  const lane = f.local(V128);
  const a0 = f.local(V128);
  const a1 = f.local(V128);
  const a2 = f.local(V128);
  const a3 = f.local(V128);
  const a4 = f.local(V128);
  const a5 = f.local(V128);
  const a6 = f.local(V128);
  const a7 = f.local(V128);
  const accumulators = [a0, a1, a2, a3, a4, a5, a6, a7];

  if (variant.noise) f.get(p.stateAt).i32Load().set(x);
  if (variant.record) f.get(p.binCount).i32(1).sub().set(lastBin);
  // histogramAt = histogramsAt + (c·slices + s)·binCount·8: read class (c, s)'s histogram.
  const histogramOf = () =>
    f
      .get(p.histogramsAt)
      .get(c)
      .get(p.slices)
      .mul()
      .get(s)
      .add()
      .get(p.binCount)
      .mul()
      .i32(3)
      .shl()
      .add()
      .set(histogramAt);
  f.get(p.stride).i32(2).shl().set(rowBytes);
  // Columns in whole groups of 32 (eight lanes of four), then groups of 4 (stride is a multiple of 4).
  f.get(p.stride).i32(-32).and().set(strideEnd32);
  if (pairs) {
    f.get(p.outCount).i32(-2).and().set(outPairsEnd);
    f.get(inverseStep).f64x2Splat().set(pairInverseStep);
    f.f64(0.5).f64x2Splat().set(pairHalf);
    f.get(codeMin).f64x2Splat().set(pairCodeMin);
    f.get(codeMax).f64x2Splat().set(pairCodeMax);
  } else f.i32(0).set(outPairsEnd);

  // Once per pixel, the rows of this block whose input level is not 0, in order (weight-row address and
  // level): a zero level drives 0 in every cycle, so the cycles below only look at these.
  f.forCount(m, p.mb, () => {
    f.get(p.patchesAt).get(m).get(p.rowsTotal).mul().get(p.rowStart).add().i32(2).shl().add().set(sourceAt);
    f.get(m).get(p.rows).mul().i32(2).shl().set(listAt);
    f.i32(0).set(n);
    f.forCount(r, p.rows, () => {
      f.get(sourceAt).get(r).i32(2).shl().add().i32Load().set(level);
      f.get(p.levelRowsAt).get(listAt).add().get(n).i32(2).shl().add();
      f.get(p.weightsAt).get(r).get(rowBytes).mul().add();
      f.i32Store();
      f.get(p.levelsAt).get(listAt).add().get(n).i32(2).shl().add().get(level).i32Store();
      f.get(n).get(level).eqz().eqz().add().set(n);
    });
    f.get(p.levelCountsAt).get(m).i32(2).shl().add().get(n).i32Store();
  });

  if (laneDraws) f.i32(0).set(laneOfRead);
  f.forCount(c, p.cycles, () => {
    // tableAt = chunkTable + (c·levelSpan − levelMin)·4: the chunk of level L in this cycle is at tableAt + 4L.
    f.get(p.chunkTableAt).get(c).get(p.levelSpan).mul().get(p.levelMin).sub().i32(2).shl().add().set(tableAt);
    f.forCount(m, p.mb, () => {
      if (laneDraws)
        f.when(
          () => f.get(laneOfRead).eqz(),
          () => {
            // The group's lane starts: state x jumped by 0…7 reads, lanes low [0-3] and high [4-7].
            f.i32(0).i32x4Splat().set(lanesLow);
            f.i32(0).i32x4Splat().set(lanesHigh);
            f.forRange(
              bit,
              () => f.i32(0),
              () => f.i32(32),
              1,
              () => {
                f.i32(0).get(x).get(bit).shrU().i32(1).and().sub().i32x4Splat().set(laneMask);
                f.get(p.laneJumpsAt).get(bit).i32(5).shl().add().set(address);
                f.get(lanesLow).get(address).v128Load().get(laneMask).v128And().v128Xor().set(lanesLow);
                f.get(lanesHigh).get(address).v128Load(16).get(laneMask).v128And().v128Xor().set(lanesHigh);
              },
            );
            // draws[k·8 + lane] = the lane's state after k + 1 steps, k < S·outCount.
            f.get(p.drawsAt).set(drawAt);
            f.forCount(o, p.slices, () =>
              f.forCount(t, p.outCount, () => {
                xorshiftLanes(f, lanesLow);
                xorshiftLanes(f, lanesHigh);
                f.get(drawAt).get(lanesLow).v128Store();
                f.get(drawAt).get(lanesHigh).v128Store(16);
                f.get(drawAt).i32(32).add().set(drawAt);
              }),
            );
            f.get(p.laneEndsAt).get(lanesLow).v128Store();
            f.get(p.laneEndsAt).get(lanesHigh).v128Store(16);
          },
        );
      // List the rows whose chunk is not 0 (their weight-row address and chunk) and Σ chunk².
      f.get(m).get(p.rows).mul().i32(2).shl().set(listAt);
      f.get(p.levelCountsAt).get(m).i32(2).shl().add().i32Load().set(count);
      f.i32(0).set(n);
      f.f64(0).set(squares);
      f.forCount(i, count, () => {
        f.get(tableAt)
          .get(p.levelsAt)
          .get(listAt)
          .add()
          .get(i)
          .i32(2)
          .shl()
          .add()
          .i32Load()
          .i32(2)
          .shl()
          .add()
          .f32Load()
          .set(chunk);
        // Branch-free (whether a chunk is 0 is data, not a pattern a branch predictor learns): every row is
        // written at position n, and n moves on only past a nonzero chunk. Σ chunk² over every row is the
        // same exact integer as over the nonzero ones.
        f.get(p.rowListAt).get(n).i32(2).shl().add();
        f.get(p.levelRowsAt).get(listAt).add().get(i).i32(2).shl().add().i32Load();
        f.i32Store();
        f.get(p.chunkListAt).get(n).i32(2).shl().add().get(chunk).f32Store();
        f.get(squares).get(chunk).f64PromoteF32().get(chunk).f64PromoteF32().f64Mul().f64Add().set(squares);
        f.get(n).get(chunk).f32(0).f32Ne().add().set(n);
      });
      const skipRead = () => {
        // An all-zero read: ADC(0) = 0 adds nothing; only its read-noise draws are passed over, by the
        // stream's jump matrix (readout.ts XorshiftJump: column `bit` is where state 2^bit lands).
        if (variant.noise && variant.withRead && !laneDraws) {
          f.i32(0).set(t);
          f.forRange(
            bit,
            () => f.i32(0),
            () => f.i32(32),
            1,
            () =>
              f.when(
                () => f.get(x).get(bit).shrU().i32(1).and(),
                () => f.get(t).get(p.jumpAt).get(bit).i32(2).shl().add().i32Load().xor().set(t),
              ),
          );
          f.get(t).set(x);
        }
        if (variant.record)
          // Its outCount sums of every slice are exact zeros.
          f.forCount(s, p.slices, () => {
            histogramOf();
            f.get(histogramAt)
              .get(histogramAt)
              .f64Load()
              .get(p.outCount)
              .f64ConvertI32S()
              .f64Add()
              .f64Store();
          });
      };
      const readOut = () => {
        // The partial sums: sums[col] = Σ_listed chunk·W[row, col], rows in order, float32 multiply then add.
        const gather = (lanes: number) => {
          for (let k = 0; k < lanes; k++) f.f32(0).f32x4Splat().set(accumulators[k]!);
          f.forCount(i, n, () => {
            f.get(p.rowListAt).get(i).i32(2).shl().add().i32Load().get(t).i32(2).shl().add().set(address);
            if (variant.unitChunks)
              for (let k = 0; k < lanes; k++)
                f.get(accumulators[k]!)
                  .get(address)
                  .v128Load(16 * k)
                  .f32x4Add()
                  .set(accumulators[k]!);
            else {
              f.get(p.chunkListAt).get(i).i32(2).shl().add().f32Load().f32x4Splat().set(lane);
              for (let k = 0; k < lanes; k++)
                f.get(accumulators[k]!)
                  .get(lane)
                  .get(address)
                  .v128Load(16 * k)
                  .f32x4Mul()
                  .f32x4Add()
                  .set(accumulators[k]!);
            }
          });
          for (let k = 0; k < lanes; k++)
            f.get(p.sumsAt)
              .get(t)
              .i32(2)
              .shl()
              .add()
              .get(accumulators[k]!)
              .v128Store(16 * k);
        };
        f.forRange(
          t,
          () => f.i32(0),
          () => f.get(strideEnd32),
          32,
          () => gather(8),
        );
        f.forRange(
          t,
          () => f.get(strideEnd32),
          () => f.get(p.stride),
          4,
          () => gather(1),
        );

        if (variant.withRead)
          // Σ x² is stored as float32 by expandInput before its square root is taken.
          f.get(squares).f32DemoteF64().f64PromoteF32().f64Sqrt().set(readStd);
        // accRowAt = acc + (accBase + m·accStride)·8
        f.get(p.accAt).get(p.accBase).get(m).get(p.accStride).mul().add().i32(3).shl().add().set(accRowAt);
        f.get(p.sumsAt).set(sumAt);
        // This read's draws: column laneOfRead of the group's table.
        if (laneDraws) f.get(p.drawsAt).get(laneOfRead).i32(2).shl().add().set(drawAt);
        f.forCount(s, p.slices, () => {
          f.get(p.readWeightsAt)
            .get(c)
            .get(p.slices)
            .mul()
            .get(s)
            .add()
            .i32(3)
            .shl()
            .add()
            .f64Load()
            .set(weight);
          if (variant.withRead)
            f.get(readStd)
              .get(p.sliceReadSigmaAt)
              .get(s)
              .i32(3)
              .shl()
              .add()
              .f64Load()
              .f64Mul()
              .set(sliceReadStd);
          if (variant.withOutput)
            f.get(p.sliceOutputSigmaAt).get(s).i32(3).shl().add().f64Load().set(outputSigma);
          if (variant.record) {
            // bin = min(floor(|sum| + 0.5), last), as PartialSumHistogram.addAll (the sum as float64).
            histogramOf();
            f.forCount(o, p.outCount, () => {
              f.get(sumAt).get(o).i32(2).shl().add().f32Load().f64PromoteF32().f64Abs();
              f.f64(0.5).f64Add().f64Floor().i32TruncF64S().set(bin);
              f.get(lastBin).get(bin).get(bin).get(lastBin).gtS().select().set(bin);
              f.get(histogramAt).get(bin).i32(3).shl().add().set(address);
              f.get(address).get(address).f64Load().f64(1).f64Add().f64Store();
            });
          }
          if (pairs) {
            f.get(weight).f64x2Splat().set(pairWeight);
            if (laneDraws) f.get(noiseStd).f64x2Splat().set(pairReadStd);
            f.forRange(
              o,
              () => f.i32(0),
              () => f.get(outPairsEnd),
              2,
              () => {
                f.get(sumAt)
                  .get(o)
                  .i32(2)
                  .shl()
                  .add()
                  .v128Load64Splat()
                  .f64x2PromoteLowF32x4()
                  .set(pairValue);
                if (laneDraws) {
                  // The pair's two draws, in stream order: lane 0 then lane 1.
                  f.get(pairValue).get(pairReadStd);
                  for (let lane = 0; lane < 2; lane++) {
                    f.get(p.poolAt).get(drawAt).i32Load().i32(POOL_MASK).and().i32(2).shl().add().f32Load();
                    f.get(drawAt).i32(32).add().set(drawAt);
                    f.f64PromoteF32();
                    if (lane === 0) f.f64x2Splat();
                    else f.f64x2ReplaceLane(1);
                  }
                  f.f64x2Mul().f64x2Add().set(pairValue);
                }
                if (variant.ideal) f.get(pairValue).set(pairCode);
                else {
                  f.get(pairValue).get(pairInverseStep).f64x2Mul().get(pairHalf).f64x2Add().f64x2Floor();
                  f.get(pairCodeMax).f64x2Pmin().get(pairCodeMin).f64x2Pmax().set(pairCode);
                }
                f.get(accRowAt).get(o).i32(3).shl().add().set(address);
                f.get(address)
                  .get(address)
                  .v128Load()
                  .get(pairCode)
                  .get(pairWeight)
                  .f64x2Mul()
                  .f64x2Add()
                  .v128Store();
              },
            );
          }
          f.forRange(
            o,
            () => f.get(outPairsEnd),
            () => f.get(p.outCount),
            1,
            () => {
              f.get(sumAt).get(o).i32(2).shl().add().f32Load().f64PromoteF32().set(value);
              if (laneDraws) {
                f.get(value).get(noiseStd);
                f.get(p.poolAt).get(drawAt).i32Load().i32(POOL_MASK).and().i32(2).shl().add().f32Load();
                f.f64PromoteF32().f64Mul().f64Add().set(value);
                f.get(drawAt).i32(32).add().set(drawAt);
              } else if (variant.noise && variant.withRead) {
                xorshift(f, x);
                f.get(value).get(sliceReadStd);
                poolDraw(f, p, x);
                f.f64Mul().f64Add().set(value);
              }
              if (variant.noise && variant.withOutput && !laneDraws)
                f.when(
                  () => f.get(outputSigma).f64(0).f64Gt(),
                  () => {
                    xorshift(f, x);
                    f.get(value).get(outputSigma);
                    poolDraw(f, p, x);
                    f.f64Mul().f64Add().set(value);
                  },
                );
              // address = accRowAt + 8·o; acc[address] += (ideal ? value : clip(round(value/step))) · weight
              f.get(accRowAt).get(o).i32(3).shl().add().set(address);
              if (variant.ideal) f.get(value).set(code);
              else {
                f.get(value).get(inverseStep).f64Mul().f64(0.5).f64Add().f64Floor().set(code);
                // The clip as compare-and-select (wasm's f64.min/max carry NaN and ±0 rules that cost
                // several instructions each; there is no NaN here, and the result is the same).
                f.get(codeMax).get(code).get(code).get(codeMax).f64Gt().select().set(code);
                f.get(codeMin).get(code).get(code).get(codeMin).f64Lt().select().set(code);
              }
              f.get(address).get(address).f64Load().get(code).get(weight).f64Mul().f64Add().f64Store();
            },
          );
          f.get(sumAt).get(p.outCount).i32(2).shl().add().set(sumAt);
        });
      };
      if (variant.skipZero) f.ifElse(() => f.get(n).eqz(), skipRead, readOut);
      else readOut();
      if (laneDraws) {
        // The stream moves on past this read (zero or not): its lane's end state.
        f.get(p.laneEndsAt).get(laneOfRead).i32(2).shl().add().i32Load().set(x);
        f.get(laneOfRead).i32(1).add().i32(7).and().set(laneOfRead);
      }
    });
  });
  if (variant.noise) f.get(p.stateAt).get(x).i32Store();
  return f;
}

interface WebAssemblyLike {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

type ReadsFunction = (...args: number[]) => void;

const VARIANTS: ReadoutVariant[] = [];
for (const noise of [false, true])
  for (const withRead of [false, true])
    for (const withOutput of [false, true])
      for (const ideal of [false, true])
        for (const skipZero of [false, true])
          for (const unitChunks of [false, true])
            VARIANTS.push({ noise, withRead, withOutput, ideal, skipZero, unitChunks });
// Calibration: noise-free, through the ideal readout.
for (const skipZero of [false, true])
  for (const unitChunks of [false, true])
    VARIANTS.push({
      noise: false,
      withRead: false,
      withOutput: false,
      ideal: true,
      skipZero,
      unitChunks,
      record: true,
    });

let compiled: { module: object; webAssembly: WebAssemblyLike } | null | undefined;

/** The assembled module (every variant), or null where the engine has no wasm SIMD. */
function compiledModule(): { module: object; webAssembly: WebAssemblyLike } | null {
  if (compiled !== undefined) return compiled;
  const webAssembly = (globalThis as unknown as { WebAssembly?: WebAssemblyLike }).WebAssembly;
  compiled = null;
  if (!webAssembly) return compiled;
  const bytes = assembleModule(VARIANTS.map(buildReads));
  if (!webAssembly.validate(bytes)) return compiled;
  compiled = { module: new webAssembly.Module(bytes), webAssembly };
  return compiled;
}

let enabled = true;

/** Turns the fused readout off (tests compare it with the dense product and the JavaScript pass). */
export function setFusedReadout(on: boolean): void {
  enabled = on;
}

const PAGE_BYTES = 65_536;

/**
 * One chip's kernel memory: a bump allocator over a WebAssembly.Memory of its own. Regions allocated
 * with `keep` live as long as the chip (weights, noise pools); `scratch` regions are reset by
 * `resetScratch` before each batch. Views must be taken after the last allocation of a batch: growing the
 * memory detaches earlier views.
 */
export class ReadoutKernel {
  private readonly memory: { buffer: ArrayBuffer; grow(pages: number): number };
  private readonly functions = new Map<string, ReadsFunction>();
  private kept = 0;
  private top = 0;

  private constructor(compiledModule: { module: object; webAssembly: WebAssemblyLike }) {
    this.memory = new compiledModule.webAssembly.Memory({ initial: 16 });
    const instance = new compiledModule.webAssembly.Instance(compiledModule.module, {
      env: { memory: this.memory },
    });
    for (const variant of VARIANTS) {
      const name = variantName(variant);
      this.functions.set(name, instance.exports[name] as ReadsFunction);
    }
  }

  /** A kernel for one chip, or null where the fused readout is off or unavailable. */
  static create(): ReadoutKernel | null {
    if (!enabled) return null;
    const module = compiledModule();
    return module ? new ReadoutKernel(module) : null;
  }

  /** Reserves `bytes` (16-byte aligned) and returns the byte address. */
  allocate(bytes: number, lifetime: 'keep' | 'scratch'): number {
    if (lifetime === 'keep' && this.top !== this.kept)
      throw new Error('ReadoutKernel: kept regions must be allocated before scratch regions');
    const at = this.top;
    this.top = at + Math.ceil(bytes / 16) * 16;
    const needed = Math.ceil(this.top / PAGE_BYTES) - this.memory.buffer.byteLength / PAGE_BYTES;
    if (needed > 0) this.memory.grow(needed);
    if (lifetime === 'keep') this.kept = this.top;
    return at;
  }

  resetScratch(): void {
    this.top = this.kept;
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** Runs one block for one sample (see PARAMETERS for the order; addresses from `allocate`). */
  reads(
    variant: ReadoutVariant,
    args: Record<Parameter, number>,
    adc: Record<(typeof F64_PARAMETERS)[number], number>,
  ): void {
    const run = this.functions.get(variantName(variant))!;
    run(...PARAMETERS.map((name) => args[name]), ...F64_PARAMETERS.map((name) => adc[name]));
  }
}
