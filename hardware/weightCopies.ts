/**
 * How many copies of each layer's weights the chip holds (hardware/cost.ts): NeuroSim's spare-array
 * copies, pipelined weight duplication within a tile budget, and NeuroSim V1.4's IFM-based speed-up.
 */
import type { LayerMapping } from './mapping';
import { emptyMapping, mapLayerInto } from './mapping';
import type { HardwareConfig, LayerShape } from './types';
import type { Context } from './costContext';

// Scratch mapping reused across calls (evaluation is synchronous).
const copiesMapping = emptyMapping();

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
export function spareArrayCopies(layer: LayerShape, m: LayerMapping, ctx: Context, rows: number): number {
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

/**
 * Copies per layer for pipelined weight duplication: the smallest pipeline interval T such that giving
 * each layer ⌈work/T⌉ copies (at most one per output pixel) fits the tile budget. Bisection on T.
 */
export function duplicationCopies(
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
    const m = mapLayerInto(layers[i], hw, ctx.device, copiesMapping);
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
export function ifmSpeedUpCopies(layers: readonly LayerShape[], copies: Float64Array): void {
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
