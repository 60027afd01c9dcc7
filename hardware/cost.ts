/**
 * The analytical cost model: energy, latency and area of a network on a candidate chip, per layer and in
 * total, with a per-component breakdown. `evaluateNetwork` is the search's hot path: it allocates a few
 * small objects per call and nothing per layer unless per-layer results are asked for.
 *
 * Model, per layer (one image); docs/hardware-model.md gives every formula with its source:
 * - Mapping (hardware/mapping.ts) gives arrays, conversions and word-line drives per input cycle.
 * - Cycle time: colsPerAdc conversions of one sensing clock each (conversion × the sensing factor: NeuroSim
 *   V1.4's synchronous clock); architectures with a separate read step (ISAAC) add DAC settling and the
 *   device read pulse, and with `overlapReadAndConvert` the read and the conversions overlap.
 * - Energy: array (cell current or word-line charging, see CellCurrentAccounting), ADC, sample-and-hold,
 *   DAC / word-line drivers, shift-and-add, partial-sum accumulation, buffers (tile and global),
 *   interconnect (intra-tile bus, inter-tile NoC by mesh hops), off-chip I/O power × time, leakage
 *   (fraction of peak dynamic power × time).
 * - Latency: per layer, MVMs / copies × input cycles × cycle time (copies: weight duplication, and with
 *   `fillTilesWithCopies` the spare arrays of the layer's own processing elements) + MVMs × data movement
 *   (buffer and interconnect clock cycles); layer-by-layer = Σ layers, pipelined = the slowest layer.
 * - Area: tiles × (arrays + ADCs + DACs + S&H + shift-add + periphery per row/column + tile buffer +
 *   interconnect) + global buffer, × layout efficiency, + off-chip I/O. A layer owns whole tiles.
 *
 * Metrics: TOPS/W = ops / energy, TOPS/mm² = ops / (time per image · area), EDP = E·t (J·s),
 * EDAP = E·t·A (J·s·mm²), with 1 MAC = 2 ops (ISAAC convention; docs/sources.md §Conventions), all
 * whole-network totals.
 */
import type { ArchitectureParams } from './architectures';
import { adcFigures, bufferAreaPerByteUm2, dacFigures } from './components';
import type { DeviceParams } from './devices';
import { cellAreaF2At } from './devices';
import type { HardwareLibrary } from './library';
import { DEFAULT_LIBRARY, getArchitecture, getDevice } from './library';
import type { LayerMapping } from './mapping';
import { emptyMapping, mapLayerInto } from './mapping';
import {
  TECH_NODE_TABLE,
  accessTransistorOnOhm,
  areaScale,
  circuitAreaFactor,
  cmosEnergyScale,
  featureSizeM,
  leakagePowerDensityWPerMm2,
  wordLineDriveS,
} from './technology';
import type { HardwareConfig, LayerShape } from './types';

/** Energy per image by component, in J. */
export interface EnergyBreakdown {
  array: number;
  adc: number;
  sampleHold: number;
  dac: number;
  shiftAdd: number;
  accumulation: number;
  buffer: number;
  interconnect: number;
  offChipIo: number;
  leakage: number;
}

/**
 * Chip area by component, in mm² (layoutOverhead = the empty corners of edge-periphery bounding boxes plus
 * (sum + corners) × (layoutEfficiency − 1)).
 */
export interface AreaBreakdown {
  array: number;
  adc: number;
  sampleHold: number;
  dac: number;
  shiftAdd: number;
  tileBuffer: number;
  globalBuffer: number;
  interconnect: number;
  /** Decoders, drivers, muxes, switch matrices, adder trees (architecture peripheryAreaF2 per row/column). */
  periphery: number;
  layoutOverhead: number;
  offChipIo: number;
}

export interface LayerCost {
  name: string;
  kind: LayerShape['kind'];
  mapping: LayerMapping;
  /** Weight copies (weight duplication); 1 without. */
  copies: number;
  /** Tiles this layer owns (all copies). */
  tiles: number;
  ops: number;
  energyJ: number;
  /** Time this layer takes for one image (with its copies). */
  latencyS: number;
  /** ADC conversions per image. */
  conversions: number;
  /** Area of the tiles this layer owns, with the layout factor (global buffer and I/O excluded). */
  areaMm2: number;
  /** Weight cells of all copies / cells of the layer's tiles. */
  utilization: number;
  topsPerW: number;
  /** ops / (layer latency · layer area). */
  topsPerMm2: number;
  /** J·s and J·s·mm² of the layer on its own tiles. */
  edp: number;
  edap: number;
  energyBreakdown: EnergyBreakdown;
}

export interface NetworkCost {
  /** Energy per image (J). */
  energyJ: number;
  /** Time per image the metrics use: layer-by-layer latency, or the pipeline interval when pipelined. */
  latencyS: number;
  /** One image through every layer in turn (also the pipeline's fill latency). */
  latencyLayerByLayerS: number;
  /** Slowest layer: time between images when pipelined. */
  pipelineIntervalS: number;
  areaMm2: number;
  /** J·s. */
  edp: number;
  /** J·s·mm². */
  edap: number;
  ops: number;
  macs: number;
  topsPerW: number;
  topsPerMm2: number;
  /** Weight cells / cells of the chip's arrays. */
  utilization: number;
  /** Arrays holding weights (all copies). */
  arrays: number;
  /** Tiles on the chip: the budget when given (and met), else what the network needs. */
  tiles: number;
  requiredTiles: number;
  /** The `tiles` budget, or null when none was given. */
  availableTiles: number | null;
  fitsCapacity: boolean;
  conversions: number;
  /** One bit-serial input cycle of an array (s). */
  cycleTimeS: number;
  energyBreakdown: EnergyBreakdown;
  areaBreakdown: AreaBreakdown;
  /** Present when evaluated with `{ perLayer: true }`. */
  layers?: LayerCost[];
}

