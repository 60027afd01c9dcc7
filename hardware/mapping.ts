/**
 * Layer → crossbar mapping (DNN+NeuroSim, ISAAC; docs/hardware-model.md §Mapping): rows = Cin·K²,
 * columns = Cout·⌈Wbits/bitsPerCell⌉ (×2 with differential pairs), arrays = ⌈rows/Nr⌉·⌈cols/Nc⌉, one
 * matrix-vector multiplication (MVM) per output pixel, ⌈Abits/DACbits⌉ bit-serial input cycles per MVM.
 *
 * Depthwise layers: each channel's K×K kernel only meets its own input channel, so a dense mapping would
 * be a Cin·K² × C matrix that is zero off the block diagonal. We map it block-diagonally: channel c gets
 * its own K² rows and its own weight columns, and ⌊Nr/K²⌋ (limited by ⌊Nc/colsPerWeight⌋) channels share
 * one array along the diagonal. Off-diagonal cells are programmed to the zero level; they waste area and,
 * on analog devices, still leak Gmin current into the other channels' columns (counted by the cost model).
 * The alternative, one array per channel, wastes far more cells for the same conversions.
 */
import type { DeviceParams } from './devices';
import { columnsPerWeight } from './devices';
import type { HardwareConfig, LayerShape } from './types';

export interface LayerMapping {
  /** Weight rows of the layer (depthwise: C·K², all blocks). */
  rowsNeeded: number;
  /** Weight columns of the layer (depthwise: C·colsPerWeight, all blocks). */
  colsNeeded: number;
  /** Columns per weight: bit slices × (2 with differential pairs). */
  columnsPerWeight: number;
  /** Arrays the rows are split over (depthwise: per channel). */
  rowTiles: number;
  /** Arrays the columns are split over (depthwise: per channel). */
  colTiles: number;
  /** Arrays one copy of the weights occupies. */
  arrays: number;
  /** Depthwise: channels packed on one array's diagonal; 0 for conv and dense. */
  channelsPerArray: number;
  /** Matrix-vector multiplications per image (output pixels). */
  mvms: number;
  /** Bit-serial input cycles per MVM: ⌈activationBits / dacBits⌉. */
  inputCycles: number;
  /** ADC conversions per input cycle of one MVM (every used column of every array). */
  conversionsPerCycle: number;
  /** Word-line (DAC) activations per input cycle of one MVM (a row drives every column tile). */
  rowDrivesPerCycle: number;
  /** Cells holding weights (the ones that carry signal). */
  usedCells: number;
  /** Cells at the zero level read alongside them (depthwise off-diagonal blocks). */
  offBlockCellsPerCycle: number;
  /** Rows feeding one column on average, and the zero-level rows beside them (column load). */
  rowsPerColumn: number;
  offBlockRowsPerColumn: number;
  /** Partial sums one MVM produces (one per output per row tile). */
  partialSumsPerMvm: number;
  /** Additions merging row-tile partial sums per MVM. */
  accumulationsPerMvm: number;
  /** Multiply-accumulates per image. */
  macs: number;
  /** usedCells / (arrays · rows · cols). */
  arrayUtilization: number;
}

export function emptyMapping(): LayerMapping {
  return {
    rowsNeeded: 0,
    colsNeeded: 0,
    columnsPerWeight: 0,
    rowTiles: 0,
    colTiles: 0,
    arrays: 0,
    channelsPerArray: 0,
    mvms: 0,
    inputCycles: 0,
    conversionsPerCycle: 0,
    rowDrivesPerCycle: 0,
    usedCells: 0,
    offBlockCellsPerCycle: 0,
    rowsPerColumn: 0,
    offBlockRowsPerColumn: 0,
    partialSumsPerMvm: 0,
    accumulationsPerMvm: 0,
    macs: 0,
    arrayUtilization: 0,
  };
}

