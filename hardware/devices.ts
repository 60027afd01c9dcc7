/**
 * The device library: one entry per memory-cell technology (a family default plus named presets), with
 * the electrical parameters the cost model needs and the non-ideality parameters the noise models need.
 * Every number names its primary source (collected in docs/sources.md §Devices); "assumption" marks values
 * no source gives, chosen so that the preset is usable and easy to override from config (see hardware/schema.ts).
 *
 * Conventions:
 * - Conductance range: Gmax = 1/Ron, Gmin = Gmax/onOffRatio. `null` Ron / on-off = a digital SRAM cell.
 * - σ values are fractions of the conductance range (Gmax − Gmin) unless the field says otherwise.
 * - Stuck-at: SA0 = stuck at Gmin (reads as 0), SA1 = stuck at Gmax; rates are fractions of cells.
 * - A `ParameterRange` keeps the published spread; `nominal` is what the presets use by default.
 */
import type { DeviceFamily, TechNode } from './types';

export interface ParameterRange {
  nominal: number;
  min: number;
  max: number;
}

/** Which published noise model the noise models apply (docs/sources.md §Noise models), if any. */
export type DeviceNoiseModel = 'aihwkit-pcm' | 'aihwkit-reram-wan2022' | 'gaussian';

export interface DeviceParams {
  name: string;
  family: DeviceFamily;
  description: string;
  /** Cell footprint in F² (F = NeuroSim wire width of the node). */
  cellAreaF2: number;
  /** Node-specific footprints that replace cellAreaF2 at those nodes (SRAM grows in F² below 22 nm). */
  cellAreaF2ByNode?: Partial<Record<TechNode, number>>;
  /** Low-resistance state in Ω (Gmax = 1/Ron); null for a digital cell. */
  ronOhm: number | null;
  /** Ron/Roff ratio; null = ∞ (digital cell). */
  onOffRatio: number | null;
  minBitsPerCell: number;
  /** Most bits per cell the device can hold (with write-verify where that matters). */
  maxBitsPerCell: number;
  /** Most bits per cell without write-verify programming (informational for the noise model). */
  maxBitsPerCellWithoutVerify: number;
  /** Read voltage in V; null = the node's supply voltage (SRAM bit lines). */
  readVoltageV: number | null;
  /** Read pulse / bit-line development time in s. */
  readPulseS: number;
  /**
   * A published energy per cell read (J), used instead of Vread²·G·t when present (ISAAC reports its
   * crossbar power, not the device's conductance).
   */
  readEnergyPerCellJ?: number;
  /**
   * Programming voltage in V; above 1.5 V the array needs level shifters on its drivers (NeuroSim V1.4
   * Param.cpp: "Enable level shifter if writeVoltage > 1.5V"), which the architecture's periphery area
   * adds. Undefined = written at logic levels (SRAM).
   */
  writeVoltageV?: number;
  /** Signed weights on two cells (G+ − G−): doubles the columns per weight. */
  differentialPairs: boolean;
  /** Smallest technology node the device is offered at. */
  minNode: TechNode;
  /** Why minNode is what it is (shown to users when a genome asks for a smaller node). */
  minNodeReason: string;
  /** Why maxBitsPerCell is what it is. */
  bitsPerCellReason: string;
  /** Programming σ after the device's usual programming (write-verify where supported). */
  programmingSigma: ParameterRange | null;
  /** Programming σ without write-verify (when the literature reports it separately). */
  programmingSigmaUnverified: ParameterRange | null;
  /** Read (cycle-to-cycle) noise σ per read. */
  readNoiseSigma: ParameterRange | null;
  /** Output noise of the column readout as a fraction of full scale (SRAM: the only noise source). */
  outputNoiseFullScale: ParameterRange | null;
  /** Conductance drift exponent ν: G(t) = G0·((t + t0)/t0)^−ν. 0 = no drift. */
  driftNu: ParameterRange;
  /** Drift reference time t0 in s. */
  driftT0S: number;
  /** σ growth after programming (RRAM relaxation) and the time it takes, in s. */
  relaxation: { sigmaGrowthFactor: ParameterRange; afterSeconds: ParameterRange } | null;
  stuckAtZero: ParameterRange;
  stuckAtOne: ParameterRange;
  noiseModel: DeviceNoiseModel;
  /** Where the numbers come from (for reports). */
  source: string;
}

