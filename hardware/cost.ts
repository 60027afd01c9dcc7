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
 *   `fillTilesWithCopies` the spare arrays of the layer's own processing elements) + data movement: with
 *   `tileDataPath`, NeuroSim's tile buffers, tile H-trees, global buffer, chip X-Y bus and adder trees
 *   (hardware/dataPath.ts), else MVMs × fitted buffer and transfer cycles; layer-by-layer = Σ layers,
 *   pipelined = the slowest layer.
 * - Area: tiles × (arrays + ADCs + DACs + S&H + shift-add + periphery per row/column + tile buffer +
 *   interconnect) + global buffer, × layout efficiency, + off-chip I/O. A layer owns whole tiles.
 *
 * Metrics: TOPS/W = ops / energy, TOPS/mm² = ops / (time per image · area), EDP = E·t (J·s),
 * EDAP = E·t·A (J·s·mm²), with 1 MAC = 2 ops (ISAAC convention; docs/sources.md §Conventions), all
 * whole-network totals.
 */
import type { HardwareLibrary } from './library';
import { DEFAULT_LIBRARY } from './library';
import { emptyMapping, mapLayerInto } from './mapping';
import { leakagePowerDensityWPerMm2 } from './technology';
import type { HardwareConfig, LayerShape } from './types';
import { prepareContext } from './costContext';
import type { AreaBreakdown, EnergyBreakdown, EvaluateOptions, LayerCost, NetworkCost } from './costTypes';
import { layerDynamicEnergy, sumEnergy, zeroEnergy, type LayerTraffic } from './layerEnergy';
import { duplicationCopies, ifmSpeedUpCopies, spareArrayCopies } from './weightCopies';
import type { DataPathNetwork, LayerDataPath } from './dataPath';
import {
  adderStageDelayS,
  busCyclesPerTransfer,
  hTreeCyclesPerTransfer,
  layerDataPath,
  networkDataPathInto,
  novelTileScale,
} from './dataPath';

export type { AreaBreakdown, EnergyBreakdown, EvaluateOptions, LayerCost, NetworkCost } from './costTypes';

