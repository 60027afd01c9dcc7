/**
 * The readout arithmetic of one array block of the simulated analog chip (chip.ts explains the
 * formulation): the per-read noise source, the input expansion into DAC cycles, the per-read noise, ADC and
 * shift-add pass, the digital periphery, and the im2col patches that feed the products.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../../common/rng';
import { fillStandardNormal, streamFor } from '../noise/random';
import type { PartialSumHistogram } from './adc';
import { inputLevelRange, type SliceLayout } from './encoding';
import { AnalogChipError, type ArrayBlock, type LayerPlan } from './plan';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

/**
 * Per-read Gaussian noise at the rate the hot loop needs (one draw per column read, ~10^5 per image):
 * a pool of 2^16 N(0, 1) values drawn once per chip from its seed, indexed by an inline xorshift32 stream
 * (Marsaglia 2003). Draws are from the pool's empirical distribution — Gaussian to within sampling error,
 * tails cut near 4.3σ — at a few ns each instead of a Box–Muller/polar draw's ~25 ns.
 */
export class ReadNoise {
  static readonly POOL_BITS = 16;
  readonly pool: Float32Array;
  /** xorshift32 state; never 0. */
  state: number;

  constructor(seed: number) {
    this.pool = fillStandardNormal(
      streamFor(seed, 'read-noise-pool'),
      new Float32Array(1 << ReadNoise.POOL_BITS),
    );
    this.state = deriveSeed(seed, 'read-noise-stream') | 1;
  }
}

/**
 * The digital periphery of one m-block for one sample: drift-compensation factor, the offset code's
 * 2^(b−1)·Σx correction, and the weight and input steps: out[m, o] = (α·acc − offset·Σx_own)·w_o·s_in.
 */
export function digitalPeriphery(
  plan: LayerPlan,
  acc: Float64Array,
  accBase: number,
  patches: Int32Array,
  mb: number,
  alpha: number,
  out: Float32Array,
  outBase: number,
): void {
  const Cout = plan.outChannels;
  const rowsTotal = plan.rowsTotal;
  const offset = plan.slices.offset;
  const depthwise = plan.kind === 'depthwise';
  const area = plan.kernelH * plan.kernelW;
  const inputScale = plan.layer.inputScale;
  const weightScale = plan.layer.weightScale;
  for (let m = 0; m < mb; m++) {
    let rowSum = 0;
    if (offset !== 0 && !depthwise) {
      const src = m * rowsTotal;
      for (let r = 0; r < rowsTotal; r++) rowSum += patches[src + r]!;
    }
    for (let o = 0; o < Cout; o++) {
      let value = acc[accBase + m * Cout + o]! * alpha;
      if (offset !== 0) {
        let own = rowSum;
        if (depthwise) {
          own = 0;
          const src = m * rowsTotal + o * area;
          for (let j = 0; j < area; j++) own += patches[src + j]!;
        }
        value -= offset * own;
      }
      out[outBase + m * Cout + o] = value * weightScale[o]! * inputScale;
    }
  }
}

/**
 * Adds a block's noise-free sums to the histogram of each (cycle, slice): every (cycle, pixel) read's
 * S·outCount sums, from row readRow[cycle·mb + pixel] of `sums` ([reads, S·outCount]), or zeros for the
 * reads left out as all zero.
 */
export function recordPartialSums(
  histograms: PartialSumHistogram[],
  sums: Float32Array,
  readRow: Int32Array,
  mb: number,
  cycles: number,
  S: number,
  outCount: number,
): void {
  const width = S * outCount;
  for (let cycle = 0; cycle < cycles; cycle++) {
    let zeroReads = 0;
    for (let m = 0; m < mb; m++) {
      const read = readRow[cycle * mb + m]!;
      if (read < 0) {
        zeroReads++;
        continue;
      }
      for (let s = 0; s < S; s++) {
        const start = read * width + s * outCount;
        histograms[cycle * S + s]!.addAll(sums.subarray(start, start + outCount));
      }
    }
    if (zeroReads > 0) for (let s = 0; s < S; s++) histograms[cycle * S + s]!.addZeros(zeroReads * outCount);
  }
}

/**
 * The values of a product just computed: on the wasm backend a view of its memory (no copy, no garbage;
 * valid until the next allocation on the backend, so used before any other op), else a copy.
 */
