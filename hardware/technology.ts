/**
 * Technology-node table and the scaling rules that carry a published component figure from the node it
 * was measured at to the node a candidate chip uses.
 *
 * Units: lengths in nm, voltages in V, SAR-ADC fit coefficients as NeuroSim publishes them (a, b in µW,
 * c in W·Ω).
 */
import type { TechNode } from './types';

export interface SarAdcFit {
  /** µW per output bit (NeuroSim: P = a·N + b µW + c/R′). */
  a: number;
  /** µW. */
  b: number;
  /** W·Ω: column-load term c/R′ with R′ the column resistance normalised to a 0.5 V read. */
  c: number;
}

export interface TechNodeParams {
  node: TechNode;
  /** Nominal supply voltage (V). */
  vddV: number;
  /**
   * The node's metal wire width in nm (NeuroSim V1.4 Param.cpp `wireWidth`: 22 nm node → 40 nm wire). It
   * sets wire resistance only: cells and transistors are drawn in the node's own F (see featureSizeM).
   */
  featureSizeNm: number;
  /** NeuroSim low-power SAR-ADC power fit at this node. */
  sarAdc: SarAdcFit;
}

/**
 * VDD: DNN+NeuroSim V1.4 Technology.cpp; wire width: its Param.cpp `wireWidth`.
 * SAR fit (LP devices): every node from the DNN+NeuroSim V1.4 SarADC.cpp table (LP branch).
 * The whole table is restated in docs/sources.md §Technology nodes.
 */
