/**
 * NeuroSim V1.4's data path by tile: the clock cycles a layer spends in tile buffers, tile H-trees, the
 * global buffer and the chip's X-Y bus (NeuroSim V1.4 Tile.cpp TileInitialize / TileCalculatePerformance,
 * Chip.cpp ChipInitialize / ChipCalculatePerformance, Buffer.cpp / XYBus.cpp CalculateLatency, synchronous
 * mode: one buffer line or one bus transfer per clock). docs/hardware-model.md §Latency gives the
 * formulas. What moves with the configuration is how much of a layer one tile holds: fewer, fuller tiles
 * (more bits per cell, bigger arrays) load more bits through each tile's buffers, while the chip bus serves
 * a smaller grid of tiles over shorter wires.
 *
 * Not modelled: the processing elements' DFF buffers and buses (ProcessingUnit.cpp), which NeuroSim divides
 * by the layer's speed-up (≤ 3 % of a VGG-8 layer's buffer time at 22 nm).
 */
import type { HardwareConfig, LayerShape } from './types';

// NeuroSim V1.4 Param.cpp: tileBufferCoreSizeRow = tileBufferCoreSizeCol = 32 (register-file cores of
// 32 × 32 bits, tileBufferType = false), globalBufferCoreSizeRow = globalBufferCoreSizeCol = 128,
// maxGlobalBusWidth = 2048.
const TILE_BUFFER_CORE_BITS = 32 * 32;
const TILE_BUFFER_LINE_BITS = 32;
const GLOBAL_BUFFER_CORE_BITS = 128 * 128;
const GLOBAL_BUFFER_LINE_BITS = 128;
const MAX_GLOBAL_BUS_BITS = 2048;

/** The network-wide facts the per-layer figures need (one pass over the layers). */
export interface DataPathNetwork {
  /** Kernel area K² of the layers NeuroSim maps the novel way (its most common K² > 1); 0 = none. */
  novelKernelArea: number;
  /** Bits the global buffer moves per clock: its line × the cores the bus can feed at once. */
  globalBufferBitsPerCycle: number;
  /** Width of the chip bus in bits. */
  busBits: number;
  /** Delay of one adder stage in clock periods (adderStageDelayS / the clock). */
  adderStageClocks: number;
  /** Clock cycles of one transfer over a conventional and a novel tile's H-tree (hTreeCyclesPerTransfer). */
  hTreeCyclesConventional: number;
  hTreeCyclesNovel: number;
  /**
   * Bumped by the caller whenever the chip or the network changes while this object is reused (the cost
   * model reuses one per evaluation): layerDataPath keeps per-tile-kind figures for the same network
   * object and epoch.
   */
  epoch: number;
}

/**
 * Clock cycles of one transfer from a tile's root to a processing element (HTree.cpp CalculateLatency,
 * root-leaf, synchronous: ⌈delay × clock⌉): the vertical stages halve from half the tile's height down, the
 * horizontal ones from half its width, and the main bus runs to the tile's middle, 1.5 tile sides in all.
 */
export function hTreeCyclesPerTransfer(
  tileSideMm: number,
  wireDelayNsPerMm: number,
  clockNs: number,
): number {
  return Math.max(1, Math.ceil((1.5 * tileSideMm * wireDelayNsPerMm) / clockNs));
}

/**
 * Delay of one stage of an adder tree. NeuroSim V1.4 (AdderTree.cpp CalculateLatency, synchronous:
 * ⌈tree delay × clock⌉ cycles per read) takes 2 clocks for the 4-stage tree over 9 PEs at 22 nm with clocks of
 * 1.52–1.74 ns and 1 with 2.02 ns, 2 at 7 nm with 1.29 ns and 1 with 1.44 ns, 1 at 45 nm with ≥ 7.8 ns
 * (bench/fixtures/neurosim: accumulation latency / clock / vectors): the 4-stage delay lies in
 * 1.74–2.02 ns at 22 nm and 1.29–1.44 ns at 7 nm. 0.475 ns per stage × (node/22 nm)^0.3 falls in both.
 */
export function adderStageDelayS(node: number): number {
  if (node !== lastStageNode) {
    lastStageNode = node;
    lastStageDelayS = 0.475e-9 * Math.pow(node / 22, 0.3);
  }
  return lastStageDelayS;
}
let lastStageNode = 0;
let lastStageDelayS = 0;

/**
 * Side of a novel tile relative to a conventional one: it holds K² processing elements where a conventional
 * tile holds (tileSide/peSide)² (Chip.cpp ChipFloorPlan; Tile.cpp TileCalculateArea: square tiles).
 */