// Scratch storage reused across calls (evaluation is synchronous, so one set suffices).
const scratchMapping = emptyMapping();
const scratchEnergy = zeroEnergy();
const scratchTraffic: LayerTraffic = { nocBytes: 0 };
let scratchCopies = new Float64Array(64);
// Per layer: array compute + buffer time, and H-tree transfer time at one cycle per transfer (s).
let scratchFixedS = new Float64Array(64);
let scratchTransferS = new Float64Array(64);
// Per layer, with the tile data path: chip-bus bits to the layer's tiles per tile row and back per tile
// column, and whether it is novel-mapped (its tiles are larger).
let scratchBusInBits = new Float64Array(64);
let scratchBusOutBits = new Float64Array(64);
let scratchNovel = new Uint8Array(64);
const scratchDataPath: LayerDataPath = {
  novel: false,
  bufferCycles: 0,
  hTreeCycles: 0,
  busBitsIn: 0,
  busBitsOut: 0,
  rowTiles: 1,
  colTiles: 1,
  tileAccumulationCycles: 0,
  peAccumulationCycles: 0,
};
const scratchNetwork: DataPathNetwork = {
  novelKernelArea: 0,
  globalBufferBitsPerCycle: 1,
  busBits: 1,
  adderStageClocks: 0,
  hTreeCyclesConventional: 1,
  hTreeCyclesNovel: 1,
  epoch: 0,
};
const scratchBus = { gridRows: 1, gridCols: 1, x: 0, y: 0 };

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
    scratchBusInBits = new Float64Array(size);
    scratchBusOutBits = new Float64Array(size);
    scratchNovel = new Uint8Array(size);
  }
  const tileDataPath = arch.dataMovementCycles.tileDataPath === true;
  if (tileDataPath) {
    const network = scratchNetwork;
    network.epoch++;
    networkDataPathInto(layers, hw, ctx.tileSide, ctx.peSide, network);
    network.adderStageClocks = adderStageDelayS(hw.techNode) / ctx.clockS;
    const delayNsPerMm = (arch.dataMovementCycles.wireDelayNsPerMm22 ?? 0) * ctx.wireDelayNodeFactor;
    network.hTreeCyclesConventional = hTreeCyclesPerTransfer(ctx.tileSideMm, delayNsPerMm, ctx.clockS * 1e9);
    network.hTreeCyclesNovel = hTreeCyclesPerTransfer(
      ctx.tileSideMm * novelTileScale(network.novelKernelArea, ctx.tileSide, ctx.peSide),
      delayNsPerMm,
      ctx.clockS * 1e9,
    );
  }
  // NeuroSim's tiles of the data path (a novel-mapped tile holds K² processing elements).
  let dataPathTiles = 0;
  let dataPathBufferS = 0;
  let dataPathInterconnectS = 0;
  let dataPathAccumulationS = 0;
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
    const movingMvms = Math.ceil(m.mvms / layerCopies);
    const computeS = Math.ceil(m.mvms / arrayCopies) * m.inputCycles * ctx.cycleTimeS;
    if (tileDataPath) {
      const dp = layerDataPath(
        layer,
        hw,
        m.rowsNeeded,
        m.colsNeeded,
        m.columnsPerWeight,
        ctx.tileSide,
        ctx.peSide,
        scratchNetwork,
        scratchDataPath,
      );
      // Chip-bus transfers wait for the tile grid (known after the loop).
      const accumulationS =
        movingMvms * (dp.tileAccumulationCycles + dp.peAccumulationCycles / arrayCopies) * ctx.clockS;
      const bufferS = movingMvms * dp.bufferCycles * ctx.clockS;
      const hTreeS = movingMvms * dp.hTreeCycles * ctx.clockS;
      scratchFixedS[i] = computeS + accumulationS + bufferS + hTreeS;
      dataPathBufferS += bufferS;
      dataPathInterconnectS += hTreeS;
      dataPathAccumulationS += accumulationS;
      scratchBusInBits[i] = (movingMvms * dp.busBitsIn) / dp.rowTiles;
      scratchBusOutBits[i] = (movingMvms * dp.busBitsOut) / dp.colTiles;
      scratchNovel[i] = dp.novel ? 1 : 0;
      dataPathTiles += dp.rowTiles * dp.colTiles * layerCopies;
    } else {
      const dm = arch.dataMovementCycles;
      const inputBitsPerMvm =
        (layer.kind === 'depthwise' ? layer.outChannels : layer.inChannels) *
        layer.kernelH *
        Math.min(layer.stride, layer.kernelW) *
        layer.activationBits;
      const bufferS = movingMvms * ctx.moveClockS * dm.perMvm;
      const transferS =
        movingMvms *
        ctx.moveClockS *
        (dm.perInputBit * inputBitsPerMvm + dm.perOutputBit * layer.outChannels * layer.activationBits);
      // Transfers wait for the chip's size (known after the loop): latency = fixed part + transfers × cycles each.
      scratchFixedS[i] = computeS + bufferS;
      scratchTransferS[i] = transferS;
    }
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

  scaleDynamicEnergy(total, dynamicFactor, nocBytes * nocEnergyPerByte);

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
    wireDelay === undefined || tileDataPath
      ? 1
      : meanCyclesPerTransfer((wireDelay * 1e-9 * ctx.wireDelayNodeFactor * Math.sqrt(areaMm2)) / ctx.clockS);
  if (tileDataPath) {
    // Chip X-Y bus (NeuroSim V1.4 Chip.cpp ChipCalculatePerformance, XYBus.cpp CalculateLatency): a layer's
    // input crosses the X bus in ⌈bits/bus · grid rows/its tile rows⌉ transfers, its output the Y bus in
    // ⌈bits/bus · grid columns/its tile columns⌉, each ⌈wire delay × length / clock⌉ cycles.
    const delayNsPerMm = (wireDelay ?? 0) * ctx.wireDelayNodeFactor;
    const clockNs = ctx.clockS * 1e9;
    const bus = scratchBus;
    busCyclesPerTransfer(dataPathTiles, ctx.tileSideMm, delayNsPerMm, clockNs, bus);
    const conventionalX = bus.x;
    const conventionalY = bus.y;
    const novelScale = novelTileScale(scratchNetwork.novelKernelArea, ctx.tileSide, ctx.peSide);
    busCyclesPerTransfer(dataPathTiles, ctx.tileSideMm * novelScale, delayNsPerMm, clockNs, bus);
    const busBits = scratchNetwork.busBits;
    for (let i = 0; i < n; i++) {
      const novel = scratchNovel[i] === 1;
      const transfersIn = Math.ceil((scratchBusInBits[i] / busBits) * bus.gridRows);
      const transfersOut = Math.ceil((scratchBusOutBits[i] / busBits) * bus.gridCols);
      const cycles =
        (novel ? bus.x : conventionalX) * transfersIn + (novel ? bus.y : conventionalY) * transfersOut;
      scratchTransferS[i] = cycles * ctx.clockS;
      dataPathInterconnectS += scratchTransferS[i];
    }
  }
  let latencySum = 0;
  let interval = 0;
  for (let i = 0; i < n; i++) {
    const layerLatency = tileDataPath
      ? scratchFixedS[i] + scratchTransferS[i]
      : scratchFixedS[i] + scratchTransferS[i] * cyclesPerTransfer;
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

  if (tileDataPath) {
    result.dataPathLatency = {
      bufferS: dataPathBufferS,
      interconnectS: dataPathInterconnectS,
      accumulationS: dataPathAccumulationS,
    };
  }

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
      scaleDynamicEnergy(e, dynamicFactor, layerNocBytes[i] * nocEnergyPerByte);
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

/**
 * Scales the dynamic components of an energy breakdown by `factor` (leakage and off-chip I/O are static),
 * the interconnect after adding the network-on-chip energy `nocEnergyJ` it carries.
 */
function scaleDynamicEnergy(energy: EnergyBreakdown, factor: number, nocEnergyJ: number): void {
  energy.array *= factor;
  energy.adc *= factor;
  energy.sampleHold *= factor;
  energy.dac *= factor;
  energy.shiftAdd *= factor;
  energy.accumulation *= factor;
  energy.buffer *= factor;
  energy.interconnect = (energy.interconnect + nocEnergyJ) * factor;
}
