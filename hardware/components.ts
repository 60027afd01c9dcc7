/**
 * Peripheral circuit models: ADC (SAR and flash under three published models), DAC / word-line driver,
 * buffer area. Pure functions of the architecture preset, the node and the resolution.
 */
import type { AdcModelName, ArchitectureParams, BufferTechnology } from './architectures';
import type { DeviceParams } from './devices';
import { cellAreaF2At } from './devices';
import { TECH_NODE_TABLE, areaScale, cmosEnergyScale, featureSizeM } from './technology';
import type { AdcType, TechNode } from './types';

/**
 * One ADC conversion costs `fixedEnergyJ + columnTimeS · P_column`, where P_column = c/R′ is NeuroSim's
 * column-load power (only for the `neurosim-sar` model with cell current accounted in the ADC; 0 else).
 */
export interface AdcFigures {
  fixedEnergyJ: number;
  /** Seconds the column-load power is drawn per conversion (0 when the model has no such term). */
  columnTimeS: number;
  /** NeuroSim c coefficient (W·Ω) of the node, for c/R′. */
  columnCoefficient: number;
  /** The ADC's energy already pays for the current through the cells (NeuroSim's convention). */
  countsCellCurrent: boolean;
  conversionTimeS: number;
  areaUm2: number;
}

/** NeuroSim SarADC.cpp transistor count: (269 + 109·(N−1)) NMOS + (209 + 73·(N−1)) PMOS = 296 + 182·N. */
function sarTransistorWeight(bits: number): number {
  return 296 + 182 * bits;
}

function sarAreaUm2(arch: ArchitectureParams, bits: number, node: TechNode): number {
  const ref = arch.sarAreaReference;
  return (
    ((ref.areaUm2 * sarTransistorWeight(bits)) / sarTransistorWeight(ref.bits)) * areaScale(ref.node, node)
  );
}

/**
 * MNSIM ADC presets (bits: area µm², power W, sample rate /s), MNSIM. The 8-bit entry is ISAAC's
 * 32 nm ADC; the others are taken to be 32 nm as well (assumption: MNSIM does not state their node).
 */
const MNSIM_ADC_TABLE: ReadonlyArray<readonly [bits: number, areaUm2: number, powerW: number, rate: number]> =
  [
    [1, 1, 0.0016e-3, 1.0e9],
    [4, 500, 0.7e-3, 1.0e9],
    [6, 580, 1.26e-3, 1.0e9],
    [8, 1200, 2.0e-3, 1.28e9],
    [10, 1600, 6.92e-3, 1.5e9],
  ];
const MNSIM_NODE: TechNode = 32;

/**
 * Linear interpolation in bits between MNSIM table points (extrapolated with the nearest segment): SAR
 * cost grows about linearly with resolution (NeuroSim's fit is linear in N), and a linear blend keeps the
 * 1-bit sense-amplifier entry from dragging 2–3-bit ADCs down to sense-amplifier cost.
 */
function mnsimLookup(bits: number): { energyJ: number; areaUm2: number; rate: number } {
  const table = MNSIM_ADC_TABLE;
  let lower = 0;
  while (lower < table.length - 2 && bits > table[lower + 1][0]) lower++;
  const [b0, area0, power0, rate0] = table[lower];
  const [b1, area1, power1, rate1] = table[lower + 1];
  const t = (bits - b0) / (b1 - b0);
  const lerp = (x0: number, x1: number) => x0 + (x1 - x0) * t;
  return {
    energyJ: lerp(power0 / rate0, power1 / rate1),
    areaUm2: lerp(area0, area1),
    rate: lerp(rate0, rate1),
  };
}

/**
 * Survey-optimal ADC (Accelergy's ADC plug-in fit to Murmann's ADC survey, 1 GS/s): 4–8 bit ≈ 0.9–1.7 pJ at 32 nm,
 * 0.46–0.85 pJ at 22 nm, 3.5–6.5 pJ at 65 nm; ×2.7 per bit above 8 bits; area 5–6k µm² at 32 nm.
 */