export function novelTileScale(novelArea: number, tileSide: number, peSide: number): number {
  if (novelArea <= 0) return 1;
  return Math.sqrt(novelArea / Math.max(1, Math.round(tileSide / peSide) ** 2));
}

/**
 * NeuroSim maps a conv layer "novel" (one processing element per kernel position) when its K² is the
 * network's most common kernel area above 1 and its weight rows fill at least one array (Chip.cpp
 * ChipDesignInitialize); other layers are mapped conventionally (rows × columns in tiles of arrays).
 */
export function isNovelMapped(layer: LayerShape, hw: HardwareConfig, novelArea: number): boolean {
  const k2 = layer.kernelH * layer.kernelW;
  return layer.kind === 'conv' && k2 > 1 && k2 === novelArea && layer.inChannels * k2 >= hw.rows;
}

/**
 * The network-wide figures, in one pass over the layers (the cost model's hot path), into `out`:
 * - novelKernelArea: the most common K² > 1 (ties: the first met, as NeuroSim's scan keeps the first
 *   maximum);
 * - busBits, the chip bus width (Chip.cpp ChipInitialize, layer-by-layer): every layer adds its tile's
 *   columns and one ADC line per colsPerAdc of them (a novel tile: √K² PEs of peSide arrays), halved until
 *   it fits maxGlobalBusWidth (pipelined, NeuroSim first weights each layer by its tiles; the halving keeps
 *   either sum within (1024, 2048] bits);
 * - globalBufferBitsPerCycle (Chip.cpp ChipInitialize / ChipCalculatePerformance): 128 × 128-bit cores
 *   enough for the largest input map, one 128-bit line per clock per core, as many cores at once as the bus
 *   width allows.
 */
export function networkDataPathInto(
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  tileSide: number,
  peSide: number,
  out: DataPathNetwork,
): DataPathNetwork {
  // Distinct kernel areas are few: tally them, and the conv layers of each that fill an array, in scratch.
  let distinct = 0;
  let largestInputBits = 0;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const channels = layer.kind === 'depthwise' ? layer.outChannels : layer.inChannels;
    const inH = (layer.outH - 1) * layer.stride + layer.kernelH;
    const inW = (layer.outW - 1) * layer.stride + layer.kernelW;
    const inputBits = inH * inW * channels * layer.activationBits;
    if (inputBits > largestInputBits) largestInputBits = inputBits;
    const k2 = layer.kernelH * layer.kernelW;
    if (k2 === 1) continue;
    let j = 0;
    while (j < distinct && kernelAreas[j] !== k2) j++;
    if (j === distinct) {
      if (distinct === kernelAreas.length) continue;
      kernelAreas[j] = k2;
      kernelCounts[j] = 0;
      kernelFilling[j] = 0;
      distinct++;
    }
    kernelCounts[j]++;
    if (layer.kind === 'conv' && layer.inChannels * k2 >= hw.rows) kernelFilling[j]++;
  }
  let best = 0;
  let bestCount = 0;
  let novelLayers = 0;
  for (let j = 0; j < distinct; j++) {
    if (kernelCounts[j] > bestCount) {
      best = kernelAreas[j];
      bestCount = kernelCounts[j];
      novelLayers = kernelFilling[j];
    }
  }
  out.novelKernelArea = best;
  const lineShare = 1 + 1 / hw.colsPerAdc;
  const conventionalColumns = tileSide * hw.cols;
  const novelColumns = best > 0 ? peSide * hw.cols * Math.ceil(Math.sqrt(best)) : 0;
  let width = lineShare * ((layers.length - novelLayers) * conventionalColumns + novelLayers * novelColumns);
  while (width > MAX_GLOBAL_BUS_BITS) width /= 2;
  out.busBits = Math.max(1, width);
  const cores = Math.max(1, Math.ceil(largestInputBits / GLOBAL_BUFFER_CORE_BITS));
  out.globalBufferBitsPerCycle =
    GLOBAL_BUFFER_LINE_BITS * Math.min(cores, Math.ceil(out.busBits / GLOBAL_BUFFER_LINE_BITS));
  return out;
}
const kernelAreas = new Float64Array(16);
const kernelCounts = new Float64Array(16);
const kernelFilling = new Float64Array(16);

/** Clock cycles of one read through an adder tree over `inputs` values: ⌈⌈log2 inputs⌉ stages × delay⌉. */
function adderTreeCycles(inputs: number, stageClocks: number): number {
  return inputs > 1 ? Math.ceil(ceilLog2(inputs) * stageClocks) : 0;
}

/** ⌈log2 x⌉ for a whole number x ≥ 1 (a bit count: cheaper than Math.log2 on the hot path). */
function ceilLog2(x: number): number {
  return x <= 1 ? 0 : 32 - Math.clz32(x - 1);
}

