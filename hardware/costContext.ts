/**
 * The cost model's per-configuration constants (hardware/cost.ts): device conductances, the cycle and
 * clock, energy per event and area per array with its periphery, computed once per evaluation.
 * docs/hardware-model.md gives every formula with its source.
 */
import type { ArchitectureParams } from './architectures';
import { adcFigures, bufferAreaPerByteUm2, dacFigures } from './components';
import type { DeviceParams } from './devices';
import { cellAreaF2At } from './devices';
import type { HardwareLibrary } from './library';
import { getArchitecture, getDevice } from './library';
import {
  TECH_NODE_TABLE,
  accessTransistorOnOhm,
  areaScale,
  circuitAreaFactor,
  cmosEnergyScale,
  featureSizeM,
  wordLineDriveS,
} from './technology';
import type { HardwareConfig } from './types';
import type { EvaluateOptions } from './costTypes';

/** Per-configuration constants, computed once per evaluation. */
export interface Context {
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
  /** Side of one (square) tile with its buffer and interconnect (mm): the chip bus's step per tile. */
  tileSideMm: number;
}

export function prepareContext(
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

  // Digital circuits scale from their published node by cmosEnergyScale (called directly: a closure here
  // costs the hot path more than the call).
  const sampleHoldEnergyJ = arch.sampleHold.energyJ * cmosEnergyScale(arch.sampleHold.node, node, vdd);
  const shiftAddEnergyJ = arch.shiftAdd.energyPerOpJ * cmosEnergyScale(arch.shiftAdd.node, node, vdd);
  const adderEnergyPerBitJ =
    arch.adderEnergyPerBitJ.energyJ * cmosEnergyScale(arch.adderEnergyPerBitJ.node, node, vdd);
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
    tileBufferReadJ: arch.tileBuffer.readEnergyPerByteJ * cmosEnergyScale(arch.tileBuffer.node, node, vdd),
    tileBufferWriteJ: arch.tileBuffer.writeEnergyPerByteJ * cmosEnergyScale(arch.tileBuffer.node, node, vdd),
    globalBufferReadJ:
      arch.globalBuffer.readEnergyPerByteJ * cmosEnergyScale(arch.globalBuffer.node, node, vdd),
    globalBufferWriteJ:
      arch.globalBuffer.writeEnergyPerByteJ * cmosEnergyScale(arch.globalBuffer.node, node, vdd),
    hasGlobalBuffer: arch.globalBuffer.bytes !== 0,
    // Wires between circuits are as long as the circuits are wide: √(circuitAreaFactor) longer at FinFET nodes.
    busEnergyPerByteJ:
      arch.bus.energyPerByteJ *
      cmosEnergyScale(arch.bus.node, node, vdd) *
      Math.sqrt(circuitAreaFactor(node)),
    routerEnergyPerByteHopJ:
      arch.router.energyPerByteHopJ *
      cmosEnergyScale(arch.router.node, node, vdd) *
      Math.sqrt(circuitAreaFactor(node)),
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
    tileSideMm: Math.sqrt(tileCoreUm2 + interconnectAreaPerTileMm2 * 1e6) / 1e3,
  };
}