export interface EvaluateOptions {
  /** Include per-layer costs (allocates one object per layer). */
  perLayer?: boolean;
  /** Overrides the architecture's input bit density (fraction of input bits that are 1). */
  inputBitDensity?: number;
  /** Overrides the architecture's mean programmed level (fraction of the conductance range). */
  meanCellLevel?: number;
}

/** Per-configuration constants, computed once per evaluation. */
interface Context {
  device: DeviceParams;
  arch: ArchitectureParams;
  arraysPerTile: number;
  cycleTimeS: number;
  /** The sensing clock: one conversion × sensingLatencyFactor (NeuroSim synchronous mode's clkPeriod). */
  clockS: number;
  /** One data-movement cycle: the clock × (reference columns / columns)^exponent (wider buses). */
  moveClockS: number;
  /** Arrays per side of a processing element (arraysPerTile/4) and of a tile, for spareArrayCopies. */
  peSide: number;
  tileSide: number;
  /** Probability that a row is driven in an input cycle (some of its dacBits input bits are 1). */
  rowActiveProbability: number;
  /** Array: energy per driven weight cell and per driven zero-level cell (J). */
  cellEnergyJ: number;
  offCellEnergyJ: number;
  /** Array: word-line charge per driven row per sensing step, × sensing steps per cycle (J). */
  wordLineEnergyPerDriveJ: number;
  /** SRAM: bit-line precharge per column read (J). */
  bitLineEnergyJ: number;
  /** ADC: fixed energy per conversion, and the column-load energy per conversion per S of column load. */
  adcFixedEnergyJ: number;
  adcColumnEnergyPerSiemensJ: number;
  meanCellConductanceS: number;
  zeroLevelConductanceS: number;
  sampleHoldEnergyJ: number;
  shiftAddEnergyJ: number;
  dacEnergyPerDriveJ: number;
  adderEnergyPerBitJ: number;
  tileBufferReadJ: number;
  tileBufferWriteJ: number;
  globalBufferReadJ: number;
  globalBufferWriteJ: number;
  hasGlobalBuffer: boolean;
  busEnergyPerByteJ: number;
  routerEnergyPerByteHopJ: number;
  /** Area per array with its periphery (µm²), by component. */
  arrayAreaUm2: number;
  adcAreaPerArrayUm2: number;
  dacAreaPerArrayUm2: number;
  sampleHoldAreaPerArrayUm2: number;
  shiftAddAreaPerArrayUm2: number;
  peripheryAreaPerArrayUm2: number;
  /** Empty corner of an array's bounding box with edge periphery (µm²). */
  cornerAreaPerArrayUm2: number;
  tileBufferAreaMm2: number;
  interconnectAreaPerTileMm2: number;
  globalBufferAreaPerByteMm2: number;
  /** Peak dynamic power of one fully used array (W), for leakage. */
  peakArrayPowerW: number;
  /** Global-wire delay per length relative to 22 nm: ∝ 1/wire width (hardware/technology.ts featureSizeNm). */
  wireDelayNodeFactor: number;
}