export function productValues(product: tf.Tensor, size: number): Float32Array {
  const backend = tf.backend() as unknown as {
    dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
    wasm?: { HEAPU8?: Uint8Array };
  };
  const heap = backend.wasm?.HEAPU8;
  const entry = backend.dataIdMap?.get(product.dataId);
  if (heap && entry && typeof entry.memoryOffset === 'number')
    return new Float32Array(heap.buffer, entry.memoryOffset, size);
  return product.dataSync() as Float32Array;
}

/**
 * Jumps the xorshift32 stream of ReadNoise `steps` draws ahead at once. xorshift32 is linear over GF(2),
 * so `steps` draws map a state x to ⊕_{bit i of x} column[i], column[i] being where state 2^i lands
 * (Marsaglia 2003, §3: the generator is x·T, T a 32×32 binary matrix; here T^steps, column by column).
 */
class XorshiftJump {
  readonly columns = new Int32Array(32);

  constructor(readonly steps: number) {
    for (let bit = 0; bit < 32; bit++) {
      let x = 1 << bit;
      for (let n = 0; n < steps; n++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
      }
      this.columns[bit] = x;
    }
  }

  apply(state: number): number {
    let out = 0;
    for (let bit = 0; bit < 32; bit++) if ((state >>> bit) & 1) out ^= this.columns[bit]!;
    return out;
  }
}

const jumps = new Map<number, XorshiftJump>();

export function xorshiftJump(steps: number): XorshiftJump {
  let jump = jumps.get(steps);
  if (!jump) {
    jump = new XorshiftJump(steps);
    jumps.set(steps, jump);
  }
  return jump;
}

/**
 * Fills the expanded input of one block from the patches, one row per (cycle, pixel) read, cycle-major,
 * and Σ x² per read; readRow[c·mb + m] is the row of read (c, m). With `skipZero` a read whose inputs are
 * all zero gets no row (readRow −1): the pixels whose patch is all zero are found in one scan, a zero bit
 * plane of a nonzero patch is overwritten by the next row. Returns the rows written.
 */
export function expandInput(
  patches: Int32Array,
  rowsTotal: number,
  rowStart: number,
  rows: number,
  mb: number,
  cycles: number,
  chunkTable: Float32Array,
  levelSpan: number,
  levelMin: number,
  expanded: Float32Array,
  sumSquares: Float32Array | null,
  readRow: Int32Array,
  zeroPatch: Uint8Array,
  skipZero: boolean,
): number {
  // Pixels with an all-zero patch: level 0 drives 0 in every cycle (its chunks are all 0, signed or not).
  if (skipZero)
    for (let m = 0; m < mb; m++) {
      const src = m * rowsTotal + rowStart;
      let zero = 1;
      for (let r = 0; r < rows; r++)
        if (patches[src + r] !== 0) {
          zero = 0;
          break;
        }
      zeroPatch[m] = zero;
    }
  let written = 0;
  for (let c = 0; c < cycles; c++) {
    const table = c * levelSpan - levelMin;
    for (let m = 0; m < mb; m++) {
      if (skipZero && zeroPatch[m] === 1) {
        readRow[c * mb + m] = -1;
        continue;
      }
      const src = m * rowsTotal + rowStart;
      const dst = written * rows;
      let squares = 0;
      for (let r = 0; r < rows; r++) {
        const value = chunkTable[table + patches[src + r]!]!;
        expanded[dst + r] = value;
        squares += value * value;
      }
      if (skipZero && squares === 0) {
        readRow[c * mb + m] = -1;
        continue;
      }
      if (sumSquares !== null) sumSquares[written] = squares;
      readRow[c * mb + m] = written++;
    }
  }
  return written;
}

/**
 * Per-read noise, the ADC and the shift-add of one block for one sample: for every (cycle, pixel, slice,
 * column) partial sum p, acc[pixel, column] += ADC(p + noise) · 2^(input shift) · 2^(slice shift).
 */