const range = (nominal: number, min: number, max: number): ParameterRange => ({ nominal, min, max });
const none = (): ParameterRange => range(0, 0, 0);

// NeuroSim refuses RRAM below 22 nm (DNN+NeuroSim V1.4 Technology.cpp / Param.cpp).
const RRAM_MIN_NODE: TechNode = 22;
const RRAM_MIN_NODE_REASON = 'NeuroSim refuses RRAM below 22 nm (DNN+NeuroSim V1.4 Technology.cpp)';
const ANY_NODE: TechNode = 5;

/** RRAM 1T1R, NeuroSim V1.4 defaults (NeuroSim Param.cpp; docs/sources.md §Devices). */
const rram: DeviceParams = {
  name: 'rram',
  family: 'rram',
  description: 'RRAM 1T1R, 22 nm class (NeuroSim V1.4 defaults)',
  // NeuroSim Param.cpp: 1T1R cell 4F × 12F = 48 F²
  cellAreaF2: 48,
  // NeuroSim V1.4 Param.cpp: resistanceOn = 100 kΩ, resistanceOff = 17·Ron
  ronOhm: 100e3,
  onOffRatio: 17,
  minBitsPerCell: 1,
  // 1–2 bits per cell, up to 4 with write-verify (docs/sources.md §Devices)
  maxBitsPerCell: 4,
  maxBitsPerCellWithoutVerify: 2,
  // NeuroSim Param.cpp: readVoltage = 0.5 V, readPulseWidth = 10 ns
  readVoltageV: 0.5,
  readPulseS: 10e-9,
  // NeuroSim V1.4 Param.cpp writeVoltage = 2 V for its analog synaptic devices
  writeVoltageV: 2,
  // Signed weights as G+ − G− (the usual pairing for analog NVM: NeuRRAM, IBM); see docs/hardware-model.md
  // §Mapping.
  differentialPairs: true,
  minNode: RRAM_MIN_NODE,
  minNodeReason: RRAM_MIN_NODE_REASON,
  bitsPerCellReason: 'RRAM holds 1–2 bits per cell, up to 4 only with write-verify (NeuRRAM, Wan 2022)',
  // NeuRRAM (Wan et al. 2022): 2.5–5 % of the range after write-verify; 10–30 % without
  programmingSigma: range(0.035, 0.025, 0.05),
  programmingSigmaUnverified: range(0.2, 0.1, 0.3),
  // ~1 % read noise on top of the aihwkit ReRamWan2022 programming σ (NeuRRAM measurements, Wan et al. 2022)
  readNoiseSigma: range(0.01, 0.005, 0.02),
  outputNoiseFullScale: null,
  // RRAM does not drift as a power law; its σ relaxes instead (below).
  driftNu: none(),
  driftT0S: 20,
  // Wan 2022: σ grows ~1.5–2× over 1–2 days
  relaxation: { sigmaGrowthFactor: range(1.75, 1.5, 2), afterSeconds: range(129600, 86400, 172800) },
  // MNSIM default 0.1 % / 0.1 %; literature up to SA0 1.75 %, SA1 9.04 % (unverified)
  stuckAtZero: range(0.001, 0.001, 0.0175),
  stuckAtOne: range(0.001, 0.001, 0.0904),
  noiseModel: 'aihwkit-reram-wan2022',
  source: 'NeuroSim V1.4 Param.cpp; NeuRRAM (Wan 2022); aihwkit reram.py; MNSIM',
};