function prepareContext(
  hw: HardwareConfig,
  library: HardwareLibrary,
  options: EvaluateOptions | undefined,
): Context {
  const device = getDevice(library, hw.device);
  const arch = getArchitecture(library, hw.architecture);
  const node = hw.techNode;
  const nodeParams = TECH_NODE_TABLE[node];
  if (!nodeParams) throw new Error(`hardware.techNode: ${String(node)} nm is not in the node table`);
  const vdd = hw.supplyVoltage ?? nodeParams.vddV;
  const density = options?.inputBitDensity ?? arch.inputBitDensity;
  const meanLevel = options?.meanCellLevel ?? arch.meanCellLevel;
  const digital = device.ronOhm === null;
  const vread = device.readVoltageV ?? vdd;

  // Conductances (S): Gmax = 1/Ron, Gmin = Gmax/onOff; the mean programmed cell sits meanLevel up the range.
  const gMax = digital ? 0 : 1 / (device.ronOhm as number);
  const gMin = digital || device.onOffRatio === null ? 0 : gMax / device.onOffRatio;
  const gMean = gMin + meanLevel * (gMax - gMin);

  // Geometry: square-pitch cells of cellAreaF2·F², F = the node (hardware/technology.ts featureSizeM).
  const featureM = featureSizeM(node);
  const cellAreaM2 = cellAreaF2At(device, node) * featureM * featureM;
  const pitchUm = Math.sqrt(cellAreaM2) * 1e6;
  const wordLineCapF = arch.wireCapacitanceFPerUm * hw.cols * pitchUm;
  const bitLineCapF = arch.wireCapacitanceFPerUm * hw.rows * pitchUm;

  // SRAM cells sum on the bit line through their access transistors: every driven row conducts the same
  // whatever its bit (NeuroSim V1.4 ProcessingUnit.cpp GetColumnResistance, SRAM: 1/(resCellAccess + wire)).
  const sramColumn = digital && device.family === 'sram' && arch.cellCurrentAccounting === 'adc';
  const columnCellG = sramColumn ? 1 / accessTransistorOnOhm(node) : gMean;
  const columnZeroG = sramColumn ? columnCellG : gMin;
  const cellCurrentInAdc = arch.cellCurrentAccounting === 'adc' && (!digital || sramColumn);
  // A typical column: every row driven with probability rowActive, cells at the mean level.
  const rowActive = 1 - Math.pow(1 - density, hw.dacBits);
  const typicalColumnOhm = 1 / (hw.rows * rowActive * columnCellG);
  const adc = adcFigures(arch, hw.adcType, hw.adcBits, node, vdd, cellCurrentInAdc, typicalColumnOhm, vread);
  const cellCurrentCountedByAdc = adc.countsCellCurrent;
  const dac = dacFigures(arch, hw.dacBits, node, vdd);

  // Cycle: DAC settles, the read pulse develops the column, colsPerAdc conversions share each ADC.
  // NeuroSim's synchronous clock: (word-line drive + one conversion) × beta (SubArray.cpp CalculateLatency).
  const clockS = arch.separateReadStep
    ? adc.conversionTimeS * arch.sensingLatencyFactor
    : (wordLineDriveS(node, hw.cols) + adc.conversionTimeS) * arch.sensingLatencyFactor;
  const sensingS = hw.colsPerAdc * clockS;
  const readPulseS = arch.separateReadStep ? device.readPulseS : 0;
  const frontS = arch.separateReadStep ? dac.latencyS + readPulseS : 0;
  const cycleTimeS = arch.overlapReadAndConvert ? Math.max(frontS, sensingS) : frontS + sensingS;
  // Rows stay driven while the muxed columns are converted unless the read is pipelined ahead of them.
  const driveTimeS = arch.overlapReadAndConvert
    ? readPulseS
    : readPulseS + hw.colsPerAdc * adc.conversionTimeS;

  // Word lines recharge once per sensing step (NeuroSim: × numColMuxed).
  const sensingSteps = arch.overlapReadAndConvert ? 1 : hw.colsPerAdc;
  const wordLineEnergyPerDriveJ = wordLineCapF * vdd * vdd * sensingSteps;

  let cellEnergyJ = 0;
  let offCellEnergyJ = 0;
  let arrayWordLineJ = wordLineEnergyPerDriveJ;
  if (!digital && !cellCurrentCountedByAdc) {
    if (device.readEnergyPerCellJ !== undefined) {
      // Published array energy (ISAAC) already includes its word lines.
      cellEnergyJ = device.readEnergyPerCellJ;
      offCellEnergyJ = gMean > 0 ? (device.readEnergyPerCellJ * gMin) / gMean : 0;
      arrayWordLineJ = 0;
    } else {
      // Ohmic read: E = Vread²·G·t_read per driven cell
      cellEnergyJ = vread * vread * gMean * device.readPulseS;
      offCellEnergyJ = vread * vread * gMin * device.readPulseS;
    }
  }
  const bitLineEnergyJ = digital ? bitLineCapF * vread * vread : 0;

  const digitalScale = (from: Parameters<typeof cmosEnergyScale>[0]) => cmosEnergyScale(from, node, vdd);
  const sampleHoldEnergyJ = arch.sampleHold.energyJ * digitalScale(arch.sampleHold.node);
  const shiftAddEnergyJ = arch.shiftAdd.energyPerOpJ * digitalScale(arch.shiftAdd.node);
  const adderEnergyPerBitJ = arch.adderEnergyPerBitJ.energyJ * digitalScale(arch.adderEnergyPerBitJ.node);
  const dacEnergyPerDriveJ = dac.powerW * driveTimeS;

  const rowActiveProbability = rowActive;
  // NeuroSim: c/R′ with R′ = R_col·0.5/Vread → power = c·G_col·Vread/0.5
  const adcColumnPowerPerSiemensW = cellCurrentCountedByAdc ? (adc.columnCoefficient * vread) / 0.5 : 0;

  const sramDevice = library.devices.get('sram');
  const tileBufferAreaMm2 =
    (arch.tileBuffer.bytes * bufferAreaPerByteUm2(arch.tileBuffer, node, sramDevice)) / 1e6;
  const globalBufferAreaPerByteMm2 = bufferAreaPerByteUm2(arch.globalBuffer, node, sramDevice) / 1e6;
  // Circuits (not cells) at FinFET nodes shrink less than F² (hardware/technology.ts circuitAreaFactor).
  const f2Um2 = (featureM * 1e6) ** 2 * circuitAreaFactor(node);
  const pa = arch.peripheryAreaF2;
  const levelShifters = (device.writeVoltageV ?? 0) > 1.5;
  const peripheryPerRowF2 = pa.perRow + (levelShifters ? pa.levelShiftersPerRow : 0);
  const peripheryPerColumnF2 = pa.perColumn + (levelShifters ? pa.levelShiftersPerColumn : 0);
  const peripheryAreaPerArrayUm2 = (peripheryPerRowF2 * hw.rows + peripheryPerColumnF2 * hw.cols) * f2Um2;

  const adcsPerArray = Math.ceil(hw.cols / hw.colsPerAdc);
  const arrayAreaUm2 = hw.rows * hw.cols * cellAreaM2 * 1e12;
  const adcAreaPerArrayUm2 = adcsPerArray * adc.areaUm2 * circuitAreaFactor(node);
  const dacAreaPerArrayUm2 = hw.rows * dac.areaUm2;
  const sampleHoldAreaPerArrayUm2 = hw.cols * arch.sampleHold.areaUm2 * areaScale(arch.sampleHold.node, node);
  const shiftAddAreaPerArrayUm2 =
    arch.shiftAdd.unitsPerArray * arch.shiftAdd.areaUm2PerUnit * areaScale(arch.shiftAdd.node, node);
  // Periphery laid along the array's edges: column circuits (ADCs, S&H, shift-add, column periphery) in a
  // strip as wide as the array, row circuits (drivers, row periphery) in a strip as tall as it; the array's
  // bounding box adds the corner between the strips, col·row/array. NeuroSim V1.4 floorplans this way
  // (SubArray.cpp places periphery at the array's width/height; Tile.cpp/Chip.cpp take bounding boxes):
  // the form reproduces its chip area within −7 … +8 % for every V1.4 fixture (22 nm RRAM at 64–256
  // rows, SRAM, FeFET at 7 nm; bench/fixtures/neurosim), where the chip/component-sum ratio runs 1.05–12.
  const columnStripUm2 =
    adcAreaPerArrayUm2 +
    sampleHoldAreaPerArrayUm2 +
    shiftAddAreaPerArrayUm2 +
    peripheryPerColumnF2 * hw.cols * f2Um2;
  const rowStripUm2 = dacAreaPerArrayUm2 + peripheryPerRowF2 * hw.rows * f2Um2;
  const cornerAreaPerArrayUm2 = arch.edgePeripheryLayout ? (columnStripUm2 * rowStripUm2) / arrayAreaUm2 : 0;
  // Tile interconnect: buses across the tile, as long as its side and as wide as a fixed number of feature
  // sizes (NeuroSim V1.4 interconnect area per tile = 179 µm × (node/22 nm) × √(tile area) within ±20 % on
  // every V1.4 fixture at 64–256 rows, 7–45 nm, SRAM and NVM; bench/fixtures/neurosim).
  const tileArrays = hw.arraysPerTile ?? arch.arraysPerTile;
  const tileCoreUm2 =
    tileArrays * (arrayAreaUm2 + columnStripUm2 + rowStripUm2 + cornerAreaPerArrayUm2) +
    tileBufferAreaMm2 * 1e6;
  const interconnectAreaPerTileMm2 =
    arch.bus.areaMm2PerTile * areaScale(arch.bus.node, node) +
    (arch.router.areaMm2 / arch.router.tilesPerRouter) * areaScale(arch.router.node, node) +
    (arch.tileInterconnectWidthF * featureM * 1e6 * Math.sqrt(tileCoreUm2)) / 1e6;

  // Peak dynamic power of a fully used array: every row driven, every column converted, each cycle.
  const fullColumnConductance = hw.rows * rowActiveProbability * columnCellG;
  const conversionEnergyFullJ =
    adc.fixedEnergyJ + adc.columnTimeS * adcColumnPowerPerSiemensW * fullColumnConductance;
  const peakArrayEnergyPerCycleJ =
    hw.cols * (conversionEnergyFullJ + sampleHoldEnergyJ + shiftAddEnergyJ) +
    hw.rows * rowActiveProbability * (dacEnergyPerDriveJ + arrayWordLineJ) +
    hw.rows * hw.cols * rowActiveProbability * cellEnergyJ +
    (digital ? hw.cols * bitLineEnergyJ : 0);
  const peakArrayPowerW = (peakArrayEnergyPerCycleJ * arch.dynamicEnergyFactor) / cycleTimeS;

  return {
    device,
    arch,
    arraysPerTile: hw.arraysPerTile ?? arch.arraysPerTile,
    cycleTimeS,
    clockS,
    moveClockS:
      clockS * (arch.dataMovementCycles.referenceCols / hw.cols) ** arch.dataMovementCycles.colsExponent,
    peSide: Math.max(1, Math.floor(Math.sqrt((hw.arraysPerTile ?? arch.arraysPerTile) / 4))),
    tileSide: Math.max(1, Math.floor(Math.sqrt(hw.arraysPerTile ?? arch.arraysPerTile))),
    rowActiveProbability,
    cellEnergyJ,
    offCellEnergyJ,
    wordLineEnergyPerDriveJ: arrayWordLineJ,
    bitLineEnergyJ,
    adcFixedEnergyJ: adc.fixedEnergyJ,
    adcColumnEnergyPerSiemensJ: adc.columnTimeS * adcColumnPowerPerSiemensW,
    meanCellConductanceS: columnCellG,
    zeroLevelConductanceS: columnZeroG,
    sampleHoldEnergyJ,
    shiftAddEnergyJ,
    dacEnergyPerDriveJ,
    adderEnergyPerBitJ,
    tileBufferReadJ: arch.tileBuffer.readEnergyPerByteJ * digitalScale(arch.tileBuffer.node),
    tileBufferWriteJ: arch.tileBuffer.writeEnergyPerByteJ * digitalScale(arch.tileBuffer.node),
    globalBufferReadJ: arch.globalBuffer.readEnergyPerByteJ * digitalScale(arch.globalBuffer.node),
    globalBufferWriteJ: arch.globalBuffer.writeEnergyPerByteJ * digitalScale(arch.globalBuffer.node),
    hasGlobalBuffer: arch.globalBuffer.bytes !== 0,
    // Wires between circuits are as long as the circuits are wide: √(circuitAreaFactor) longer at FinFET nodes.
    busEnergyPerByteJ:
      arch.bus.energyPerByteJ * digitalScale(arch.bus.node) * Math.sqrt(circuitAreaFactor(node)),
    routerEnergyPerByteHopJ:
      arch.router.energyPerByteHopJ * digitalScale(arch.router.node) * Math.sqrt(circuitAreaFactor(node)),
    arrayAreaUm2,
    adcAreaPerArrayUm2,
    dacAreaPerArrayUm2,
    sampleHoldAreaPerArrayUm2,
    shiftAddAreaPerArrayUm2,
    peripheryAreaPerArrayUm2,
    cornerAreaPerArrayUm2,
    tileBufferAreaMm2,
    interconnectAreaPerTileMm2,
    globalBufferAreaPerByteMm2,
    peakArrayPowerW,
    // Repeated-wire delay per length ∝ √(r·c) with r ∝ 1/width² (NeuroSim V1.4 HTree.cpp unitLatencyRep)
    wireDelayNodeFactor: TECH_NODE_TABLE[22].featureSizeNm / nodeParams.featureSizeNm,
  };
}

