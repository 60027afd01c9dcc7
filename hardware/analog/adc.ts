/**
 * The column ADC: converts one array's partial sum (one column pair, one input cycle) into a code.
 *
 * Partial sums are in units of one cell level × one input unit, so on a noise-free chip they are
 * integers. The ADC is a uniform quantizer over a per-layer full-scale range: `codeMax` codes above zero
 * (2^N − 1 for unsigned sums; 2^(N−1) − 1 each side for signed sums, a symmetric mid-tread converter), a
 * step of fullScale / codeMax, never finer than one level (finer steps cannot tell integers apart any
 * better, and an integer step keeps a lossless ADC exactly lossless). Sums beyond the range clip.
 *
 * The range is calibrated per layer, the way NeuRRAM sets each core's ADC range after programming, from
 * the exact histograms of noise-free partial sums over calibration images (PartialSumHistogram): by
 * default the range minimizing the conversion error, each read class (input cycle, weight slice) weighted
 * by its shift-add weight 2^(input shift + slice shift) — an error in a more significant read reaches the
 * output amplified — the optimal-clipping calibration of quantizers; or a percentile of |partial sum|.
 * Measured on the robustness demo's network (4 epochs; noise-free chip, 1,000 test images, 6 / 5 / 4 ADC
 * bits): weighted error 84.2 / 83.0 / 68.4 %; 99th percentile 77.0 / 76.0 / 65.4 %; 99.9th 85.6 / 83.0 /
 * 52.8 %; 99.99th 84.0 / 79.8 / 34.0 %; the largest sum 83.2 / 68.6 / 29.4 % (digital: 87.3 %).
 * Without calibration the range is the worst case (every row at full input and full level), which no
 * realistic layer approaches: fewer ADC bits then cost far more accuracy than on a tuned chip.
 */
// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

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
  const codeMax = signed ? math.max(1, 2 ** (bits - 1) - 1) : 2 ** bits - 1;
  const step = math.max(1, fullScale / codeMax);
  return { ideal, signed, bits, codeMax, step, fullScale: codeMax * step };
}

/** The value the digital periphery receives for analog partial sum `p` (in partial-sum units). */
export function adcConvert(adc: AdcTransfer, p: number): number {
  if (adc.ideal) return p;
  let code = math.round(p / adc.step);
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
    this.counts = new Float64Array(math.max(1, math.ceil(maxAbs)) + 1);
  }

  add(value: number): void {
    let bin = math.round(math.abs(value));
    if (bin >= this.counts.length) bin = this.counts.length - 1;
    this.counts[bin]! += 1;
    this.total += 1;
  }

  /** Adds every value of `values` (hot path of calibration). */
  addAll(values: Float32Array): void {
    const counts = this.counts;
    const last = counts.length - 1;
    for (let i = 0; i < values.length; i++) {
      let bin = math.floor(math.abs(values[i]!) + 0.5);
      if (bin > last) bin = last;
      counts[bin]! += 1;
    }
    this.total += values.length;
  }

  /** Bins: |values| 0 … size − 1, the last one holding everything above it too. */
  get size(): number {
    return this.counts.length;
  }

  /** Adds counts made bin by bin as addAll makes them (the fused readout's calibration, readoutKernel.ts). */
  addCounts(counts: Float64Array): void {
    if (counts.length !== this.counts.length)
      throw new Error(
        `PartialSumHistogram: ${counts.length} bins added to a histogram of ${this.counts.length}`,
      );
    for (let bin = 0; bin < counts.length; bin++) {
      this.counts[bin]! += counts[bin]!;
      this.total += counts[bin]!;
    }
  }

  /** Adds `count` zeros (reads whose inputs are all zero, left out of the product). */
  addZeros(count: number): void {
    this.counts[0]! += count;
    this.total += count;
  }

  /** Adds another histogram's counts (same or smaller size). */
  merge(other: PartialSumHistogram): void {
    for (const [value, count] of other.entries()) {
      const bin = math.min(value, this.counts.length - 1);
      this.counts[bin]! += count;
      this.total += count;
    }
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

  /** Non-empty bins as [value, count] pairs. */
  entries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let bin = 0; bin < this.counts.length; bin++)
      if (this.counts[bin]! > 0) out.push([bin, this.counts[bin]!]);
    return out;
  }

  /** Largest |value| seen. */
  max(): number {
    for (let bin = this.counts.length - 1; bin >= 0; bin--) if (this.counts[bin]! > 0) return bin;
    return 0;
  }
}

/**
 * The ADC range minimizing Σ_classes weight · Σ_values count · (value − ADC(value))² over candidate ranges
 * (weights: the caller's, e.g. each read class's shift-add weight):
 * every integer up to the largest value seen (a geometric grid of ~400 when that is larger).
 */
export function mseOptimalRange(
  classes: ReadonlyArray<{ histogram: PartialSumHistogram; weight: number }>,
  bits: number,
  signed: boolean,
): number {
  const bins = classes.map(({ histogram, weight }) => ({ entries: histogram.entries(), weight }));
  const largest = math.max(1, ...classes.map(({ histogram }) => histogram.max()));
  const candidates: number[] = [];
  if (largest <= 512) {
    for (let r = 1; r <= largest; r++) candidates.push(r);
  } else {
    for (let r = 1; r < largest; r = math.max(r + 1, math.round(r * 1.02))) candidates.push(r);
    candidates.push(largest);
  }
  let best = largest;
  let bestError = Infinity;
  for (const range of candidates) {
    const adc = adcTransfer(bits, signed, range, false);
    let error = 0;
    for (const { entries, weight } of bins) {
      let classError = 0;
      for (const [value, count] of entries) {
        const difference = value - adcConvert(adc, value);
        classError += count * difference * difference;
      }
      error += weight * classError;
    }
    // Ties go to the wider range (fewer clipped sums for the same error).
    if (error <= bestError) {
      bestError = error;
      best = range;
    }
  }
  return best;
}
