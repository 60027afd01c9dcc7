/**
 * Layer planning for the simulated analog chip (the chip itself: chip.ts).
 *
 * Mapping (docs/hardware-model.md §Mapping, hardware/mapping.ts): a conv layer's kernel is a (Cin·K²) ×
 * Cout matrix, rows in (kh, kw, cin) order, split into row chunks of `hw.rows` rows; each chunk is one
 * array's worth of word lines and produces its own partial sums. Column tiling does not change any sum (no
 * wire resistance is modelled), so columns are not split. Dense = conv with K = 1. Depthwise layers are
 * packed block-diagonally as hardware/mapping.ts describes: ⌊rows/K²⌋ channels (limited by columns) share
 * an array, each channel's K² rows feeding only its own columns through programmed cells — the
 * off-diagonal cells sit at level 0 but are real cells, so their programming error, stuck-at faults and
 * read noise leak into the other channels' sums. A kernel taller than the array gets one array per
 * channel, split in row chunks.
 */
import type { FoldedLayer } from '../folded';
import type { DeviceParams } from '../devices';
import type { HardwareConfig } from '../types';
import { adcTransfer, type AdcTransfer } from './adc';
import {
  type InputLayout,
  type SliceLayout,
  inputLayout,
  maxInputChunk,
  maxWeightLevel,
  sliceLayout,
  sliceWeight,
} from './encoding';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

/** One array's share of a layer: a contiguous range of im2col rows feeding a contiguous range of outputs. */
export interface ArrayBlock {
  rowStart: number;
  rowCount: number;
  outStart: number;
  outCount: number;
}

export interface BlockPlan extends ArrayBlock {
  /** Target levels of the G+ (or offset-code) cells, (row, slice, out) order. */
  levelsPositive: Uint8Array;
  /** Target levels of the G− cells (differential pairs only). */
  levelsNegative: Uint8Array | null;
  /** Offset of this block's cells in the layer's cell vector (positive cells, then negative ones). */
  cellOffset: number;
  /** Weight matrix of the noise-free chip, [rowCount, slices·outCount], level units. */
  idealWeights: Float32Array;
  /** Output channel owning each row (depthwise); null when every row feeds every output (conv, dense). */
  rowOwner: Int32Array | null;
}

export interface LayerPlan {
  index: number;
  layer: FoldedLayer;
  kind: FoldedLayer['shape']['kind'];
  kernelH: number;
  kernelW: number;
  stride: number;
  inChannels: number;
  outChannels: number;
  /** im2col width: Cin·K² (conv), C·K² (depthwise), Cin (dense). */
  rowsTotal: number;
  slices: SliceLayout;
  input: InputLayout;
  blocks: BlockPlan[];
  cellCount: number;
  /** Largest |partial sum| physically possible in any read of this layer. */
  worstCasePartialSum: number;
  /** Signed partial sums (differential pairs or signed inputs) → a bipolar ADC. */
  signedPartialSums: boolean;
  /** Calibrated |partial sum| range (null until calibrateAdc runs). */
  calibratedRange: number | null;
  adc: AdcTransfer;
}

export class AnalogChipError extends Error {
  override name = 'AnalogChipError';
}

/**
 * Plans one weight layer on the chip: its integer weight levels (checked against the layer's grid), the
 * array blocks it occupies, each block's target cell levels, and the ADC it starts with (worst-case range
 * until calibration).
 */
