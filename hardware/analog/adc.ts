/**
 * The column ADC: converts one array's partial sum (one column pair, one input cycle) into a code.
 *
 * Partial sums are in units of one cell level × one input unit, so on a noise-free chip they are
 * integers. The ADC is a uniform quantizer over a per-layer full-scale range: `codeMax` codes above zero
 * (2^N − 1 for unsigned sums; 2^(N−1) − 1 each side for signed sums, a symmetric mid-tread converter), a
 * step of fullScale / codeMax, never finer than one level (finer steps cannot tell integers apart any
 * better, and an integer step keeps a lossless ADC exactly lossless). Sums beyond the range clip.
 *
 * The range is calibrated per layer, the way NeuRRAM sets each core's ADC range after programming: a
 * percentile of |partial sum| on the noise-free chip over calibration images (PartialSumHistogram).
 * Without calibration the range is the worst case (every row at full input and full level), which no
 * realistic layer approaches: fewer ADC bits then cost far more accuracy than on a tuned chip.
 */

export interface AdcTransfer {
  /** Ideal readout: no quantization, no clipping. */
  ideal: boolean;
  signed: boolean;
  bits: number;
  /** Largest code; the smallest is −codeMax (signed) or 0. */
  codeMax: number;
  /** Partial-sum units per code. */
  step: number;
  /** The range actually covered: codeMax · step. */
  fullScale: number;
}

export function adcTransfer(bits: number, signed: boolean, fullScale: number, ideal: boolean): AdcTransfer {
  if (!Number.isInteger(bits) || bits < 1)
    throw new RangeError(`adcBits must be a positive integer, got ${bits}`);
  // A 1-bit signed converter keeps three levels (−1, 0, +1): a sign comparator with a dead zone.
  const codeMax = signed ? Math.max(1, 2 ** (bits - 1) - 1) : 2 ** bits - 1;
  const step = Math.max(1, fullScale / codeMax);
  return { ideal, signed, bits, codeMax, step, fullScale: codeMax * step };
}

/** The value the digital periphery receives for analog partial sum `p` (in partial-sum units). */
export function adcConvert(adc: AdcTransfer, p: number): number {
  if (adc.ideal) return p;
  let code = Math.round(p / adc.step);
  if (code > adc.codeMax) code = adc.codeMax;
  const codeMin = adc.signed ? -adc.codeMax : 0;
  if (code < codeMin) code = codeMin;
  return code * adc.step;
}

/** Exact histogram of |integer partial sum| for percentile ranges. */
export class PartialSumHistogram {
  private counts: Float64Array;
  private total = 0;

  constructor(maxAbs: number) {
    this.counts = new Float64Array(Math.max(1, Math.ceil(maxAbs)) + 1);
  }

  add(value: number): void {
    let bin = Math.round(Math.abs(value));
    if (bin >= this.counts.length) bin = this.counts.length - 1;
    this.counts[bin]! += 1;
    this.total += 1;
  }

  /** Adds every value of `values` (hot path of calibration). */
  addAll(values: Float32Array): void {
    const counts = this.counts;
    const last = counts.length - 1;
    for (let i = 0; i < values.length; i++) {
      let bin = Math.floor(Math.abs(values[i]!) + 0.5);
      if (bin > last) bin = last;
      counts[bin]! += 1;
    }
    this.total += values.length;
  }

  get count(): number {
    return this.total;
  }

  /** Smallest |value| with at least `percentile` % of the samples at or below it (0 when empty). */
  percentile(percentile: number): number {
    if (this.total === 0) return 0;
    const needed = (percentile / 100) * this.total;
    let cumulative = 0;
    for (let bin = 0; bin < this.counts.length; bin++) {
      cumulative += this.counts[bin]!;
      if (cumulative >= needed - 1e-9) return bin;
    }
    return this.counts.length - 1;
  }

  /** Largest |value| seen. */
  max(): number {
    for (let bin = this.counts.length - 1; bin >= 0; bin--) if (this.counts[bin]! > 0) return bin;
    return 0;
  }
}