/** PCM (IBM), NeuroSim manual and aihwkit pcm.py (docs/sources.md §Devices, §Noise models). */
const pcm: DeviceParams = {
  name: 'pcm',
  family: 'pcm',
  description: 'Phase-change memory (IBM-style, aihwkit PCM model)',
  // NeuroSim manual: 16 F²
  cellAreaF2: 16,
  // aihwkit: gmax = 25 µS → Ron = 40 kΩ; NeuroSim: on/off 12.5
  ronOhm: 40e3,
  onOffRatio: 12.5,
  minBitsPerCell: 1,
  // Analog device; with 1–4.2 % programming σ about 16 levels stay apart → 4 bits (assumption).
  maxBitsPerCell: 4,
  maxBitsPerCellWithoutVerify: 4,
  // Assumption: PCM reads at ~0.2 V to stay below threshold switching (no source at hand gives one).
  readVoltageV: 0.2,
  // aihwkit pcm.py: t_read = 250 ns
  readPulseS: 250e-9,
  // NeuroSim V1.4 Param.cpp writeVoltage = 2 V for its analog synaptic devices
  writeVoltageV: 2,
  // 1–2 devices per weight; IBM pairs G+ / G− (Joshi et al., Nature Communications 2020).
  differentialPairs: true,
  minNode: ANY_NODE,
  minNodeReason: 'no node limit known for PCM (IBM HERMES is 14 nm)',
  bitsPerCellReason: 'PCM is analog, but its 1–4 % programming noise leaves about 16 usable levels (4 bits)',
  // aihwkit polynomial: σ_prog = 1.05 % (g = 0) … 4.2 % (g = 1) of gmax; nominal at g = 0.5 (3.8 %)
  programmingSigma: range(0.038, 0.0105, 0.042),
  programmingSigmaUnverified: null,
  // Use the aihwkit 1/f read-noise formula (aihwkit pcm.py; docs/sources.md §Noise models); Q_s 0.0088 … 0.2.
  readNoiseSigma: range(0.014, 0.0088, 0.2),
  outputNoiseFullScale: null,
  // aihwkit: ν ≈ 0.05–0.1 (μ_ν clamped to [0.049, 0.1]), t0 = 20 s
  driftNu: range(0.05, 0.049, 0.1),
  driftT0S: 20,
  relaxation: null,
  // "rare (~0.1–1 %)": split evenly between SA0 and SA1
  stuckAtZero: range(0.0025, 0.0005, 0.005),
  stuckAtOne: range(0.0025, 0.0005, 0.005),
  noiseModel: 'aihwkit-pcm',
  source: 'NeuroSim manual; aihwkit pcm.py (Nandakumar et al. 2019)',
};

/** FeFET, GF 22 nm (NeuroSim manual / V2.1 Param.cpp; docs/sources.md §Devices). */
const fefet: DeviceParams = {
  name: 'fefet',
  family: 'fefet',
  description: 'Ferroelectric FET (GF 22 nm, NeuroSim V2.1)',
  // NeuroSim: 4F × 6F = 24 F²
  cellAreaF2: 24,
  ronOhm: 240e3,
  onOffRatio: 100,
  minBitsPerCell: 1,
  // NeuroSim V2.1 Param.cpp: 1–5 bits per cell
  maxBitsPerCell: 5,
  maxBitsPerCellWithoutVerify: 5,
  readVoltageV: 0.5,
  // Assumption: NeuroSim's default 10 ns read pulse (no FeFET-specific figure at hand)
  readPulseS: 10e-9,
  // NeuroSim V1.4 Param.cpp writeVoltage = 2 V for its analog synaptic devices
  writeVoltageV: 2,
  differentialPairs: true,
  minNode: ANY_NODE,
  minNodeReason: 'no node limit known for FeFET (GF 22 nm is the data point)',
  bitsPerCellReason: 'FeFET stores 1–5 bits per cell (NeuroSim V2.1)',
  // Vth σ 40–60 mV → 5–15 % (literature range, unverified)
  programmingSigma: range(0.1, 0.05, 0.15),
  programmingSigmaUnverified: null,
  readNoiseSigma: null,
  outputNoiseFullScale: null,
  // depolarisation ν ≈ 0.01–0.02 (unverified)
  driftNu: range(0.015, 0.01, 0.02),
  driftT0S: 20,
  relaxation: null,
  // ~0.1–1 % (unverified), split between SA0 and SA1
  stuckAtZero: range(0.0025, 0.0005, 0.005),
  stuckAtOne: range(0.0025, 0.0005, 0.005),
  noiseModel: 'gaussian',
  source: 'NeuroSim manual / V2.1 Param.cpp; FeFET variability literature (unverified)',
};