const SURVEY_4BIT_ENERGY: ReadonlyArray<readonly [node: number, energyJ: number]> = [
  [65, 3.5e-12],
  [32, 0.9e-12],
  [22, 0.46e-12],
];

function survey4BitEnergy(node: TechNode): number {
  const table = SURVEY_4BIT_ENERGY;
  // log-log interpolation over node, extrapolated with the nearest segment's slope
  let upper = 0;
  while (upper < table.length - 2 && node < table[upper + 1][0]) upper++;
  const [n0, e0] = table[upper];
  const [n1, e1] = table[upper + 1];
  const slope = Math.log(e1 / e0) / Math.log(n1 / n0);
  return e0 * Math.pow(node / n0, slope);
}

function surveyFigures(bits: number, node: TechNode): { energyJ: number; areaUm2: number; rate: number } {
  const e4 = survey4BitEnergy(node);
  // 0.9 → 1.7 pJ from 4 to 8 bits: geometric per bit; ×2.7 per bit above 8
  const perBitBelow8 = Math.pow(1.7 / 0.9, 1 / 4);
  const energyJ =
    bits <= 8
      ? e4 * Math.pow(perBitBelow8, bits - 4)
      : e4 * Math.pow(perBitBelow8, 4) * Math.pow(2.7, bits - 8);
  // 5000 µm² at 4 bits → 6000 µm² at 8 bits (linear), at 32 nm
  const areaUm2 = Math.max(1, 5000 + 250 * (bits - 4)) * areaScale(32, node);
  return { energyJ, areaUm2, rate: 1e9 };
}

/** SAR figures of a model at (possibly fractional) `bits`. */
function sarFigures(
  model: AdcModelName,
  arch: ArchitectureParams,
  bits: number,
  node: TechNode,
  vddV: number,
  columnLoadInAdc: boolean,
): AdcFigures {
  const nodeParams = TECH_NODE_TABLE[node];
  switch (model) {
    case 'neurosim-sar': {
      // NeuroSim V1.4 SarADC.cpp GetColumnPower / CalculateLatency: P = (a·N + b) µW + c/R′ (R′ = R_col·
      // 0.5/Vread), latency (N+1) ns, E = P·(N+1) ns
      const supplyScale = (vddV / nodeParams.vddV) ** 2;
      const conversionTimeS = (bits + 1) * 1e-9;
      const intrinsicPowerW = (nodeParams.sarAdc.a * bits + nodeParams.sarAdc.b) * 1e-6 * supplyScale;
      return {
        fixedEnergyJ: intrinsicPowerW * conversionTimeS,
        columnTimeS: columnLoadInAdc ? conversionTimeS : 0,
        columnCoefficient: nodeParams.sarAdc.c,
        countsCellCurrent: columnLoadInAdc,
        conversionTimeS,
        areaUm2: sarAreaUm2(arch, bits, node),
      };
    }
    case 'mnsim-table': {
      const entry = mnsimLookup(bits);
      return {
        fixedEnergyJ: entry.energyJ * cmosEnergyScale(MNSIM_NODE, node, vddV),
        columnTimeS: 0,
        columnCoefficient: 0,
        countsCellCurrent: false,
        conversionTimeS: 1 / entry.rate,
        areaUm2: entry.areaUm2 * areaScale(MNSIM_NODE, node),
      };
    }
    case 'survey': {
      const entry = surveyFigures(bits, node);
      return {
        fixedEnergyJ: entry.energyJ * (vddV / nodeParams.vddV) ** 2,
        columnTimeS: 0,
        columnCoefficient: 0,
        countsCellCurrent: false,
        conversionTimeS: 1 / entry.rate,
        areaUm2: entry.areaUm2,
      };
    }
  }
}

