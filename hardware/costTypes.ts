/** What the cost model (hardware/cost.ts) returns: per-component energy and area, per-layer and whole-network costs. */
import type { LayerMapping } from './mapping';
import type { LayerShape } from './types';

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
  /**
   * Layer-by-layer time per image in buffers (tile and global), interconnect (tile H-trees and the chip
   * bus) and accumulation (adder trees), as NeuroSim V1.4 splits it; present with the architecture's
   * tileDataPath (hardware/dataPath.ts).
   */
  dataPathLatency?: { bufferS: number; interconnectS: number; accumulationS: number };
}

export interface EvaluateOptions {
  /** Include per-layer costs (allocates one object per layer). */
  perLayer?: boolean;
  /** Overrides the architecture's input bit density (fraction of input bits that are 1). */
  inputBitDensity?: number;
  /** Overrides the architecture's mean programmed level (fraction of the conductance range). */
  meanCellLevel?: number;
}
