/**
 * A cheap, real-shaped search problem for checking that NSGA-II beats random search on chip design: a small
 * genome over hardware and quantization genes, a fixed VGG-like network, an analytical cost model and a
 * fixed accuracy proxy.
 *
 * STAND-IN NOTICE. The cost model here (`proxyCostModel`) is a deliberately small analytical estimate
 * written for this benchmark while the project's real cost model (`hardware/`) was being built in parallel.
 * It follows the DNN+NeuroSim / ISAAC mapping rules (docs/hardware-model.md §Mapping) and the constants
 * cited below but skips buffers, interconnect and pipelining. It sits behind the `HardwareCostModel`
 * interface: pass the real model's adapter as `costModel` to `hardwareProblem` and nothing else changes.
 * The accuracy proxy is not a trained network: it is a fixed, documented function of the genes (see
 * `accuracyProxy`) so the search has the trade-offs the literature reports (docs/sources.md §Search
 * defaults: more bits per cell, fewer ADC bits and larger arrays must cost accuracy) without training
 * anything.
 */
import type { HardwareConfig, LayerShape } from '../../hardware/types';
import { OBJECTIVE_METRICS, constraintViolation, objectiveVector } from '../optimizer';
import type { HardwareMetrics as SearchHardwareMetrics } from '../evolution';
import type {
  ConstraintBudget,
  Evaluation,
  GeneSpec,
  Genome,
  ObjectiveMetric,
  ObjectiveSpec,
  RepairFn,
} from '../optimizer';

/** Per-image metrics in SI-derived units: J, s, mm²; EDAP in J·s·mm², EDP in J·s (the search's record). */
export type HardwareMetrics = Omit<SearchHardwareMetrics, 'capacityExcess'>;

/** What the problem needs from a cost model; the real one in `hardware/` can be adapted to this. */
export interface HardwareCostModel {
  evaluate(layers: readonly LayerShape[], hardware: HardwareConfig): HardwareMetrics;
}

// ---------------------------------------------------------------------------------------------------------
// The fixed network: a VGG-like CNN for 28×28 grey images (Fashion-MNIST), weights and activations at the
// bit widths the genome chooses.