/** Maps `layer` into `out` (reused by the hot path to avoid allocation) and returns it. */
export function mapLayerInto(
  layer: LayerShape,
  hw: HardwareConfig,
  device: DeviceParams,
  out: LayerMapping,
): LayerMapping {
  const kernel = layer.kernelH * layer.kernelW;
  const cpw = columnsPerWeight(device, layer.weightBits, hw.bitsPerCell);
  const mvms = layer.outH * layer.outW;
  out.columnsPerWeight = cpw;
  out.mvms = mvms;
  out.inputCycles = Math.ceil(layer.activationBits / hw.dacBits);

  if (layer.kind === 'depthwise') {
    const channels = layer.outChannels;
    out.rowsNeeded = channels * kernel;
    out.colsNeeded = channels * cpw;
    out.usedCells = channels * kernel * cpw;
    out.macs = mvms * channels * kernel;
    const perArray = Math.min(Math.floor(hw.rows / kernel), Math.floor(hw.cols / cpw));
    if (perArray >= 1) {
      // Block-diagonal packing: one array holds `perArray` channels, no channel spans arrays.
      const packed = Math.min(perArray, channels);
      out.channelsPerArray = packed;
      out.rowTiles = 1;
      out.colTiles = 1;
      out.arrays = Math.ceil(channels / perArray);
      out.conversionsPerCycle = channels * cpw;
      out.rowDrivesPerCycle = channels * kernel;
      // A driven row also reaches the other packed channels' columns through zero-level cells.
      out.offBlockCellsPerCycle = channels * kernel * (packed - 1) * cpw;
      out.rowsPerColumn = kernel;
      out.offBlockRowsPerColumn = (packed - 1) * kernel;
      out.partialSumsPerMvm = channels;
      out.accumulationsPerMvm = 0;
    } else {
      // A kernel taller than the array (or wider than it in columns): tile each channel on its own.
      const rowTiles = Math.ceil(kernel / hw.rows);
      const colTiles = Math.ceil(cpw / hw.cols);
      out.channelsPerArray = 1;
      out.rowTiles = rowTiles;
      out.colTiles = colTiles;
      out.arrays = channels * rowTiles * colTiles;
      out.conversionsPerCycle = channels * cpw * rowTiles;
      out.rowDrivesPerCycle = channels * kernel * colTiles;
      out.offBlockCellsPerCycle = 0;
      out.rowsPerColumn = kernel / rowTiles;
      out.offBlockRowsPerColumn = 0;
      out.partialSumsPerMvm = channels * rowTiles;
      out.accumulationsPerMvm = channels * (rowTiles - 1);
    }
  } else {
    // conv, and dense as a conv with H = W = K = 1
    const rows = layer.inChannels * kernel;
    const cols = layer.outChannels * cpw;
    const rowTiles = Math.ceil(rows / hw.rows);
    const colTiles = Math.ceil(cols / hw.cols);
    out.rowsNeeded = rows;
    out.colsNeeded = cols;
    out.channelsPerArray = 0;
    out.rowTiles = rowTiles;
    out.colTiles = colTiles;
    out.arrays = rowTiles * colTiles;
    out.usedCells = rows * cols;
    out.macs = mvms * rows * layer.outChannels;
    // Each array converts the columns it holds; each row tile holds every column once.
    out.conversionsPerCycle = cols * rowTiles;
    // A row's input is driven into every column tile's array.
    out.rowDrivesPerCycle = rows * colTiles;
    out.offBlockCellsPerCycle = 0;
    out.rowsPerColumn = rows / rowTiles;
    out.offBlockRowsPerColumn = 0;
    out.partialSumsPerMvm = layer.outChannels * rowTiles;
    out.accumulationsPerMvm = layer.outChannels * (rowTiles - 1);
  }
  out.arrayUtilization = out.usedCells / (out.arrays * hw.rows * hw.cols);
  return out;
}

/** Maps one layer onto crossbars of `hw` (a fresh object; see mapLayerInto for the hot path). */
export function mapLayer(layer: LayerShape, hw: HardwareConfig, device: DeviceParams): LayerMapping {
  return mapLayerInto(layer, hw, device, emptyMapping());
}
