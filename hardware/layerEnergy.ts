/** One layer's dynamic energy by component for the cost model (hardware/cost.ts). */
import type { LayerMapping } from './mapping';
import type { LayerShape } from './types';
import type { Context } from './costContext';
import type { EnergyBreakdown } from './costTypes';

export function zeroEnergy(): EnergyBreakdown {
  return {
    array: 0,
    adc: 0,
    sampleHold: 0,
    dac: 0,
    shiftAdd: 0,
    accumulation: 0,
    buffer: 0,
    interconnect: 0,
    offChipIo: 0,
    leakage: 0,
  };
}

export function sumEnergy(e: EnergyBreakdown): number {
  return (
    e.array +
    e.adc +
    e.sampleHold +
    e.dac +
    e.shiftAdd +
    e.accumulation +
    e.buffer +
    e.interconnect +
    e.offChipIo +
    e.leakage
  );
}

/** Dynamic energy of one layer, written into `e` (not yet × dynamicEnergyFactor, NoC hops excluded). */
export interface LayerTraffic {
  nocBytes: number;
}

export function layerDynamicEnergy(
  ctx: Context,
  layer: LayerShape,
  m: LayerMapping,
  e: EnergyBreakdown,
  traffic: LayerTraffic,
): void {
  const cyclesPerImage = m.mvms * m.inputCycles;
  const active = ctx.rowActiveProbability;
  const drives = cyclesPerImage * m.rowDrivesPerCycle * active;
  const conversions = cyclesPerImage * m.conversionsPerCycle;

  e.array =
    drives * ctx.wordLineEnergyPerDriveJ +
    cyclesPerImage * active * (m.usedCells * ctx.cellEnergyJ + m.offBlockCellsPerCycle * ctx.offCellEnergyJ) +
    conversions * ctx.bitLineEnergyJ;
  // Column load seen by the ADC: driven weight rows at the mean level plus zero-level off-block rows.
  const columnConductance =
    active *
    (m.rowsPerColumn * ctx.meanCellConductanceS + m.offBlockRowsPerColumn * ctx.zeroLevelConductanceS);
  e.adc = conversions * (ctx.adcFixedEnergyJ + ctx.adcColumnEnergyPerSiemensJ * columnConductance);
  e.sampleHold = conversions * ctx.sampleHoldEnergyJ;
  e.shiftAdd = conversions * ctx.shiftAddEnergyJ;
  e.dac = drives * ctx.dacEnergyPerDriveJ;

  // Partial sums carry weight + activation bits + log2(rows summed) bits.
  const partialSumBits =
    layer.weightBits + layer.activationBits + Math.ceil(Math.log2(Math.max(2, m.rowsPerColumn)));
  const partialSumBytes = Math.ceil(partialSumBits / 8);
  e.accumulation = m.mvms * m.accumulationsPerMvm * partialSumBits * ctx.adderEnergyPerBitJ;

  // Buffers: a line buffer keeps the K×K window, so each MVM fetches the min(stride, K) new kernel columns.
  const bytesPerActivation = layer.activationBits / 8;
  const inputChannels = layer.kind === 'depthwise' ? layer.outChannels : layer.inChannels;
  const windowBytes =
    inputChannels * layer.kernelH * Math.min(layer.stride, layer.kernelW) * bytesPerActivation;
  const inputBytes =
    inputChannels * layer.outH * layer.stride * layer.outW * layer.stride * bytesPerActivation;
  const outputBytes = layer.outChannels * layer.outH * layer.outW * bytesPerActivation;
  e.buffer = m.mvms * windowBytes * ctx.tileBufferReadJ + inputBytes * ctx.tileBufferWriteJ;
  if (ctx.hasGlobalBuffer)
    e.buffer += outputBytes * ctx.globalBufferWriteJ + inputBytes * ctx.globalBufferReadJ;

  // Interconnect: inputs and partial sums on the tile bus; outputs (and inputs from the global buffer)
  // plus the partial sums produced outside the accumulating tile on the NoC.
  const partialSumTraffic = m.mvms * m.partialSumsPerMvm * partialSumBytes;
  e.interconnect = (m.mvms * windowBytes + partialSumTraffic) * ctx.busEnergyPerByteJ;
  // Each tile adds up the partial sums of the row tiles it holds; only a column group taller than a tile
  // (rowTiles > arraysPerTile) sends ⌈rowTiles/arraysPerTile⌉ − 1 partial sums per output across the NoC.
  const tilesPerColumnGroup = Math.ceil(m.rowTiles / ctx.arraysPerTile);
  const crossTilePartialSums =
    m.accumulationsPerMvm > 0 ? (m.partialSumsPerMvm / m.rowTiles) * (tilesPerColumnGroup - 1) : 0;
  traffic.nocBytes =
    outputBytes + (ctx.hasGlobalBuffer ? inputBytes : 0) + m.mvms * crossTilePartialSums * partialSumBytes;
  e.offChipIo = 0;
  e.leakage = 0;
}