/** STT-MRAM, Intel 22FFL (NeuroSim manual; docs/sources.md §Devices). */
const mram: DeviceParams = {
  name: 'mram',
  family: 'mram',
  description: 'STT-MRAM (Intel 22FFL)',
  cellAreaF2: 100,
  ronOhm: 1.4e3,
  onOffRatio: 2.8,
  minBitsPerCell: 1,
  maxBitsPerCell: 1,
  maxBitsPerCellWithoutVerify: 1,
  // Assumption: MTJs are read at ~0.1 V to avoid read disturb (no source at hand gives one)
  readVoltageV: 0.1,
  // Assumption: NeuroSim's default 10 ns read pulse
  readPulseS: 10e-9,
  // An on/off ratio of 2.8 leaves no usable zero level: signed weights need a pair.
  differentialPairs: true,
  minNode: ANY_NODE,
  minNodeReason: 'no node limit known for STT-MRAM (Intel 22FFL is the data point)',
  bitsPerCellReason: 'STT-MRAM stores 1 bit per cell (on/off ratio 2.8, NeuroSim manual)',
  // R σ 3–8 % (unverified)
  programmingSigma: range(0.05, 0.03, 0.08),
  programmingSigmaUnverified: null,
  readNoiseSigma: null,
  outputNoiseFullScale: null,
  driftNu: none(),
  driftT0S: 20,
  relaxation: null,
  // 0.01–0.1 % (unverified), split between SA0 and SA1
  stuckAtZero: range(0.00025, 0.00005, 0.0005),
  stuckAtOne: range(0.00025, 0.00005, 0.0005),
  noiseModel: 'gaussian',
  source: 'NeuroSim manual (Intel 22FFL); MRAM variability literature (unverified)',
};

/** SRAM 6T analog CIM (NeuroSim manual, Param.cpp; aihwkit io.py; docs/sources.md §Devices). */
const sram: DeviceParams = {
  name: 'sram',
  family: 'sram',
  description: 'SRAM 6T compute-in-memory (digital cell, analog bit-line sum)',
  // NeuroSim Param.cpp: 10F × 28F = 280 F² at ≥ 22 nm; 326 (14), 420 (10), 551 (7), 1120 (5)
  cellAreaF2: 280,
  cellAreaF2ByNode: { 14: 326, 10: 420, 7: 551, 5: 1120 },
  ronOhm: null,
  onOffRatio: null,
  minBitsPerCell: 1,
  maxBitsPerCell: 1,
  maxBitsPerCellWithoutVerify: 1,
  // NeuroSim's parallel (compute-in-memory) SRAM read senses the access transistors' column current at
  // Param.cpp readVoltage, as for analog cells (MultilevelSenseAmp.cpp / SarADC.cpp GetColumnPower; its
  // parallel mode has no bit-line precharge): 0.5 V, the value the analog presets use (V1.4: 0.51–0.55 V at
  // 45–22 nm)
  readVoltageV: 0.5,
  // Assumption: ~2 ns bit-line development for a 128-row column (no source at hand gives an SRAM read time)
  readPulseS: 2e-9,
  // Digital bit slices: the sign is the weighted MSB slice in the shift-add, no pairs needed.
  differentialPairs: false,
  minNode: ANY_NODE,
  minNodeReason: 'SRAM is available at every node',
  bitsPerCellReason: 'an SRAM 6T cell stores 1 bit (NeuroSim Param.cpp)',
  programmingSigma: null,
  programmingSigmaUnverified: null,
  readNoiseSigma: null,
  // aihwkit io.py out_noise: 0.04–0.06 of full scale
  outputNoiseFullScale: range(0.05, 0.04, 0.06),
  driftNu: none(),
  driftT0S: 20,
  relaxation: null,
  stuckAtZero: none(),
  stuckAtOne: none(),
  noiseModel: 'gaussian',
  source: 'NeuroSim manual / Param.cpp; aihwkit io.py',
};