export function vggLikeLayers(weightBits: number, activationBits: number): LayerShape[] {
  const conv = (name: string, inChannels: number, outChannels: number, size: number): LayerShape => ({
    name,
    kind: 'conv',
    inChannels,
    outChannels,
    kernelH: 3,
    kernelW: 3,
    stride: 1,
    outH: size,
    outW: size,
    weightBits,
    activationBits,
  });
  const dense = (name: string, inputs: number, outputs: number): LayerShape => ({
    name,
    kind: 'dense',
    inChannels: inputs,
    outChannels: outputs,
    kernelH: 1,
    kernelW: 1,
    stride: 1,
    outH: 1,
    outW: 1,
    weightBits,
    activationBits,
  });
  return [
    conv('conv1', 1, 32, 28),
    conv('conv2', 32, 32, 28),
    conv('conv3', 32, 64, 14),
    conv('conv4', 64, 64, 14),
    conv('conv5', 64, 128, 7),
    conv('conv6', 128, 128, 7),
    dense('fc1', 128 * 3 * 3, 256),
    dense('fc2', 256, 10),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The genome: ten genes, each indexing a value list (Gibbon/CrossNAS/CIMNAS value sets,
// docs/sources.md §Search defaults)

export const DEVICES = ['rram', 'pcm', 'fefet', 'sram', 'mram'] as const;
export const CROSSBAR_SIZES = [64, 128, 256] as const;
export const ADC_BITS = [3, 4, 5, 6, 7, 8] as const;
export const ADC_TYPES = ['sar', 'flash'] as const;
export const DAC_BITS = [1, 2] as const;
export const BITS_PER_CELL = [1, 2, 4] as const;
export const COLUMNS_PER_ADC = [1, 4, 8, 16] as const;
export const TECH_NODES = [65, 45, 32, 22] as const;
export const WEIGHT_BITS = [4, 6, 8] as const;
export const ACTIVATION_BITS = [4, 6, 8] as const;

export const HARDWARE_GENES: GeneSpec[] = [
  { kind: 'categorical', cardinality: DEVICES.length, name: 'device' },
  { kind: 'ordinal', cardinality: CROSSBAR_SIZES.length, name: 'crossbar' },
  { kind: 'ordinal', cardinality: ADC_BITS.length, name: 'adcBits' },
  { kind: 'categorical', cardinality: ADC_TYPES.length, name: 'adcType' },
  { kind: 'ordinal', cardinality: DAC_BITS.length, name: 'dacBits' },
  { kind: 'ordinal', cardinality: BITS_PER_CELL.length, name: 'bitsPerCell' },
  { kind: 'ordinal', cardinality: COLUMNS_PER_ADC.length, name: 'colsPerAdc' },
  { kind: 'ordinal', cardinality: TECH_NODES.length, name: 'techNode' },
  { kind: 'ordinal', cardinality: WEIGHT_BITS.length, name: 'weightBits' },
  { kind: 'ordinal', cardinality: ACTIVATION_BITS.length, name: 'activationBits' },
];

/** Genes that only make sense together, for per-block crossover: cell, periphery, node, quantization. */
export const HARDWARE_BLOCKS: number[][] = [[0, 5], [1, 2, 3, 4, 6], [7], [8, 9]];

export interface DecodedHardwareGenome {
  hardware: HardwareConfig;
  weightBits: number;
  activationBits: number;
}

export function decodeHardwareGenome(genome: Genome): DecodedHardwareGenome {
  const size = CROSSBAR_SIZES[genome[1]];
  return {
    hardware: {
      device: DEVICES[genome[0]],
      rows: size,
      cols: size,
      adcBits: ADC_BITS[genome[2]],
      adcType: ADC_TYPES[genome[3]],
      dacBits: DAC_BITS[genome[4]],
      bitsPerCell: BITS_PER_CELL[genome[5]],
      colsPerAdc: COLUMNS_PER_ADC[genome[6]],
      techNode: TECH_NODES[genome[7]],
    },
    weightBits: WEIGHT_BITS[genome[8]],
    activationBits: ACTIVATION_BITS[genome[9]],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Device table for the proxy (NeuroSim manual / Param.cpp; aihwkit; NeuRRAM; docs/sources.md §Devices)

interface ProxyDevice {
  /** Cell area in F² (NeuroSim manual). */
  cellF2: number;
  /** On-state conductance in µS (1/Ron; NeuroSim V1.4 / aihwkit). SRAM: an equivalent for a bit-line read. */
  conductanceUs: number;
  /** Read pulse in ns. */
  readNs: number;
  /** Most bits one cell holds (docs/sources.md §Devices, bits/cell column). */
  maxBitsPerCell: number;
  /** Programming / output noise, fraction of the G range (docs/sources.md §Devices σ column, mid-range). */
  sigma: number;
}

const PROXY_DEVICES: Record<(typeof DEVICES)[number], ProxyDevice> = {
  rram: { cellF2: 48, conductanceUs: 10, readNs: 10, maxBitsPerCell: 4, sigma: 0.04 }, // 100 kΩ, σ 2.5–5 % verified
  pcm: { cellF2: 16, conductanceUs: 25, readNs: 10, maxBitsPerCell: 4, sigma: 0.03 }, // 40 kΩ, 1–4.2 % of gmax
  fefet: { cellF2: 24, conductanceUs: 4.2, readNs: 10, maxBitsPerCell: 4, sigma: 0.08 }, // 240 kΩ, 5–15 %
  sram: { cellF2: 280, conductanceUs: 20, readNs: 2, maxBitsPerCell: 1, sigma: 0.02 }, // digital cell; ADC/bit-line noise
  mram: { cellF2: 100, conductanceUs: 714, readNs: 5, maxBitsPerCell: 1, sigma: 0.05 }, // 1.4 kΩ, R σ 3–8 %
};

/** Maximum bits per cell of a device family, as the repair hook enforces it. */
export function maxBitsPerCell(device: string): number {
  return (PROXY_DEVICES as Record<string, ProxyDevice | undefined>)[device]?.maxBitsPerCell ?? 1;
}

/** Supply voltage and NeuroSim wire width (NeuroSim V1.4 Technology.cpp / Param.cpp). */
const NODE_TABLE: Record<number, { vdd: number; wireNm: number; sar: [number, number] }> = {
  // sar: NeuroSim SAR ADC power fit P = (a·N + b) µW (NeuroSim V1.4 SarADC.cpp), column-load term omitted.
  65: { vdd: 1.1, wireNm: 105, sar: [3.7506, 25.844] },
  45: { vdd: 1.0, wireNm: 80, sar: [2.1691, 16.693] },
  32: { vdd: 0.9, wireNm: 56, sar: [1.1294, 8.8998] },
  22: { vdd: 0.85, wireNm: 40, sar: [0.538, 4.3753] },
};

/**
 * SAR ADC area at 32 nm by resolution (MNSIM ADC presets; docs/sources.md §Circuit components), linear in
 * between, µm².
 */
function sarAreaUm2At32(bits: number): number {
  const table: Array<[number, number]> = [
    [1, 1],
    [4, 500],
    [6, 580],
    [8, 1200],
    [10, 1600],
  ];
  for (let i = 1; i < table.length; i++) {
    const [b0, a0] = table[i - 1];
    const [b1, a1] = table[i];
    if (bits <= b1) return a0 + ((a1 - a0) * (bits - b0)) / (b1 - b0);
  }
  return table[table.length - 1][1];
}

/**
 * The stand-in cost model: the mapping of docs/hardware-model.md §Mapping (rows = Cin·K²,
 * cols = Cout·⌈Wbits/bitsPerCell⌉, arrays = ⌈rows/Nr⌉·⌈cols/Nc⌉, ⌈Abits/DACbits⌉ input cycles, columns
 * sharing an ADC multiply time), layer-by-layer latency, and per-event energies from the cited constants.
 * No buffers, NoC or pipelining.
 */
export const proxyCostModel: HardwareCostModel = {
  evaluate(layers, hardware) {
    const device = PROXY_DEVICES[hardware.device as (typeof DEVICES)[number]];
    if (!device) throw new RangeError(`proxyCostModel: unknown device ${hardware.device}`);
    const node = NODE_TABLE[hardware.techNode];
    if (!node) throw new RangeError(`proxyCostModel: no node data for ${hardware.techNode} nm`);
    const vdd = hardware.supplyVoltage ?? node.vdd;
    const nodeScale = (hardware.techNode / 32) * (vdd / 0.9) ** 2; // switched capacitance ∝ feature size · V²
    const adcBits = hardware.adcBits;
    // ADC energy per conversion (J) and latency (s).
    const adcEnergy =
      hardware.adcType === 'sar'
        ? (node.sar[0] * adcBits + node.sar[1]) * (adcBits + 1) * 1e-15 // P·(N+1)·1 ns, µW·ns = fJ
        : (2 ** adcBits - 1) * 4e-15 * nodeScale; // flash: 2^N − 1 comparators, ~4 fJ each at 32 nm
    const adcLatency = hardware.adcType === 'sar' ? (adcBits + 1) * 1e-9 : 1e-9;
    // ADC area (µm²): SAR from the MNSIM presets; flash ~12 µm² per comparator at 32 nm.
    const areaScale = (hardware.techNode / 32) ** 2;
    const adcArea =
      (hardware.adcType === 'sar' ? sarAreaUm2At32(adcBits) : (2 ** adcBits - 1) * 12) * areaScale;
    // DAC / word-line driver: 0.166 µm² and ~0.39 pJ per 100 ns cycle per row at 1 bit, ×2 per bit (ISAAC,
    // MNSIM); energy scaled to our shorter cycle (~10 ns) → ~0.04 pJ per row per cycle.
    const dacEnergy = 0.04e-12 * 2 ** (hardware.dacBits - 1) * nodeScale;
    const dacArea = 0.166 * 2 ** (hardware.dacBits - 1) * areaScale;
    // Cell read energy: V_read² · G · t_read, V_read = 0.5 V (NeuroSim Param.cpp), input bit density 0.25
    // (within the 0.15–0.3 typical of NeuroSim runs; docs/sources.md §Circuit components).
    const cellEnergy = 0.25 * 0.25 * device.conductanceUs * 1e-6 * device.readNs * 1e-9;
    const cellAreaUm2 = device.cellF2 * (node.wireNm * 1e-3) ** 2;
    // Shift-and-add per conversion: one 8-bit add, 0.03 pJ at 45 nm (Horowitz 2014).
    const shiftAddEnergy = 0.03e-12 * (hardware.techNode / 45) * (vdd / 1.0) ** 2;

    const bufferEnergyPerBit = (1e-12 / 8) * nodeScale;

    let energy = 0;
    let latency = 0;
    let arrays = 0;
    let ops = 0;
    for (const layer of layers) {
      const rows = layer.inChannels * layer.kernelH * layer.kernelW;
      const cols = layer.outChannels * Math.ceil(layer.weightBits / hardware.bitsPerCell);
      const rowTiles = Math.ceil(rows / hardware.rows);
      const colTiles = Math.ceil(cols / hardware.cols);
      arrays += rowTiles * colTiles;
      const mvms = layer.outH * layer.outW;
      const cycles = Math.ceil(layer.activationBits / hardware.dacBits);
      const conversions = mvms * cycles * rowTiles * cols;
      energy += conversions * (adcEnergy + shiftAddEnergy);
      energy += mvms * cycles * rows * colTiles * dacEnergy;
      energy += mvms * cycles * rows * cols * cellEnergy;
      // All arrays of a layer work in parallel; within one, colsPerAdc columns queue for their ADC.
      // On-chip buffers: inputs read and outputs written once per MVM at ~1 pJ/B (SRAM: Horowitz, ISSCC 2014).
      energy += mvms * ((rows + layer.outChannels) * layer.activationBits * bufferEnergyPerBit);
      latency += mvms * cycles * (device.readNs * 1e-9 + hardware.colsPerAdc * adcLatency);
      ops += 2 * mvms * rows * layer.outChannels;
    }
    const adcsPerArray = Math.ceil(hardware.cols / hardware.colsPerAdc);
    const arrayAreaUm2 =
      hardware.rows * hardware.cols * cellAreaUm2 + adcsPerArray * adcArea + hardware.rows * dacArea;
    const area = (arrays * arrayAreaUm2 * 1.5) / 1e6; // layout-efficiency factor 1.5 (NeuroSim runs 1.0–3.5)
    energy *= 1.22; // validated-mode factor for layout and sensing (NeuroSim Param.cpp, zeta = 1.22)
    return {
      energy,
      latency,
      area,
      edap: energy * latency * area,
      edp: energy * latency,
      topsPerWatt: ops / energy / 1e12,
      topsPerMm2: ops / latency / area / 1e12,
    };
  },
};

/**
 * The fixed accuracy proxy, in [0.1, 0.92]: a VGG-like network at 92 % on Fashion-MNIST (the Xiao et al.
 * 2017 benchmark table; docs/sources.md §Data)
 * minus independent penalties, each chosen to reproduce a trend the literature reports:
 * - quantization: 0.4·2^−Wbits + 0.3·2^−Abits (≈ 2.5 % at 4-bit weights, < 0.2 % at 8-bit);
 * - ADC resolution: partial sums need ⌈log2 rows⌉ + bitsPerCell + dacBits − 1 bits to be exact; each
 *   missing bit d costs 0.002·d² (a 4-bit ADC on 128-row arrays with 1-bit cells loses ~3 %, in line with the
 *   NeuroSim manual's "at least 4 bits for an 8-bit VGG-8 on 128×128");
 * - device noise: the per-level noise σ·(2^bitsPerCell − 1), grown by √(rows/128) for IR drop on larger
 *   arrays, costs 0.6·σ_eff² (RRAM at 4 bits/cell ≈ 20 %, at 1 bit/cell ≈ 0.1 %).
 */
export function accuracyProxy(decoded: DecodedHardwareGenome): number {
  const { hardware, weightBits, activationBits } = decoded;
  const device = PROXY_DEVICES[hardware.device as (typeof DEVICES)[number]];
  const quantization = 0.4 * 2 ** -weightBits + 0.3 * 2 ** -activationBits;
  const neededAdcBits = Math.ceil(Math.log2(hardware.rows)) + hardware.bitsPerCell + hardware.dacBits - 1;
  const adcDeficit = Math.max(0, neededAdcBits - hardware.adcBits);
  const adc = 0.002 * adcDeficit ** 2;
  const effectiveSigma = device.sigma * (2 ** hardware.bitsPerCell - 1) * Math.sqrt(hardware.rows / 128);
  const noise = 0.6 * effectiveSigma ** 2;
  return Math.max(0.1, 0.92 - quantization - adc - noise);
}

// ---------------------------------------------------------------------------------------------------------
// The problem

export interface HardwareProblemOptions {
  /** Objectives from the metric catalog; default accuracy (max), energy (min), area (min). */
  objectives?: ObjectiveMetric[];
  /**
   * Budgets (constraints, not objectives); default latency ≤ 200 µs per image, which about half the
   * space violates, so constraint handling matters.
   */
  constraints?: ConstraintBudget[];
  /** Swap in the real cost model here. */
  costModel?: HardwareCostModel;
}

export interface HardwareProblem {
  genes: GeneSpec[];
  blocks: number[][];
  objectives: ObjectiveSpec[];
  /** Clamps bits per cell to what the device holds (SRAM and MRAM cells hold one bit). */
  repair: RepairFn;
  evaluate(genome: Genome): Evaluation;
  /** All metrics of a genome, for reports. */
  metrics(genome: Genome): HardwareMetrics & { accuracy: number };
}

export function hardwareProblem(options: HardwareProblemOptions = {}): HardwareProblem {
  const metricsList = options.objectives ?? (['accuracy', 'energy', 'area'] as ObjectiveMetric[]);
  for (const metric of metricsList) {
    if (metric === 'robustAccuracyMean' || metric === 'robustAccuracyP5' || metric === 'chipAccuracy') {
      throw new RangeError(
        `hardwareProblem: ${metric} needs a chip simulation (Monte-Carlo noise or ADC quantization), which this proxy lacks`,
      );
    }
  }
  const objectives = metricsList.map((metric) => ({ name: metric, goal: OBJECTIVE_METRICS[metric] }));
  const costModel = options.costModel ?? proxyCostModel;
  const budgets = options.constraints ?? [{ metric: 'latency', max: 200e-6 }];
  const metrics = (genome: Genome): HardwareMetrics & { accuracy: number } => {
    const decoded = decodeHardwareGenome(genome);
    const layers = vggLikeLayers(decoded.weightBits, decoded.activationBits);
    return { ...costModel.evaluate(layers, decoded.hardware), accuracy: accuracyProxy(decoded) };
  };
  return {
    genes: HARDWARE_GENES,
    blocks: HARDWARE_BLOCKS,
    objectives,
    repair(genome) {
      const device = DEVICES[genome[0]];
      let bitsIndex = genome[5];
      while (bitsIndex > 0 && BITS_PER_CELL[bitsIndex] > maxBitsPerCell(device)) bitsIndex--;
      return bitsIndex === genome[5] ? genome : genome.map((value, i) => (i === 5 ? bitsIndex : value));
    },
    evaluate(genome) {
      const values = metrics(genome);
      return {
        objectives: objectiveVector(values, objectives),
        constraintViolation: constraintViolation(values, budgets),
      };
    },
    metrics,
  };
}
