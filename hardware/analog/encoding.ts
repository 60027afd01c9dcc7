/**
 * How numbers become cells and pulses on the simulated chip.
 *
 * Weights (integer levels L ∈ [−(2^(b−1)−1), 2^(b−1)−1], see hardware/folded.ts):
 * - differential pairs (device.differentialPairs): |L| has b−1 magnitude bits, bit-sliced over cells of
 *   bitsPerCell bits; a positive weight programs the slices of its G+ cells and leaves its G− cells at Gmin,
 *   a negative one the reverse. The column pair is sensed differentially (I+ − I−), so Gmin cancels.
 *   (The cost model counts ⌈b/bitsPerCell⌉ slices per polarity; sign-magnitude needs ⌈(b−1)/bitsPerCell⌉.)
 * - offset encoding (ISAAC's bias, device.differentialPairs = false): u = L + 2^(b−1) ∈ [1, 2^b − 1],
 *   b bits sliced the same way; the digital periphery subtracts 2^(b−1)·Σx after the shift-add, and a
 *   reference column removes the Gmin pedestal before the ADC. (An SRAM macro that weights its sign bit
 *   negatively differs only by inverting that bit.)
 * Slices are filled from the least significant bit; when bitsPerCell does not divide the bits, the most
 * significant slice is the narrow one and its cells spread their fewer levels over the full conductance
 * range (a 3-bit slice on a 4-bit-capable cell is programmed as a 3-bit cell: coarser levels, less noise).
 *
 * Inputs (integer levels on the layer's activation grid) enter bit-serially, dacBits per cycle, least
 * significant chunk first: ⌈a/dacBits⌉ cycles (as hardware/mapping.ts counts them). Unsigned inputs give
 * chunks in [0, 2^dacBits − 1]; signed inputs are fed in two's complement, the top chunk carrying the sign
 * (the DAC drives it with a negative voltage when the sign bit is set).
 */
// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

export type WeightEncoding = 'differential' | 'offset';

export interface SliceLayout {
  encoding: WeightEncoding;
  weightBits: number;
  /** Bits stored across the slices: b − 1 (differential magnitude) or b (offset code). */
  storedBits: number;
  /** Bits held by each slice, least significant first. */
  widths: number[];
  /** Bit position of each slice's least significant bit (its shift in the shift-add). */
  shifts: number[];
  /** Highest level of each slice's cells: 2^width − 1. */
  maxLevels: number[];
  /** Offset encoding: 2^(b−1), subtracted digitally; 0 for differential pairs. */
  offset: number;
  /** Cells per weight slice: 2 for differential pairs, 1 for offset encoding. */
  cellsPerSlice: number;
}

export function sliceLayout(
  weightBits: number,
  bitsPerCell: number,
  differentialPairs: boolean,
): SliceLayout {
  if (!Number.isInteger(weightBits) || weightBits < 2)
    throw new RangeError(`weightBits must be an integer ≥ 2, got ${weightBits}`);
  if (!Number.isInteger(bitsPerCell) || bitsPerCell < 1)
    throw new RangeError(`bitsPerCell must be a positive integer, got ${bitsPerCell}`);
  const encoding: WeightEncoding = differentialPairs ? 'differential' : 'offset';
  const storedBits = differentialPairs ? weightBits - 1 : weightBits;
  const widths: number[] = [];
  const shifts: number[] = [];
  for (let shift = 0; shift < storedBits; shift += bitsPerCell) {
    shifts.push(shift);
    widths.push(math.min(bitsPerCell, storedBits - shift));
  }
  return {
    encoding,
    weightBits,
    storedBits,
    widths,
    shifts,
    maxLevels: widths.map((w) => 2 ** w - 1),
    offset: differentialPairs ? 0 : 2 ** (weightBits - 1),
    cellsPerSlice: differentialPairs ? 2 : 1,
  };
}

/** Largest weight level on a b-bit grid. */
export function maxWeightLevel(weightBits: number): number {
  return 2 ** (weightBits - 1) - 1;
}

/**
 * The cell levels of weight level `level`: fills `positive` and `negative` (differential; per slice) or
 * `positive` alone (offset code). Returns nothing; arrays are indexed by slice.
 */
export function sliceWeight(
  layout: SliceLayout,
  level: number,
  positive: number[],
  negative: number[],
): void {
  const stored = layout.encoding === 'differential' ? math.abs(level) : level + layout.offset;
  for (let s = 0; s < layout.widths.length; s++) {
    const value = math.floor(stored / 2 ** layout.shifts[s]!) % 2 ** layout.widths[s]!;
    if (layout.encoding === 'differential') {
      positive[s] = level > 0 ? value : 0;
      negative[s] = level < 0 ? value : 0;
    } else {
      positive[s] = value;
      negative[s] = 0;
    }
  }
}

export interface InputLayout {
  bits: number;
  signed: boolean;
  /** Bits per cycle (the last, most significant chunk may be narrower). */
  widths: number[];
  shifts: number[];
}

export function inputLayout(activationBits: number, signed: boolean, dacBits: number): InputLayout {
  if (!Number.isInteger(activationBits) || activationBits < 1)
    throw new RangeError(`activationBits must be a positive integer, got ${activationBits}`);
  if (!Number.isInteger(dacBits) || dacBits < 1)
    throw new RangeError(`dacBits must be a positive integer, got ${dacBits}`);
  const widths: number[] = [];
  const shifts: number[] = [];
  for (let shift = 0; shift < activationBits; shift += dacBits) {
    shifts.push(shift);
    widths.push(math.min(dacBits, activationBits - shift));
  }
  return { bits: activationBits, signed, widths, shifts };
}

/** Input level range of the layout: [0, 2^a − 1] or [−(2^(a−1)−1), 2^(a−1)−1]. */
export function inputLevelRange(layout: InputLayout): { min: number; max: number } {
  return layout.signed
    ? { min: -(2 ** (layout.bits - 1) - 1), max: 2 ** (layout.bits - 1) - 1 }
    : { min: 0, max: 2 ** layout.bits - 1 };
}

/** The value the DAC drives in `cycle` for input level `level` (two's complement for signed inputs). */
export function inputChunk(layout: InputLayout, level: number, cycle: number): number {
  const width = layout.widths[cycle]!;
  const code = level < 0 ? level + 2 ** layout.bits : level;
  let value = math.floor(code / 2 ** layout.shifts[cycle]!) % 2 ** width;
  if (layout.signed && cycle === layout.widths.length - 1 && value >= 2 ** (width - 1)) value -= 2 ** width;
  return value;
}

/** Largest |chunk| any cycle can drive. */
export function maxInputChunk(layout: InputLayout): number {
  return math.max(...layout.widths.map((w) => 2 ** w - 1));
}