export function accumulateReads(
  sums: Float32Array,
  width: number,
  columnOffset: number,
  acc: Float64Array,
  accBase: number,
  accStride: number,
  mb: number,
  cycles: number,
  S: number,
  outCount: number,
  readWeights: Float64Array,
  sumSquares: Float32Array | null,
  sliceReadSigma: Float64Array,
  noise: ReadNoise | null,
  withRead: boolean,
  sliceOutputSigma: Float64Array | null,
  ideal: boolean,
  inverseStep: number,
  codeMin: number,
  codeMax: number,
  readRow: Int32Array,
  skippedReadDraws: XorshiftJump | null,
): void {
  const pool = noise !== null ? noise.pool : null;
  const mask = (1 << ReadNoise.POOL_BITS) - 1;
  let x = noise !== null ? noise.state : 1;
  for (let c = 0; c < cycles; c++) {
    for (let m = 0; m < mb; m++) {
      const row = readRow[c * mb + m]!;
      if (row < 0) {
        // An all-zero read (no output noise): ADC(0) = 0; only its draws are passed over.
        if (skippedReadDraws !== null) x = skippedReadDraws.apply(x);
        continue;
      }
      const readStd = sumSquares !== null ? math.sqrt(sumSquares[row]!) : 0;
      const dst = accBase + m * accStride;
      for (let s = 0; s < S; s++) {
        const weight = readWeights[c * S + s]!;
        const src = row * width + columnOffset + s * outCount;
        if (noise === null && !ideal) {
          // The common case without per-read noise: round to the nearest code, clip, shift-add.
          for (let o = 0; o < outCount; o++) {
            let code = math.floor(sums[src + o]! * inverseStep + 0.5); // = math.round, which V8 does not inline
            if (code > codeMax) code = codeMax;
            else if (code < codeMin) code = codeMin;
            acc[dst + o] += code * weight;
          }
          continue;
        }
        const sliceReadStd = readStd * sliceReadSigma[s]!;
        const outputSigma = sliceOutputSigma !== null ? sliceOutputSigma[s]! : 0;
        if (pool !== null && withRead && outputSigma === 0 && !ideal) {
          // The common noisy case (cell read noise, a real ADC, no output noise), with the loop-invariant
          // branches of the general loop below hoisted: the same draws in the same order, the same
          // arithmetic, so the same numbers (profiled: this loop was ~40 % of a Monte-Carlo sample).
          for (let o = 0; o < outCount; o++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            let code = math.floor((sums[src + o]! + sliceReadStd * pool[x & mask]!) * inverseStep + 0.5);
            if (code > codeMax) code = codeMax;
            else if (code < codeMin) code = codeMin;
            acc[dst + o] += code * weight;
          }
          continue;
        }
        for (let o = 0; o < outCount; o++) {
          let p = sums[src + o]!;
          if (pool !== null) {
            if (withRead) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              p += sliceReadStd * pool[x & mask]!;
            }
            if (outputSigma > 0) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              p += outputSigma * pool[x & mask]!;
            }
          }
          if (ideal) {
            acc[dst + o] += p * weight;
          } else {
            let code = math.floor(p * inverseStep + 0.5);
            if (code > codeMax) code = codeMax;
            else if (code < codeMin) code = codeMin;
            acc[dst + o] += code * weight;
          }
        }
      }
    }
  }
  if (noise !== null) noise.state = x;
}

/** Σ_s 2^shift_s · W_s: the weight matrix a linear readout sees, [rows, outCount]. */
export function effectiveWeights(
  weights: Float32Array,
  block: ArrayBlock,
  slices: SliceLayout,
): Float32Array {
  const S = slices.widths.length;
  const cols = S * block.outCount;
  const out = new Float32Array(block.rowCount * block.outCount);
  for (let r = 0; r < block.rowCount; r++)
    for (let s = 0; s < S; s++) {
      const shift = 2 ** slices.shifts[s]!;
      for (let o = 0; o < block.outCount; o++)
        out[r * block.outCount + o]! += shift * weights[r * cols + s * block.outCount + o]!;
    }
  return out;
}

/** Σ_out |Σ_rows Σ_slices 2^shift·W|: the reference read of global drift compensation (all-ones input). */
export function readout(plan: LayerPlan, weights: Float32Array[]): number {
  const perOutput = new Float64Array(plan.outChannels);
  plan.blocks.forEach((block, b) => {
    const w = weights[b]!;
    const S = plan.slices.widths.length;
    const cols = S * block.outCount;
    for (let r = 0; r < block.rowCount; r++)
      for (let s = 0; s < S; s++) {
        const shift = 2 ** plan.slices.shifts[s]!;
        for (let o = 0; o < block.outCount; o++)
          perOutput[block.outStart + o]! += shift * w[r * cols + s * block.outCount + o]!;
      }
  });
  let total = 0;
  for (const value of perOutput) total += math.abs(value);
  return total;
}

export interface LayerGeometry {
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outPixels: number;
  padTop: number;
  padLeft: number;
}