/** A tile buffer's line width and the cores read at once (Tile.cpp TileInitialize / CalculatePerformance). */
function tileBufferBitsPerCycle(capacityBits: number, wideLineBits: number, hTreeBits: number): number {
  // A buffer smaller than one core is a single core as wide as its content's line; else 32-bit cores.
  const line = capacityBits < TILE_BUFFER_CORE_BITS ? wideLineBits : TILE_BUFFER_LINE_BITS;
  const cores = Math.max(1, Math.ceil(capacityBits / TILE_BUFFER_CORE_BITS));
  return line * Math.min(cores, Math.ceil(hTreeBits / line));
}

// layerDataPath's figures per tile kind (conventional, novel) for the last network object and epoch.
const memoNetwork: Array<DataPathNetwork | null> = [null, null];
const memoEpoch = new Float64Array(2);
const memoInputBits = new Float64Array(2);
const memoSlices = new Float64Array(2);
const memoOutputWordBits = new Float64Array(2);
const memoInputBuffer = new Float64Array(2);
const memoOutputBuffer = new Float64Array(2);
const memoReads = new Float64Array(2);
const memoPes = new Float64Array(2);
const memoHTreeBits = new Float64Array(2);
const memoRowCap = new Float64Array(2);
const memoColCap = new Float64Array(2);
const memoInputShare = new Float64Array(2);

/** One layer's data path per input vector (one MVM), in clock cycles and chip-bus bits. */
export interface LayerDataPath {
  novel: boolean;
  /** Tile input + output buffers and the global buffer: cycles per vector. */
  bufferCycles: number;
  /** The tile H-tree: cycles per vector. */
  hTreeCycles: number;
  /** Bits per vector the chip bus carries to the layer's tiles and back from them. */
  busBitsIn: number;
  busBitsOut: number;
  /** The layer's tiles along the weight rows and along the columns. */
  rowTiles: number;
  colTiles: number;
  /**
   * Accumulation cycles per vector: the tile's adder tree over its PEs, and the PEs' adder trees over
   * their arrays' rows (NeuroSim divides the latter by the layer's speed-up: divide by its copies).
   */
  tileAccumulationCycles: number;
  peAccumulationCycles: number;
}

/**
 * Per-vector cycles of one layer's tile buffers and tile H-tree, and the chip-level traffic, following
 * NeuroSim V1.4 Tile.cpp TileCalculatePerformance for the busiest tile (tiles work in parallel: Chip.cpp
 * takes the maximum) and Chip.cpp ChipCalculatePerformance for the global buffer and bus.
 * `rowsNeeded`/`colsNeeded`/`columnsPerWeight` come from hardware/mapping.ts.
 */