/**
 * NeuroSim V1.4 MultilevelSenseAmp.cpp GetColumnPower (current mode, LP devices): the current-mirror power
 * of one sense-amplifier level, in W, as a function of the column resistance R′ (Ω, normalised to a 0.5 V
 * read: R′ = R_col·0.5/Vread). Piecewise fits in R′ (linear below the first break, then ln R′), per node.
 */
const MLSA_LEVEL_POWER: Partial<
  Record<
    TechNode,
    {
      breaks: readonly number[];
      pieces: ReadonlyArray<readonly [slope: number, offset: number, log: boolean]>;
    }
  >
> = {
  130: {
    breaks: [4832, 379269],
    pieces: [
      [-4.12599e-11, 1.48536e-6, false],
      [-2.6617e-7, 3.56576e-6, true],
      [-1.25872e-7, 1.81453e-6, true],
    ],
  },
  90: {
    breaks: [4832, 379269],
    pieces: [
      [-1.67004e-11, 8.54958e-7, false],
      [-1.50719e-7, 2.0858e-6, true],
      [-8.89685e-8, 1.3007e-6, true],
    ],
  },
  65: {
    breaks: [4832, 379269],
    pieces: [
      [-6.08647e-12, 4.82814e-7, false],
      [-8.03449e-8, 1.16437e-6, true],
      [-6.01171e-8, 8.9355e-7, true],
    ],
  },
  45: {
    breaks: [4832, 379269],
    pieces: [
      [-3.96471e-12, 3.44344e-7, false],
      [-5.66235e-8, 8.27849e-7, true],
      [-4.32673e-8, 6.46111e-7, true],
    ],
  },
  32: {
    breaks: [4832, 379269],
    pieces: [
      [-6.72783e-12, 4.19847e-7, false],
      [-7.28881e-8, 1.02677e-6, true],
      [-4.35333e-8, 6.4697e-7, true],
    ],
  },
  22: {
    breaks: [4832, 379269],
    pieces: [
      [-2.85373e-11, 9.16744e-7, false],
      [-1.63133e-7, 2.1687e-6, true],
      [-5.8712e-8, 8.64648e-7, true],
    ],
  },
  14: {
    breaks: [7847],
    pieces: [
      [-3.11213e-13, 5.34821e-8, false],
      [-9.64978e-9, 1.44527e-7, true],
    ],
  },
  10: {
    breaks: [20691],
    pieces: [
      [-3.27225e-13, 5.54082e-8, false],
      [-9.99199e-9, 1.49539e-7, true],
    ],
  },
  7: {
    breaks: [20691],
    pieces: [
      [-2.62089e-13, 4.7357e-8, false],
      [-8.49198e-9, 1.27848e-7, true],
    ],
  },
};

/** Current-mirror power of one flash (multi-level sense-amplifier) level at column resistance R′ (W). */
export function mlsaLevelPowerW(node: TechNode, normalisedColumnOhm: number): number {
  // 5 nm is not in the port; the 7 nm fit is the nearest (NeuroSim's own 5 nm fit is within 30 % of it).
  const fit = MLSA_LEVEL_POWER[node] ?? MLSA_LEVEL_POWER[node > 22 ? 45 : 7];
  if (!fit || !Number.isFinite(normalisedColumnOhm) || normalisedColumnOhm <= 0) return 0;
  let piece = 0;
  while (piece < fit.breaks.length && normalisedColumnOhm >= fit.breaks[piece]) piece++;
  const [slope, offset, log] = fit.pieces[piece];
  const x = log ? Math.log(normalisedColumnOhm) : normalisedColumnOhm;
  return Math.max(0, slope * x + offset);
}