/** Named presets refine a family default (docs/sources.md §Devices, "Further presets"). */
const presets: DeviceParams[] = [
  {
    ...rram,
    name: 'rram-neurosim-v13',
    description: 'RRAM as in NeuroSim V1.3 (6 kΩ, on/off 150)',
    // NeuroSim V1.3: Ron 6 kΩ, on/off 150
    ronOhm: 6e3,
    onOffRatio: 150,
    source: 'NeuroSim V1.3 Param.cpp',
  },
  {
    ...rram,
    name: 'rram-winbond-90',
    description: 'RRAM, Winbond 90 nm (6 kΩ, on/off 150, 36 F²)',
    cellAreaF2: 36,
    ronOhm: 6e3,
    onOffRatio: 150,
    source: 'Winbond 90 nm RRAM (6 kΩ, on/off 150 as in NeuroSim V1.3 Param.cpp; 36 F² unverified)',
  },
  {
    ...rram,
    name: 'rram-tsinghua-130',
    description: 'RRAM, Tsinghua 130 nm (100 kΩ, on/off 10, 16 F²)',
    cellAreaF2: 16,
    ronOhm: 100e3,
    onOffRatio: 10,
    source: 'Tsinghua 130 nm RRAM (100 kΩ, on/off 10, 16 F²; primary source unverified)',
  },
  {
    ...rram,
    name: 'rram-isaac',
    description: 'ISAAC-style RRAM crossbar (4 F², 2 bits per cell, 100 ns read)',
    // ISAAC: 4 F² crossbar cell, 2 bits per cell
    cellAreaF2: 4,
    maxBitsPerCell: 2,
    maxBitsPerCellWithoutVerify: 2,
    bitsPerCellReason: 'ISAAC crossbars store 2 bits per cell (Shafiee et al., ISCA 2016)',
    // ISAAC Table 2: 128×128 array, 0.3 mW, 100 ns read → 0.3 mW · 100 ns / 16384 cells = 1.83 fJ
    readPulseS: 100e-9,
    readEnergyPerCellJ: (0.3e-3 * 100e-9) / (128 * 128),
    // ISAAC encodes signed weights with a bias, not with pairs.
    differentialPairs: false,
    source: 'ISAAC (Shafiee et al., ISCA 2016) Table 2; electrical values of the rram family default',
  },
  {
    ...rram,
    name: 'rram-mnsim',
    description: 'MNSIM default RRAM (10 kΩ / 1 MΩ, 0.15 V, 3.16 ns)',
    // MNSIM: 1.44 µm² at 130 nm; F(130 nm) = 175 nm → 1.44 / 0.175² = 47 F²
    cellAreaF2: 1.44 / (0.175 * 0.175),
    ronOhm: 10e3,
    onOffRatio: 100,
    readVoltageV: 0.15,
    readPulseS: 3.16e-9,
    // MNSIM: σ = 1 % of R
    programmingSigma: range(0.01, 0.01, 0.01),
    noiseModel: 'gaussian',
    source: 'MNSIM default device',
  },
  {
    ...pcm,
    name: 'pcm-joshi2020',
    description: 'PCM with on/off ~100 (Joshi et al. 2020)',
    onOffRatio: 100,
    source: 'Joshi et al. 2020; aihwkit pcm.py',
  },
];

/** The built-in device library: family defaults first, then the named presets. */
export const BUILTIN_DEVICES: readonly DeviceParams[] = [rram, pcm, fefet, sram, mram, ...presets];

export const DEVICE_FAMILIES: readonly DeviceFamily[] = ['rram', 'pcm', 'fefet', 'sram', 'mram'];

/** Footprint of one cell in F² at `node`. */
export function cellAreaF2At(device: DeviceParams, node: TechNode): number {
  return device.cellAreaF2ByNode?.[node] ?? device.cellAreaF2;
}

/** Columns one weight occupies: bit slices × (2 with differential pairs). */
export function columnsPerWeight(device: DeviceParams, weightBits: number, bitsPerCell: number): number {
  return Math.ceil(weightBits / bitsPerCell) * (device.differentialPairs ? 2 : 1);
}