export function planLayer(
  layer: FoldedLayer,
  index: number,
  hw: HardwareConfig,
  device: DeviceParams,
  idealAdc: boolean,
): LayerPlan {
  const shape = layer.shape;
  const where = `layer ${shape.name}`;
  const slices = sliceLayout(shape.weightBits, hw.bitsPerCell, device.differentialPairs);
  const input = inputLayout(shape.activationBits, layer.inputSigned, hw.dacBits);
  const kernelArea = shape.kernelH * shape.kernelW;
  const S = slices.widths.length;
  const levelMax = maxWeightLevel(shape.weightBits);

  // Integer weight levels, verified to lie on the layer's grid.
  const levelOf = (value: number, scale: number): number => {
    if (scale === 0) {
      if (value !== 0) throw new AnalogChipError(`${where}: weight ${value} with weightScale 0`);
      return 0;
    }
    const exact = value / scale;
    const level = math.floor(exact + 0.5);
    if (math.abs(exact - level) > 1e-3 || math.abs(level) > levelMax)
      throw new AnalogChipError(
        `${where}: kernel value ${value} is not on its ${shape.weightBits}-bit grid (step ${scale}, level ${exact})`,
      );
    return level;
  };

  let rowsTotal: number;
  let outChannels: number;
  const blocks: ArrayBlock[] = [];
  /** Weight level of (row, out), or null for an off-diagonal (unprogrammed, level-0) cell. */
  let weightAt: (row: number, out: number) => number;
  let rowOwnerOf: ((row: number) => number) | null = null;

  const expectShape = (expected: number[]) => {
    if (
      layer.kernelShape.length !== expected.length ||
      layer.kernelShape.some((d, i) => d !== expected[i]) ||
      layer.kernel.length !== expected.reduce((a, b) => a * b, 1)
    )
      throw new AnalogChipError(
        `${where}: kernelShape [${layer.kernelShape.join(', ')}] (${layer.kernel.length} values) does not match [${expected.join(', ')}]`,
      );
  };

  if (shape.kind === 'depthwise') {
    const C = shape.outChannels;
    expectShape([shape.kernelH, shape.kernelW, C, 1]);
    rowsTotal = C * kernelArea;
    outChannels = C;
    const levels = new Int32Array(C * kernelArea);
    for (let c = 0; c < C; c++)
      for (let k = 0; k < kernelArea; k++)
        levels[c * kernelArea + k] = levelOf(layer.kernel[k * C + c]!, layer.weightScale[c]!);
    weightAt = (row, out) => (math.floor(row / kernelArea) === out ? levels[row]! : 0);
    rowOwnerOf = (row) => math.floor(row / kernelArea);
    const columnsPerChannel = S * slices.cellsPerSlice;
    const perArray = math.min(math.floor(hw.rows / kernelArea), math.floor(hw.cols / columnsPerChannel));
    if (perArray >= 1) {
      for (let c0 = 0; c0 < C; c0 += perArray) {
        const n = math.min(perArray, C - c0);
        blocks.push({ rowStart: c0 * kernelArea, rowCount: n * kernelArea, outStart: c0, outCount: n });
      }
    } else {
      for (let c = 0; c < C; c++)
        for (let r0 = 0; r0 < kernelArea; r0 += hw.rows)
          blocks.push({
            rowStart: c * kernelArea + r0,
            rowCount: math.min(hw.rows, kernelArea - r0),
            outStart: c,
            outCount: 1,
          });
    }
  } else {
    const Cin = shape.inChannels;
    const Cout = shape.outChannels;
    if (shape.kind === 'dense') expectShape([Cin, Cout]);
    else expectShape([shape.kernelH, shape.kernelW, Cin, Cout]);
    rowsTotal = shape.kind === 'dense' ? Cin : Cin * kernelArea;
    outChannels = Cout;
    const levels = new Int32Array(rowsTotal * Cout);
    for (let r = 0; r < rowsTotal; r++)
      for (let o = 0; o < Cout; o++)
        levels[r * Cout + o] = levelOf(layer.kernel[r * Cout + o]!, layer.weightScale[o]!);
    weightAt = (row, out) => levels[row * Cout + out]!;
    for (let r0 = 0; r0 < rowsTotal; r0 += hw.rows)
      blocks.push({
        rowStart: r0,
        rowCount: math.min(hw.rows, rowsTotal - r0),
        outStart: 0,
        outCount: Cout,
      });
  }
  if (layer.weightScale.length !== outChannels)
    throw new AnalogChipError(
      `${where}: ${layer.weightScale.length} weight scales for ${outChannels} outputs`,
    );

  const positive: number[] = new Array<number>(S).fill(0);
  const negative: number[] = new Array<number>(S).fill(0);
  let cellOffset = 0;
  let maxRows = 0;
  const blockPlans: BlockPlan[] = blocks.map((block) => {
    const cols = S * block.outCount;
    const size = block.rowCount * cols;
    const levelsPositive = new Uint8Array(size);
    const levelsNegative = slices.encoding === 'differential' ? new Uint8Array(size) : null;
    const idealWeights = new Float32Array(size);
    for (let r = 0; r < block.rowCount; r++) {
      for (let o = 0; o < block.outCount; o++) {
        const row = block.rowStart + r;
        const out = block.outStart + o;
        const owned = rowOwnerOf === null || rowOwnerOf(row) === out;
        if (owned) sliceWeight(slices, weightAt(row, out), positive, negative);
        for (let s = 0; s < S; s++) {
          const index = r * cols + s * block.outCount + o;
          // Off-diagonal depthwise cells stay at level 0 on both polarities (not at the offset code).
          const p = owned ? positive[s]! : 0;
          const n = owned ? negative[s]! : 0;
          levelsPositive[index] = p;
          if (levelsNegative) levelsNegative[index] = n;
          idealWeights[index] = p - n;
        }
      }
    }
    let rowOwner: Int32Array | null = null;
    if (rowOwnerOf) {
      rowOwner = new Int32Array(block.rowCount);
      for (let r = 0; r < block.rowCount; r++) rowOwner[r] = rowOwnerOf(block.rowStart + r);
    }
    const plan: BlockPlan = {
      ...block,
      levelsPositive,
      levelsNegative,
      cellOffset,
      idealWeights,
      rowOwner,
    };
    cellOffset += size * slices.cellsPerSlice;
    maxRows = math.max(maxRows, block.rowCount);
    return plan;
  });

  const signedPartialSums = slices.encoding === 'differential' || input.signed;
  const worstCasePartialSum = maxRows * maxInputChunk(input) * math.max(...slices.maxLevels);
  return {
    index,
    layer,
    kind: shape.kind,
    kernelH: shape.kernelH,
    kernelW: shape.kernelW,
    stride: shape.stride,
    inChannels: shape.inChannels,
    outChannels,
    rowsTotal,
    slices,
    input,
    blocks: blockPlans,
    cellCount: cellOffset,
    worstCasePartialSum,
    signedPartialSums,
    calibratedRange: null,
    adc: adcTransfer(hw.adcBits, signedPartialSums, worstCasePartialSum, idealAdc),
  };
}

/** Target normalized conductances of a layer's cells, in its cell-vector order. */
export function layerTargetConductances(plan: LayerPlan, gMin: number): Float32Array {
  const targets = new Float32Array(plan.cellCount);
  const S = plan.slices.widths.length;
  for (const block of plan.blocks) {
    const cols = S * block.outCount;
    const size = block.rowCount * cols;
    for (let i = 0; i < size; i++) {
      const s = math.floor((i % cols) / block.outCount);
      const spacing = (1 - gMin) / plan.slices.maxLevels[s]!;
      targets[block.cellOffset + i] = gMin + block.levelsPositive[i]! * spacing;
      if (block.levelsNegative)
        targets[block.cellOffset + size + i] = gMin + block.levelsNegative[i]! * spacing;
    }
  }
  return targets;
}