/**
 * Flash (multi-level sense-amplifier) ADC after NeuroSim V1.4 MultilevelSenseAmp.cpp, current mode: each of
 * the 2^N − 1 levels draws its current-mirror power for the column settling time and switches its sense
 * amplifier, latch and column interface once per conversion (CalculatePower: `Column_SwitchingE ·
 * (levelOutput − 1) + P_col · LatencyCol`, P_col ∝ levelOutput − 1). Area is 9 minimum NMOS per level plus
 * a share of a dummy reference column (CalculateArea).
 *
 * Constants fitted to NeuroSim V1.4 at 22 nm (bench/fixtures/neurosim/rram22_c2_a128_flash{4,5,6}_lbl.json,
 * energy per conversion = ADC energy / conversions, linear in the level count): the switching energy per
 * level (which NeuroSim derives from gate and column capacitances), a per-conversion encoder energy, and
 * the areas per level and per converter in F²; energies scale to other nodes as C·V²
 * (hardware/technology.ts cmosEnergyScale).
 */
const MLSA_SWITCHING_ENERGY_PER_LEVEL_22NM_J = 1.63e-15;
// Encoder (MultilevelSAEncoder.cpp) and level-independent switching: per conversion, and its area.
const MLSA_ENCODER_ENERGY_22NM_J = 4.1e-15;
const MLSA_AREA_PER_LEVEL_F2 = 3826;
const MLSA_ENCODER_AREA_F2 = 30_580;
/**
 * Column settling (one conversion): NeuroSim's ColumnLatency_Table grows with the reference columns'
 * resistance and capacitance, i.e. with the level count; fitted to the V1.4 clock periods at 22 nm
 * (clkPeriod / beta = 1.087, 1.188, 1.441 ns for 4, 5, 6 bits in bench/fixtures/neurosim/
 * rram22_c2_a128_flash{4,5,6}_lbl.json, less the 0.09 ns word-line drive).
 */
function mlsaSettlingS(levels: number, node: TechNode): number {
  // 0.09 ns of NeuroSim's printed clock / beta is the word-line drive (hardware/technology.ts wordLineDriveS)
  const at22 = 0.887e-9 + 7.37e-12 * levels;
  const table = COLUMN_LATENCY_TABLE[node];
  const ref = COLUMN_LATENCY_TABLE[22];
  if (!table || !ref) return at22;
  // The reference resistance at which NeuroSim's 22 nm table gives the fitted settling, read at `node`.
  const referenceOhm = Math.max(0, (at22 - ref[1]) / ref[0]);
  return table[0] * referenceOhm + table[1];
}

/**
 * NeuroSim V1.4 MultilevelSenseAmp.cpp ColumnLatency_Table, current mode, resistive branch (R ≥ 4.8 kΩ):
 * settling = slope·R + offset per node, [slope s/Ω, offset s]. It carries the 22 nm settling fit above to
 * other nodes (7 nm settles in 0.74× the 22 nm time, 45 nm in 1.9×).
 */
const COLUMN_LATENCY_TABLE: Partial<Record<TechNode, readonly [slope: number, offset: number]>> = {
  130: [3.78659e-14, 2.60629e-9],
  90: [2.8688e-14, 2.31147e-9],
  65: [2.12366e-14, 2.14339e-9],
  45: [1.54619e-14, 1.60263e-9],
  32: [1.15509e-14, 1.19475e-9],
  22: [8.02517e-15, 8.51803e-10],
  14: [6.18337e-15, 8.17633e-10],
  10: [4.72185e-15, 7.28474e-10],
  7: [3.72084e-15, 7.02172e-10],
  5: [2.77641e-15, 6.46706e-10],
};

/**
 * ADC figures for one converter of `bits` bits. SAR: the architecture's model. Flash under NeuroSim
 * (`neurosim-sar` architectures): the multi-level sense amplifier above, with the column load evaluated at
 * `columnOhm` (the column resistance of a typical read) and `readVoltageV`. Flash under the other models: the
 * SAR's figures at the crossover resolution scaled by the comparator count 2^N − 1 (exponential in N),
 * resolving all bits in one step instead of the SAR's N + 1.
 */