function zeroEnergy(): EnergyBreakdown {
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

function sumEnergy(e: EnergyBreakdown): number {
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
interface LayerTraffic {
  nocBytes: number;
}

function layerDynamicEnergy(
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

/**
 * Copies of a layer that fit in the spare arrays of the processing elements it occupies (NeuroSim V1.4
 * Chip.cpp ChipDesignInitialize / ChipFloorPlan "speed-up of each layer"). NeuroSim's novel mapping gives
 * each kernel position of a K×K convolution its own processing elements of (√(arraysPerTile/4))² arrays;
 * dense and 1×1 layers fill whole tiles of (√arraysPerTile)² arrays (conventional mapping). The rows and
 * columns of arrays a layer needs are rounded up to whole elements; the ratio of provided to needed arrays,
 * rounded down to a power of two, is the copy count. Convolutions with fewer rows than an array (VGG-8's
 * first layer) map conventionally, as in NeuroSim. Reproduces the speed-ups NeuroSim prints for VGG-8
 * (bench/fixtures/neurosim/rram22_c2_a128_flash5_lbl.json: 16, 4, 4, 2, 2, 1, 1, 8; the last layer's
 * copies share its single vector, so the project keeps 1).
 */
function spareArrayCopies(layer: LayerShape, m: LayerMapping, ctx: Context, rows: number): number {
  const kernel = layer.kernelH * layer.kernelW;
  // Novel mapping only for convolutions that fill an array's rows (Chip.cpp ChipDesignInitialize: "large Cov
  // layers use novel mapping", Cin·K² ≥ numRowSubArray; small ones are mapped conventionally).
  const novel = layer.kind !== 'dense' && kernel > 1 && m.rowsNeeded >= rows;
  const side = novel ? ctx.peSide : ctx.tileSide;
  const rowArrays = novel ? Math.ceil(m.rowsNeeded / kernel / rows) : m.rowTiles;
  const colArrays = m.colTiles;
  const provided = Math.ceil(rowArrays / side) * side * Math.ceil(colArrays / side) * side;
  const ratio = provided / Math.max(1, rowArrays * colArrays);
  let copies = 1;
  while (copies * 2 <= ratio) copies *= 2;
  return copies;
}

// Scratch storage reused across calls (evaluation is synchronous, so one set suffices).
const scratchMapping = emptyMapping();
const scratchEnergy = zeroEnergy();
const scratchTraffic: LayerTraffic = { nocBytes: 0 };
let scratchCopies = new Float64Array(64);
// Per layer: array compute + buffer time, and H-tree transfer time at one cycle per transfer (s).
let scratchFixedS = new Float64Array(64);
let scratchTransferS = new Float64Array(64);

/**
 * Mean clock cycles one H-tree transfer takes: ⌈t/clock⌉ per transfer (NeuroSim V1.4 HTree.cpp
 * CalculateLatency, synchronous: `ceil(readLatency·clkFreq)`), with the wire delay t proportional to a
 * tile's distance from the chip's centre, taken as uniform between half the chip side and the side
 * (the H-tree's vertical and horizontal stages add up to half a side each, the main bus up to another half).
 * `longest` = the delay to the farthest tile in clock periods.
 */
export function meanCyclesPerTransfer(longest: number): number {
  if (!(longest > 1)) return 1;
  const lo = longest / 2;
  const hi = longest;
  let total = 0;
  // ∫ ⌈x⌉ dx over [lo, hi]: whole unit intervals k−1 < x ≤ k contribute k × their overlap.
  for (let k = Math.max(1, Math.ceil(lo)); k - 1 < hi; k++) {
    const overlap = Math.min(hi, k) - Math.max(lo, k - 1);
    if (overlap > 0) total += k * overlap;
  }
  return Math.max(1, total / (hi - lo));
}

/**
 * Copies per layer for pipelined weight duplication: the smallest pipeline interval T such that giving
 * each layer ⌈work/T⌉ copies (at most one per output pixel) fits the tile budget. Bisection on T.
 */
function duplicationCopies(
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  ctx: Context,
  budgetTiles: number,
  copies: Float64Array,
): void {
  const n = layers.length;
  const apt = ctx.arraysPerTile;
  const arrays = new Float64Array(n);
  const work = new Float64Array(n);
  const maxCopies = new Float64Array(n);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const m = mapLayerInto(layers[i], hw, ctx.device, scratchMapping);
    arrays[i] = m.arrays;
    work[i] = m.mvms * m.inputCycles;
    maxCopies[i] = Math.max(1, m.mvms);
    hi = Math.max(hi, work[i]);
    lo = Math.max(lo, work[i] / maxCopies[i]);
  }
  const tilesAt = (interval: number): number => {
    let tiles = 0;
    for (let i = 0; i < n; i++) {
      const c = Math.min(maxCopies[i], Math.max(1, Math.ceil(work[i] / interval - 1e-9)));
      tiles += Math.ceil((arrays[i] * c) / apt);
    }
    return tiles;
  };
  for (let i = 0; i < n; i++) copies[i] = 1;
  if (tilesAt(hi) > budgetTiles) return; // does not even fit once: no duplication
  for (let iteration = 0; iteration < 50 && hi - lo > 1e-6 * hi; iteration++) {
    const mid = (lo + hi) / 2;
    if (tilesAt(mid) <= budgetTiles) hi = mid;
    else lo = mid;
  }
  for (let i = 0; i < n; i++) copies[i] = Math.min(maxCopies[i], Math.max(1, Math.ceil(work[i] / hi - 1e-9)));
}

/**
 * NeuroSim V1.4's pipeline speed-up per layer (Chip.cpp ChipDesignInitialize): S = min(speedUpDegree 8,
 * maxIFM/minIFM over K×K convolutions), each layer ⌈(IFM/⌈maxIFM/S⌉)²⌉ (dense and 1×1 layers: their 1×1
 * input map gives 1). IFM = output map × stride + K − 1 (NeuroSim's unpadded input map).
 */
function ifmSpeedUpCopies(layers: readonly LayerShape[], copies: Float64Array): void {
  const n = layers.length;
  const ifm = (layer: LayerShape) => layer.outH * layer.stride + layer.kernelH - 1;
  let maxIfm = 0;
  let minIfm = Infinity;
  for (let i = 0; i < n; i++) {
    const layer = layers[i];
    maxIfm = Math.max(maxIfm, ifm(layer));
    if (layer.kernelH !== 1) minIfm = Math.min(minIfm, ifm(layer));
  }
  const degree = Number.isFinite(minIfm) ? Math.max(1, Math.min(8, Math.floor(maxIfm / minIfm))) : 1;
  const bound = Math.ceil(maxIfm / degree);
  for (let i = 0; i < n; i++) {
    const layer = layers[i];
    copies[i] = layer.kind === 'dense' ? 1 : Math.max(1, Math.ceil((ifm(layer) / bound) ** 2));
  }
}

/**
 * Cost of running `layers` on the chip `hw`. Assumes `hw` passed validateHardware (unknown device,
 * architecture or node names throw).
 */
export function evaluateNetwork(
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  library: HardwareLibrary = DEFAULT_LIBRARY,
  options?: EvaluateOptions,
): NetworkCost {
  const ctx = prepareContext(hw, library, options);
  const arch = ctx.arch;
  const apt = ctx.arraysPerTile;
  const n = layers.length;
  const pipelined = hw.executionMode === 'pipelined';

  if (scratchCopies.length < n) {
    const size = Math.max(n, scratchCopies.length * 2);
    scratchCopies = new Float64Array(size);
    scratchFixedS = new Float64Array(size);
    scratchTransferS = new Float64Array(size);
  }
  const copies = scratchCopies;
  const ifmSpeedUp = pipelined && hw.pipelineSpeedUp === 'ifm';
  if (pipelined && hw.weightDuplication && hw.tiles !== undefined) {
    duplicationCopies(layers, hw, ctx, hw.tiles, copies);
  } else if (ifmSpeedUp) {
    ifmSpeedUpCopies(layers, copies);
  } else {
    for (let i = 0; i < n; i++) copies[i] = 1;
  }

  const total = zeroEnergy();
  const perLayer: LayerCost[] | undefined = options?.perLayer ? [] : undefined;
  const layerNocBytes: number[] | undefined = perLayer ? [] : undefined;
  let macs = 0;
  let arraysTotal = 0;
  let requiredTiles = 0;
  let usedCells = 0;
  let conversionsTotal = 0;
  let nocBytes = 0;
  let largestActivationBytes = 0;
  const dynamicFactor = arch.dynamicEnergyFactor;

  for (let i = 0; i < n; i++) {
    const layer = layers[i];
    const m = mapLayerInto(layer, hw, ctx.device, scratchMapping);
    const e = scratchEnergy;
    layerDynamicEnergy(ctx, layer, m, e, scratchTraffic);
    // Spare arrays of the layer's own tiles hold more copies (NeuroSim's speed-up); they share its data path.
    const fillCopies = arch.fillTilesWithCopies
      ? Math.min(m.mvms, spareArrayCopies(layer, m, ctx, hw.rows))
      : 1;
    // The IFM speed-up's copies go first into the spare arrays, then into added tiles (NeuroSim: the
    // larger of the two speed-ups).
    if (ifmSpeedUp) copies[i] = Math.max(1, Math.ceil(copies[i] / fillCopies));
    const layerCopies = copies[i];
    const arrayCopies = ifmSpeedUp
      ? Math.min(m.mvms, Math.max(fillCopies, layerCopies * fillCopies))
      : Math.max(layerCopies, fillCopies);
    const layerTiles = Math.ceil((m.arrays * layerCopies) / apt);
    const dm = arch.dataMovementCycles;
    const inputBitsPerMvm =
      (layer.kind === 'depthwise' ? layer.outChannels : layer.inChannels) *
      layer.kernelH *
      Math.min(layer.stride, layer.kernelW) *
      layer.activationBits;
    const movingMvms = Math.ceil(m.mvms / layerCopies);
    const computeS = Math.ceil(m.mvms / arrayCopies) * m.inputCycles * ctx.cycleTimeS;
    const bufferS = movingMvms * ctx.moveClockS * dm.perMvm;
    const transferS =
      movingMvms *
      ctx.moveClockS *
      (dm.perInputBit * inputBitsPerMvm + dm.perOutputBit * layer.outChannels * layer.activationBits);
    // Transfers wait for the chip's size (known after the loop): latency = fixed part + transfers × cycles each.
    scratchFixedS[i] = computeS + bufferS;
    scratchTransferS[i] = transferS;
    const conversions = m.mvms * m.inputCycles * m.conversionsPerCycle;

    total.array += e.array;
    total.adc += e.adc;
    total.sampleHold += e.sampleHold;
    total.dac += e.dac;
    total.shiftAdd += e.shiftAdd;
    total.accumulation += e.accumulation;
    total.buffer += e.buffer;
    total.interconnect += e.interconnect;
    nocBytes += scratchTraffic.nocBytes;
    macs += m.macs;
    arraysTotal += m.arrays * layerCopies;
    requiredTiles += layerTiles;
    usedCells += m.usedCells * layerCopies;
    conversionsTotal += conversions;
    const bytesPerActivation = layer.activationBits / 8;
    const inputChannels = layer.kind === 'depthwise' ? layer.outChannels : layer.inChannels;
    const activationBytes =
      bytesPerActivation *
      (inputChannels * layer.outH * layer.stride * layer.outW * layer.stride +
        layer.outChannels * layer.outH * layer.outW);
    if (activationBytes > largestActivationBytes) largestActivationBytes = activationBytes;

    if (perLayer && layerNocBytes) {
      const breakdown: EnergyBreakdown = { ...e };
      perLayer.push({
        name: layer.name,
        kind: layer.kind,
        mapping: { ...m },
        copies: layerCopies,
        tiles: layerTiles,
        ops: 2 * m.macs,
        energyJ: 0,
        latencyS: 0,
        conversions,
        areaMm2: 0,
        utilization: (m.usedCells * layerCopies) / (layerTiles * apt * hw.rows * hw.cols),
        topsPerW: 0,
        topsPerMm2: 0,
        edp: 0,
        edap: 0,
        energyBreakdown: breakdown,
      });
      layerNocBytes.push(scratchTraffic.nocBytes);
    }
  }

  // Chip size: the tile budget when it is met, otherwise what the network needs.
  const budget = hw.tiles;
  const chipTiles = budget !== undefined && budget >= requiredTiles ? budget : requiredTiles;
  // Mean Manhattan distance in a √n × √n mesh ≈ 2√n/3 hops.
  const hops = Math.max(1, (2 * Math.sqrt(chipTiles)) / 3);
  const nocEnergyPerByte = hops * ctx.routerEnergyPerByteHopJ;

  total.array *= dynamicFactor;
  total.adc *= dynamicFactor;
  total.sampleHold *= dynamicFactor;
  total.dac *= dynamicFactor;
  total.shiftAdd *= dynamicFactor;
  total.accumulation *= dynamicFactor;
  total.buffer *= dynamicFactor;
  total.interconnect = (total.interconnect + nocBytes * nocEnergyPerByte) * dynamicFactor;

  // Area (mm²).
  const tileArrays = chipTiles * apt;
  const globalBufferBytes =
    arch.globalBuffer.bytes === 'auto' ? largestActivationBytes : (arch.globalBuffer.bytes as number);
  const area: AreaBreakdown = {
    array: (tileArrays * ctx.arrayAreaUm2) / 1e6,
    adc: (tileArrays * ctx.adcAreaPerArrayUm2) / 1e6,
    sampleHold: (tileArrays * ctx.sampleHoldAreaPerArrayUm2) / 1e6,
    dac: (tileArrays * ctx.dacAreaPerArrayUm2) / 1e6,
    shiftAdd: (tileArrays * ctx.shiftAddAreaPerArrayUm2) / 1e6,
    tileBuffer: chipTiles * ctx.tileBufferAreaMm2,
    globalBuffer: globalBufferBytes * ctx.globalBufferAreaPerByteMm2,
    interconnect: chipTiles * ctx.interconnectAreaPerTileMm2,
    periphery: (tileArrays * ctx.peripheryAreaPerArrayUm2) / 1e6,
    layoutOverhead: 0,
    offChipIo: arch.offChipIo.areaMm2,
  };
  const onChip =
    area.array +
    area.adc +
    area.sampleHold +
    area.dac +
    area.shiftAdd +
    area.tileBuffer +
    area.globalBuffer +
    area.interconnect +
    area.periphery;
  const cornerMm2 = (tileArrays * ctx.cornerAreaPerArrayUm2) / 1e6;
  area.layoutOverhead = (onChip + cornerMm2) * arch.layoutEfficiency - onChip;
  const areaMm2 = onChip + area.layoutOverhead + area.offChipIo;

  // Latency: the H-tree's transfers take longer on a bigger chip (wire delay ∝ distance ∝ √area).
  const wireDelay = arch.dataMovementCycles.wireDelayNsPerMm22;
  const cyclesPerTransfer =
    wireDelay === undefined
      ? 1
      : meanCyclesPerTransfer((wireDelay * 1e-9 * ctx.wireDelayNodeFactor * Math.sqrt(areaMm2)) / ctx.clockS);
  let latencySum = 0;
  let interval = 0;
  for (let i = 0; i < n; i++) {
    const layerLatency = scratchFixedS[i] + scratchTransferS[i] * cyclesPerTransfer;
    latencySum += layerLatency;
    if (layerLatency > interval) interval = layerLatency;
    if (perLayer) perLayer[i].latencyS = layerLatency;
  }
  const latency = pipelined ? interval : latencySum;
  const leakagePowerW = arch.leakageByArea
    ? leakagePowerDensityWPerMm2(hw.techNode) * onChip
    : arch.leakageFraction * ctx.peakArrayPowerW * chipTiles * apt;
  total.leakage = leakagePowerW * latency;
  total.offChipIo = arch.offChipIo.powerW * latency;
  const energyJ = sumEnergy(total);

  const ops = 2 * macs;
  const result: NetworkCost = {
    energyJ,
    latencyS: latency,
    latencyLayerByLayerS: latencySum,
    pipelineIntervalS: interval,
    areaMm2,
    edp: energyJ * latency,
    edap: energyJ * latency * areaMm2,
    ops,
    macs,
    // An empty network (no weight layers) has no ops: report 0 rather than 0/0.
    topsPerW: energyJ > 0 ? ops / energyJ / 1e12 : 0,
    topsPerMm2: latency > 0 && areaMm2 > 0 ? ops / (latency * areaMm2) / 1e12 : 0,
    utilization: tileArrays > 0 ? usedCells / (tileArrays * hw.rows * hw.cols) : 0,
    arrays: arraysTotal,
    tiles: chipTiles,
    requiredTiles,
    availableTiles: budget ?? null,
    fitsCapacity: budget === undefined || requiredTiles <= budget,
    conversions: conversionsTotal,
    cycleTimeS: ctx.cycleTimeS,
    energyBreakdown: total,
    areaBreakdown: area,
  };

  if (perLayer && layerNocBytes) {
    const tileAreaMm2 =
      (apt *
        (ctx.arrayAreaUm2 +
          ctx.adcAreaPerArrayUm2 +
          ctx.sampleHoldAreaPerArrayUm2 +
          ctx.dacAreaPerArrayUm2 +
          ctx.shiftAddAreaPerArrayUm2 +
          ctx.peripheryAreaPerArrayUm2 +
          ctx.cornerAreaPerArrayUm2)) /
        1e6 +
      ctx.tileBufferAreaMm2 +
      ctx.interconnectAreaPerTileMm2;
    for (let i = 0; i < perLayer.length; i++) {
      const layerCost = perLayer[i];
      const e = layerCost.energyBreakdown;
      e.array *= dynamicFactor;
      e.adc *= dynamicFactor;
      e.sampleHold *= dynamicFactor;
      e.dac *= dynamicFactor;
      e.shiftAdd *= dynamicFactor;
      e.accumulation *= dynamicFactor;
      e.buffer *= dynamicFactor;
      e.interconnect = (e.interconnect + layerNocBytes[i] * nocEnergyPerByte) * dynamicFactor;
      // Static power (leakage, I/O) is shared by time: each layer's share of the time per image.
      const timeShare = latencySum > 0 ? layerCost.latencyS / latencySum : 0;
      e.leakage = total.leakage * timeShare;
      e.offChipIo = total.offChipIo * timeShare;
      layerCost.energyJ = sumEnergy(e);
      layerCost.topsPerW = layerCost.energyJ > 0 ? layerCost.ops / layerCost.energyJ / 1e12 : 0;
      layerCost.areaMm2 = layerCost.tiles * tileAreaMm2 * arch.layoutEfficiency;
      layerCost.topsPerMm2 = layerCost.ops / (layerCost.latencyS * layerCost.areaMm2) / 1e12;
      layerCost.edp = layerCost.energyJ * layerCost.latencyS;
      layerCost.edap = layerCost.edp * layerCost.areaMm2;
    }
    result.layers = perLayer;
  }
  return result;
}