export const TECH_NODE_TABLE: Readonly<Record<TechNode, TechNodeParams>> = {
  // NeuroSim V1.4 SarADC.cpp (LP): 130 nm → (8.4483, 65.243, 0.169380)
  130: { node: 130, vddV: 1.3, featureSizeNm: 175, sarAdc: { a: 8.4483, b: 65.243, c: 0.16938 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 90 nm → (5.9869, 37.462, 0.144323)
  90: { node: 90, vddV: 1.2, featureSizeNm: 110, sarAdc: { a: 5.9869, b: 37.462, c: 0.144323 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 65 nm → (3.7506, 25.844, 0.12127)
  65: { node: 65, vddV: 1.1, featureSizeNm: 105, sarAdc: { a: 3.7506, b: 25.844, c: 0.12127 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 45 nm → (2.1691, 16.693, 0.10023)
  45: { node: 45, vddV: 1.0, featureSizeNm: 80, sarAdc: { a: 2.1691, b: 16.693, c: 0.10023 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 32 nm → (1.1294, 8.8998, 0.07945)
  32: { node: 32, vddV: 0.9, featureSizeNm: 56, sarAdc: { a: 1.1294, b: 8.8998, c: 0.07945 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 22 nm → (0.538, 4.3753, 0.07234); Technology.cpp: 22 nm → 0.85 V;
  // Param.cpp: 40 nm wire
  22: { node: 22, vddV: 0.85, featureSizeNm: 40, sarAdc: { a: 0.538, b: 4.3753, c: 0.07234 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 14 nm → (0.3132, 2.5681, 0.06109)
  14: { node: 14, vddV: 0.8, featureSizeNm: 32, sarAdc: { a: 0.3132, b: 2.5681, c: 0.06109 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 10 nm → (0.1823, 1.5073, 0.051580)
  10: { node: 10, vddV: 0.75, featureSizeNm: 22, sarAdc: { a: 0.1823, b: 1.5073, c: 0.05158 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 7 nm → (0.1061, 0.8847, 0.04356)
  7: { node: 7, vddV: 0.7, featureSizeNm: 20, sarAdc: { a: 0.1061, b: 0.8847, c: 0.04356 } },
  // NeuroSim V1.4 SarADC.cpp (LP): 5 nm → (0.0645, 0.5511, 0.0388)
  5: { node: 5, vddV: 0.7, featureSizeNm: 15, sarAdc: { a: 0.0645, b: 0.5511, c: 0.0388 } },
};

/** Every node of the table, largest first. */
export const TECH_NODES: readonly TechNode[] = [130, 90, 65, 45, 32, 22, 14, 10, 7, 5];

export function isTechNode(value: number): value is TechNode {
  return Object.prototype.hasOwnProperty.call(TECH_NODE_TABLE, value);
}

export function techNodeParams(node: TechNode): TechNodeParams {
  const params = TECH_NODE_TABLE[node];
  if (!params)
    throw new Error(
      `hardware.techNode: ${String(node)} nm is not in the node table (${TECH_NODES.join(', ')})`,
    );
  return params;
}

/**
 * Dynamic energy of CMOS logic from a reference node to `node`: E = C·V², switched capacitance
 * proportional to the node length (first-order Dennard scaling), times circuitEnergyFactor below 22 nm.
 * `vddV` lets a supply-voltage override scale the result.
 */
export function cmosEnergyScale(
  fromNode: TechNode,
  node: TechNode,
  vddV: number = TECH_NODE_TABLE[node].vddV,
): number {
  const from = TECH_NODE_TABLE[fromNode];
  const ratio = vddV / from.vddV;
  return ((node / fromNode) * ratio * ratio * circuitEnergyFactor(node)) / circuitEnergyFactor(fromNode);
}

/**
 * FinFET capacitance per device does not shrink with the node length: NeuroSim V1.4's ADC and accumulation
 * energy per operation at 7 nm are 1.8–2.0 × their 22 nm values scaled by node·V²
 * (bench/fixtures/neurosim/fefet7_c2_a128_flash5_lbl.json against fefet22_c2_a128_flash5_lbl.json).
 * 1 at ≥ 22 nm, 1.9 at 7 nm, log-log interpolated between.
 */
export function circuitEnergyFactor(node: TechNode): number {
  if (node >= 22) return 1;
  if (node <= 7) return 1.9;
  return Math.pow(1.9, Math.log(22 / node) / Math.log(22 / 7));
}

/**
 * The feature size F (m) that cell and transistor footprints are multiplied by: the node itself. NeuroSim
 * V1.4 ProcessingUnit.cpp sets `inputParameter.processNode = param->technode` and Technology.cpp
 * `featureSize = featureSizeInNano·1e-9`; SubArray.cpp draws the array as numCol·widthInFeatureSize·
 * tech.featureSize. (Param.cpp's `featuresize = wireWidth` is only used for wire lengths in the accuracy
 * model.)
 */
export function featureSizeM(node: TechNode): number {
  return node * 1e-9;
}

/** Area of a circuit from a reference node to `node`: proportional to F² (F = the node, see featureSizeM). */
export function areaScale(fromNode: TechNode, node: TechNode): number {
  const ratio = featureSizeM(node) / featureSizeM(fromNode);
  return ratio * ratio;
}

/**
 * NeuroSim V1.4's synchronous clock never runs faster than its slowest subarray periphery (main.cpp takes
 * the largest layer clock period; decoders, drivers and the column RC set it when the ADC is fast). The
 * floor is read off NeuroSim's printed clock period where a fast flash ADC does not set it:
 * 45 nm 7.80 ns (bench/fixtures/neurosim/rram45_c2_a128_flash5_lbl.json), 22 nm ≤ 1.52 ns (the 4-bit flash
 * clock, rram22_c2_a128_flash4_lbl.json). Log-log interpolation in the node between these points, held
 * constant outside them.
 */
const CLOCK_FLOOR_POINTS: ReadonlyArray<readonly [node: number, floorS: number]> = [
  [45, 7.8e-9],
  [22, 1.5e-9],
];

export function peripheryClockFloorS(node: TechNode): number {
  const points = CLOCK_FLOOR_POINTS;
  if (node >= points[0][0]) return points[0][1];
  const last = points[points.length - 1];
  if (node <= last[0]) return last[1];
  let i = 0;
  while (node < points[i + 1][0]) i++;
  const [n0, f0] = points[i];
  const [n1, f1] = points[i + 1];
  const t = Math.log(node / n0) / Math.log(n1 / n0);
  return f0 * Math.pow(f1 / f0, t);
}

/**
 * NeuroSim V1.4 lays out FinFET/GAA-node circuits on fin and gate pitches (Technology.cpp, FunctionUnit
 * gate-area rules below 14 nm), so its peripheral circuits shrink far less than F²: at 7 nm its ADC,
 * accumulation, other periphery and interconnect per array are 2.7–5.4 × their 22 nm areas scaled by F²
 * (bench/fixtures/neurosim/fefet7_c2_a128_flash5_lbl.json against fefet22_c2_a128_flash5_lbl.json). This
 * factor multiplies F²-scaled circuit area: 1 at ≥ 22 nm, 4.5 at 7 nm, log-log interpolated between.
 */
export function circuitAreaFactor(node: TechNode): number {
  if (node >= 22) return 1;
  if (node <= 7) return 4.5;
  return Math.pow(4.5, Math.log(22 / node) / Math.log(22 / 7));
}