export function adcFigures(
  arch: ArchitectureParams,
  type: AdcType,
  bits: number,
  node: TechNode,
  vddV: number,
  columnLoadInAdc: boolean,
  columnOhm = Infinity,
  readVoltageV = 0.5,
): AdcFigures {
  const sar = sarFigures(arch.adcModel, arch, bits, node, vddV, columnLoadInAdc);
  if (type === 'sar') return sar;
  const levels = 2 ** bits - 1;
  if (arch.adcModel === 'neurosim-sar') {
    // NeuroSim normalises the column to its 0.5 V characterisation (R′ = R·0.5/Vread).
    const mirrorW = columnLoadInAdc ? mlsaLevelPowerW(node, (columnOhm * 0.5) / readVoltageV) : 0;
    const switchingJ = MLSA_SWITCHING_ENERGY_PER_LEVEL_22NM_J * cmosEnergyScale(22, node, vddV);
    const featureUm = featureSizeM(node) * 1e6;
    const settlingS = mlsaSettlingS(levels, node);
    return {
      fixedEnergyJ:
        levels * (mirrorW * settlingS + switchingJ) +
        MLSA_ENCODER_ENERGY_22NM_J * cmosEnergyScale(22, node, vddV),
      columnTimeS: 0,
      columnCoefficient: 0,
      countsCellCurrent: columnLoadInAdc,
      conversionTimeS: settlingS,
      areaUm2: (levels * MLSA_AREA_PER_LEVEL_F2 + MLSA_ENCODER_AREA_F2) * featureUm * featureUm,
    };
  }
  const crossover = arch.flashCrossoverBits;
  const atCrossover = sarFigures(arch.adcModel, arch, crossover, node, vddV, columnLoadInAdc);
  const comparatorRatio = levels / (2 ** crossover - 1);
  return {
    fixedEnergyJ: atCrossover.fixedEnergyJ * comparatorRatio,
    // the column load is drawn once per conversion, not once per comparator
    columnTimeS: atCrossover.columnTimeS > 0 ? sar.conversionTimeS / (bits + 1) : 0,
    columnCoefficient: atCrossover.columnCoefficient,
    countsCellCurrent: atCrossover.countsCellCurrent,
    conversionTimeS: sar.conversionTimeS / (bits + 1),
    areaUm2: atCrossover.areaUm2 * comparatorRatio,
  };
}

/** DAC / word-line driver power (W) and area (µm²) at `bits`, scaled to the node. */
export function dacFigures(
  arch: ArchitectureParams,
  bits: number,
  node: TechNode,
  vddV: number,
): { powerW: number; areaUm2: number; latencyS: number } {
  const dac = arch.dac;
  const bitFactor = dac.factorPerBit ** (bits - 1);
  return {
    powerW: dac.powerW * bitFactor * cmosEnergyScale(dac.node, node, vddV),
    areaUm2: dac.areaUm2 * bitFactor * areaScale(dac.node, node),
    // MNSIM: DAC latency (N + 2) ns
    latencyS: (bits + 2) * 1e-9,
  };
}

/** SRAM 6T cell footprint in µm² at a node (NeuroSim V1.4 Param.cpp; docs/sources.md §Devices). */
export function sramCellAreaUm2(node: TechNode, sramDevice: DeviceParams | undefined): number {
  const f2 = sramDevice ? cellAreaF2At(sramDevice, node) : 280;
  const featureUm = featureSizeM(node) * 1e6;
  return f2 * featureUm * featureUm;
}

/** Buffer area per byte in µm² at `node`. */
export function bufferAreaPerByteUm2(
  buffer: BufferTechnology,
  node: TechNode,
  sramDevice: DeviceParams | undefined,
): number {
  if (buffer.areaPerByteUm2 === null) return 8 * sramCellAreaUm2(node, sramDevice);
  return buffer.areaPerByteUm2 * areaScale(buffer.node, node);
}