/** 'same' padding geometry as TensorFlow computes it (extra padding goes bottom/right). */
export function layerGeometry(plan: LayerPlan, shape: number[]): LayerGeometry {
  const name = plan.layer.shape.name;
  if (plan.kind === 'dense') {
    if (shape.length !== 2 || shape[1] !== plan.inChannels)
      throw new AnalogChipError(
        `layer ${name}: dense input must be [n, ${plan.inChannels}], got [${shape.join(', ')}]`,
      );
    return { inH: 1, inW: 1, inC: plan.inChannels, outH: 1, outW: 1, outPixels: 1, padTop: 0, padLeft: 0 };
  }
  if (shape.length !== 4 || shape[3] !== plan.inChannels)
    throw new AnalogChipError(
      `layer ${name}: input must be NHWC with ${plan.inChannels} channels, got [${shape.join(', ')}]`,
    );
  const [, inH, inW, inC] = shape as [number, number, number, number];
  const outH = math.ceil(inH / plan.stride);
  const outW = math.ceil(inW / plan.stride);
  const padH = math.max((outH - 1) * plan.stride + plan.kernelH - inH, 0);
  const padW = math.max((outW - 1) * plan.stride + plan.kernelW - inW, 0);
  return {
    inH,
    inW,
    inC,
    outH,
    outW,
    outPixels: outH * outW,
    padTop: math.floor(padH / 2),
    padLeft: math.floor(padW / 2),
  };
}

/** Integer input levels, verified to lie on the layer's input grid and range. */
export function inputLevels(plan: LayerPlan, values: Float32Array): Int32Array {
  const scale = plan.layer.inputScale;
  const { min, max } = inputLevelRange(plan.input);
  const levels = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const exact = values[i]! / scale;
    const level = math.floor(exact + 0.5);
    if (math.abs(exact - level) > 1e-2 || level < min || level > max)
      throw new AnalogChipError(
        `layer ${plan.layer.shape.name}: input ${values[i]} is not on its ${plan.input.bits}-bit ` +
          `${plan.input.signed ? 'signed' : 'unsigned'} grid (step ${scale}, level ${exact})`,
      );
    levels[i] = level;
  }
  return levels;
}

/** Whether the N equal parts of `levels` are identical (the evaluator replicated the images). */
export function replicated(levels: Int32Array, parts: number): boolean {
  const size = levels.length / parts;
  for (let n = 1; n < parts; n++) {
    const offset = n * size;
    for (let i = 0; i < size; i++) if (levels[offset + i] !== levels[i]) return false;
  }
  return true;
}

/** Fills patches[m, row] for output pixels m0 … m0+mb−1 of the batch (rows in the layer's im2col order). */
export function im2col(
  plan: LayerPlan,
  g: LayerGeometry,
  levels: Int32Array,
  m0: number,
  mb: number,
  patches: Int32Array,
): void {
  const R = plan.rowsTotal;
  if (plan.kind === 'dense') {
    patches.set(levels.subarray(m0 * R, (m0 + mb) * R));
    return;
  }
  const { inH, inW, inC, outW, outPixels, padTop, padLeft } = g;
  const KH = plan.kernelH;
  const KW = plan.kernelW;
  const area = KH * KW;
  for (let m = 0; m < mb; m++) {
    const pixel = m0 + m;
    const example = math.floor(pixel / outPixels);
    const within = pixel - example * outPixels;
    const oy = math.floor(within / outW);
    const ox = within - oy * outW;
    const base = m * R;
    const imageBase = example * inH * inW * inC;
    for (let ki = 0; ki < KH; ki++) {
      const iy = oy * plan.stride - padTop + ki;
      for (let kj = 0; kj < KW; kj++) {
        const ix = ox * plan.stride - padLeft + kj;
        const inside = iy >= 0 && iy < inH && ix >= 0 && ix < inW;
        const src = imageBase + (iy * inW + ix) * inC;
        const k = ki * KW + kj;
        if (plan.kind === 'depthwise') {
          for (let c = 0; c < inC; c++) patches[base + c * area + k] = inside ? levels[src + c]! : 0;
        } else {
          // A plain loop: a pixel's channels are few (1 in a stem), where subarray + set costs an
          // allocation per pixel and tap.
          const dst = base + k * inC;
          if (inside) for (let c = 0; c < inC; c++) patches[dst + c] = levels[src + c]!;
          else for (let c = 0; c < inC; c++) patches[dst + c] = 0;
        }
      }
    }
  }
}