export function layerDataPath(
  layer: LayerShape,
  hw: HardwareConfig,
  rowsNeeded: number,
  colsNeeded: number,
  columnsPerWeight: number,
  tileSide: number,
  peSide: number,
  network: DataPathNetwork,
  out: LayerDataPath,
): LayerDataPath {
  const inputBits = layer.activationBits;
  const novel = isNovelMapped(layer, hw, network.novelKernelArea);
  // Per tile kind, the figures that depend on the layer only through its input bits and slices.
  const kind = novel ? 1 : 0;
  if (
    memoNetwork[kind] !== network ||
    memoEpoch[kind] !== network.epoch ||
    memoInputBits[kind] !== inputBits ||
    memoSlices[kind] !== columnsPerWeight
  ) {
    memoNetwork[kind] = network;
    memoEpoch[kind] = network.epoch;
    memoInputBits[kind] = inputBits;
    memoSlices[kind] = columnsPerWeight;
    const k2 = network.novelKernelArea;
    // A novel tile: K² PEs, one per kernel position, each loading its rows' inputs once per √PE (Tile.cpp:
    // /sqrt(numPE)); a conventional tile: tileSide/peSide PEs per side (NeuroSim's numPECM).
    const pes = novel ? k2 : Math.max(1, Math.round(tileSide / peSide));
    const hTreeBits = pes * peSide * hw.cols;
    memoPes[kind] = pes;
    memoHTreeBits[kind] = hTreeBits;
    memoRowCap[kind] = (novel ? k2 * peSide : tileSide) * hw.rows;
    memoColCap[kind] = (novel ? peSide : tileSide) * hw.cols;
    memoInputShare[kind] = novel ? 1 / Math.sqrt(k2) : 1;
    // Sub-array output bits with every row read in parallel: ADC bits + input bits + the weight's other
    // slices' bits + sign (Tile.cpp numBitSubarrayOutput, parallelRead); a PE adds log2 of its √arrays, the
    // adder tree over the PEs ⌈log2 PEs⌉ (AdderTree numStage).
    const peOutputBits = hw.adcBits + inputBits + (columnsPerWeight - 1) * hw.bitsPerCell + 1 + peSide;
    const outputWordBits = ceilLog2(pes) + peOutputBits;
    memoOutputWordBits[kind] = outputWordBits;
    memoInputBuffer[kind] = tileBufferBitsPerCycle(pes * inputBits * hw.rows, pes * hw.rows, hTreeBits);
    const outputCapacity = (outputWordBits * pes * hw.cols) / hw.colsPerAdc;
    memoOutputBuffer[kind] = tileBufferBitsPerCycle(outputCapacity, outputWordBits * pes, hTreeBits);
    memoReads[kind] = Math.ceil(hw.colsPerAdc / columnsPerWeight);
  }
  const pes = memoPes[kind];
  const hTreeBits = memoHTreeBits[kind];
  const tileRows = Math.min(rowsNeeded, memoRowCap[kind]);
  const tileOutputs = Math.min(colsNeeded, memoColCap[kind]) / columnsPerWeight;
  const inBitsPerVector = tileRows * inputBits * memoInputShare[kind];
  const outBitsPerVector = tileOutputs * memoOutputWordBits[kind];
  // A novel layer's tiles: input channels over a PE's rows (its K² PEs split the kernel), columns over a PE's.
  out.rowTiles = novel
    ? Math.ceil(layer.inChannels / (peSide * hw.rows))
    : Math.ceil(rowsNeeded / memoRowCap[kind]);
  out.colTiles = Math.ceil(colsNeeded / memoColCap[kind]);
  // Accumulation (Tile.cpp accumulationNM/CM, ProcessingUnit.cpp adderTree): each read of the muxed columns
  // (⌈colsPerAdc / columns per weight⌉ per vector) passes the tile's tree over the PEs holding the rows
  // and each PE's tree over its arrays' rows, ⌈stages × stage delay / clock⌉ cycles each.
  const reads = memoReads[kind];
  const peRows = Math.min(novel ? tileRows / pes : tileRows, peSide * hw.rows);
  const tilePes = novel ? pes : Math.ceil(tileRows / (peSide * hw.rows));
  out.tileAccumulationCycles = reads * adderTreeCycles(tilePes, network.adderStageClocks);
  out.peAccumulationCycles = reads * adderTreeCycles(Math.ceil(peRows / hw.rows), network.adderStageClocks);
  // Buffers: each bit is written and read once, half of the lines each way (Tile.cpp: numBitToLoad/width/2
  // reads + as many writes); the tile H-tree carries in + out bits, one bus width per clock.
  const hTreeCycles = novel ? network.hTreeCyclesNovel : network.hTreeCyclesConventional;
  out.hTreeCycles = ((inBitsPerVector + outBitsPerVector) / hTreeBits) * hTreeCycles;
  // Chip level (Chip.cpp numBitToLoadOut / numBitToLoadIn): a novel layer's input rows once per kernel
  // row; outputs once per pooling window.
  out.busBitsIn = (rowsNeeded * inputBits) / (novel ? layer.kernelH : 1);
  out.busBitsOut = (layer.outChannels * inputBits) / (layer.pooling ?? 1);
  out.novel = novel;
  out.bufferCycles =
    inBitsPerVector / memoInputBuffer[kind] +
    outBitsPerVector / memoOutputBuffer[kind] +
    (out.busBitsIn + out.busBitsOut) / network.globalBufferBitsPerCycle;
  return out;
}

/**
 * Clock cycles of one transfer along the chip's X bus (to the tiles) and Y bus (back), XYBus.cpp
 * CalculateLatency: the X wire runs over ⌈columns/2⌉ tiles, the Y wire over rows − ⌈rows/2⌉ − 1 tiles of the
 * √T × T/√T tile grid, each transfer ⌈wire delay × length / clock⌉ cycles.
 */
export function busCyclesPerTransfer(
  totalTiles: number,
  tileSideMm: number,
  wireDelayNsPerMm: number,
  clockNs: number,
  out: { gridRows: number; gridCols: number; x: number; y: number },
): void {
  const gridRows = Math.max(1, Math.ceil(Math.sqrt(totalTiles)));
  const gridCols = Math.max(1, Math.ceil(totalTiles / gridRows));
  out.gridRows = gridRows;
  out.gridCols = gridCols;
  const xMm = tileSideMm * Math.ceil(gridCols / 2);
  const yMm = tileSideMm * Math.max(0, gridRows - Math.ceil(gridRows / 2) - 1);
  out.x = Math.ceil((xMm * wireDelayNsPerMm) / clockNs);
  out.y = Math.ceil((yMm * wireDelayNsPerMm) / clockNs);
}
