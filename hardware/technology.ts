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

/**
 * On-resistance of a minimum access transistor (Ω), the SRAM cell's read path: NeuroSim V1.4 SubArray.cpp
 * `resCellAccess = CalculateOnResistance(widthAccessCMOS·F (2F at ≤ 14 nm), NMOS)` with formula.cpp
 * R = effectiveResistanceMultiplier·VDD / (currentOnNmos·W_eff) and Technology.cpp's LP devices at 300 K:
 * [multiplier, on-current A/m, effective width m] per node (FinFETs: one fin's width + 2 × height, 7/5 nm:
 * the listed effective width). Param.cpp widthAccessCMOS = 1.
 */
const ACCESS_TRANSISTOR: Readonly<Record<TechNode, readonly [number, number, number]>> = {
  130: [1.54, 300.7, 130e-9],
  90: [1.77, 346.3, 90e-9],
  65: [1.77, 400.0, 65e-9],
  45: [1.77, 500.2, 45e-9],
  32: [1.77, 600.2, 32e-9],
  22: [1.77, 791.9, 22e-9],
  14: [2.09, 595.045, 92e-9],
  10: [2.09, 599.237, 98e-9],
  7: [2.05, 562.048, 107e-9],
  5: [2.1, 578.494, 106e-9],
};

export function accessTransistorOnOhm(node: TechNode): number {
  const [multiplier, currentOnPerM, widthM] = ACCESS_TRANSISTOR[node];
  return (multiplier * TECH_NODE_TABLE[node].vddV) / (currentOnPerM * widthM);
}

/**
 * Leakage power per mm² of circuit area (layout gaps excluded), W/mm²: NeuroSim V1.4's leakage power over
 * its own component-area sum (array + ADC + accumulation + interconnect + other) for the NVM chips of
 * bench/fixtures/neurosim: 45 nm 15.8 µW/mm² (rram45_c2_a128_flash5_lbl: 3.41 mW / 216 mm²), 22 nm
 * 34 µW/mm² (rram22_c2_a128_flash5_lbl: 1.56 mW / 45.9 mm²), 7 nm 164 µW/mm² (fefet7_c2_a128_flash5_lbl:
 * 3.60 mW / 21.9 mm²; FinFET off currents are higher). Log-log interpolation in the node, held outside.
 */
const LEAKAGE_DENSITY_POINTS: ReadonlyArray<readonly [node: number, wPerMm2: number]> = [
  [45, 15.8e-6],
  [22, 34e-6],
  [7, 164e-6],
];

export function leakagePowerDensityWPerMm2(node: TechNode): number {
  const points = LEAKAGE_DENSITY_POINTS;
  if (node >= points[0][0]) return points[0][1];
  const last = points[points.length - 1];
  if (node <= last[0]) return last[1];
  let i = 0;
  while (node < points[i + 1][0]) i++;
  const [n0, d0] = points[i];
  const [n1, d1] = points[i + 1];
  const t = Math.log(node / n0) / Math.log(n1 / n0);
  return d0 * Math.pow(d1 / d0, t);
}

/**
 * The word-line switch matrix's share of NeuroSim V1.4's clock (SubArray.cpp CalculateLatency, parallel
 * mode: clock = (max(wlSwitchMatrix + buffers, mux + muxDecoder) + precharger + sense amplifier + encoder +
 * SAR) × beta), in s, for an array of `cols` columns: NeuroSim's printed clock / beta minus the SAR's
 * (N + 1) ns, at 128 columns 3.3 ns at 45 nm (rram45_c1_a128_sar8_lbl: 17.23 ns / 1.4 − 9 ns), 0.09 ns at
 * 22 nm (rram22_c2_a128_sar{4,5,6}_lbl: 7.124, 8.524, 9.924 ns / 1.4 − 5, 6, 7 ns), 0.054 ns at 7 nm
 * (fefet7_c2_a128_flash5_lbl: 1.288 ns / 1.4 − the flash settling); log-log between nodes, held outside;
 * × (cols/128)^1.7 (rram45_c1_a64_sar8_lbl: 1.0 ns at 64 columns; word-line RC grows faster than its length).
 */
const WORD_LINE_DRIVE_POINTS: ReadonlyArray<readonly [node: number, seconds: number]> = [
  [45, 3.3e-9],
  [22, 0.09e-9],
  [7, 0.054e-9],
];

export function wordLineDriveS(node: TechNode, cols: number): number {
  const points = WORD_LINE_DRIVE_POINTS;
  let at128: number;
  if (node >= points[0][0]) at128 = points[0][1];
  else if (node <= points[points.length - 1][0]) at128 = points[points.length - 1][1];
  else {
    let i = 0;
    while (node < points[i + 1][0]) i++;
    const [n0, t0] = points[i];
    const [n1, t1] = points[i + 1];
    at128 = t0 * Math.pow(t1 / t0, Math.log(node / n0) / Math.log(n1 / n0));
  }
  return at128 * Math.pow(cols / 128, 1.7);
}
