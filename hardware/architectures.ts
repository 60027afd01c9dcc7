/**
 * Peripheral-architecture presets: everything around the crossbar that the published simulators model
 * differently (ADC model, who pays for the cell current, buffers, interconnect, tile organisation,
 * calibration factors). Where sources disagree the choice lives here as a named preset, never as a hidden
 * constant: `neurosim` follows NeuroSim V1.4, `isaac` follows ISAAC (Shafiee et al., ISCA 2016).
 *
 * Component figures carry the node they were published at (`node`) and are scaled to the candidate's node
 * by hardware/technology.ts (energy ∝ node·V², area ∝ F²).
 */
import type { TechNode } from './types';

/**
 * - `neurosim-sar`: NeuroSim SAR fit P = (a·N + b) µW + c/R′, E = P·(N+1)·1 ns (NeuroSim V1.4 SarADC.cpp).
 * - `mnsim-table`: MNSIM's ADC presets (bits → area, power, sample rate); its 8-bit entry is ISAAC's ADC.
 * - `survey`: survey-optimal ADCs at 1 GS/s (Accelergy ADC fit).
 */
export type AdcModelName = 'neurosim-sar' | 'mnsim-table' | 'survey';

/**
 * Who pays for the current through the cells:
 * - `adc`: NeuroSim's convention: the ADC's column-load term c/R′ carries it ("already considered in
 *   multilevelsenseamp", NeuroSim V1.4 SubArray.cpp), so the array itself only charges its word lines.
 * - `array`: the array pays Vread²·G·t per driven cell (docs/sources.md §Circuit components) or the device's
 *   published per-cell read energy; the ADC has no column-load term.
 */
export type CellCurrentAccounting = 'adc' | 'array';

export interface BufferTechnology {
  kind: 'sram' | 'edram' | 'register';
  readEnergyPerByteJ: number;
  writeEnergyPerByteJ: number;
  /** Area per byte in µm² at `node`; null = from the SRAM cell footprint of the candidate node. */
  areaPerByteUm2: number | null;
  node: TechNode;
}

export interface ArchitectureParams {
  name: string;
  description: string;
  adcModel: AdcModelName;
  /** Reference SAR area (scaled with bits by NeuroSim's transistor count, with node by F²). */
  sarAreaReference: { bits: number; node: TechNode; areaUm2: number };
  /**
   * Bits at which a flash ADC (2^N − 1 comparators) costs as much as a SAR: flash is cheaper below, SAR
   * above. NeuroSim manual: flash better at ≤ 3 bits, SAR better at ≥ 4 bits.
   */
  flashCrossoverBits: number;
  cellCurrentAccounting: CellCurrentAccounting;
  /** 1-bit DAC / word-line driver: power while driving and area; ×2 per extra bit (MNSIM). */
  dac: { powerW: number; areaUm2: number; node: TechNode; factorPerBit: number };
  /** Sample-and-hold per column. */
  sampleHold: { energyJ: number; areaUm2: number; node: TechNode };
  /** Shift-and-add: energy per conversion it consumes; units per array and their area. */
  shiftAdd: { energyPerOpJ: number; areaUm2PerUnit: number; unitsPerArray: number; node: TechNode };
  /** Digital adder energy per bit (accumulating partial sums of row tiles). */
  adderEnergyPerBitJ: { energyJ: number; node: TechNode };
  /** Wire capacitance per µm (word/bit lines). */
  wireCapacitanceFPerUm: number;
  arraysPerTile: number;
  tileBuffer: BufferTechnology & { bytes: number };
  /** Global activation buffer; bytes 'auto' = the largest layer input + output of the network; 0 = none. */
  globalBuffer: BufferTechnology & { bytes: number | 'auto' };
  /** Intra-tile bus. */
  bus: { energyPerByteJ: number; areaMm2PerTile: number; node: TechNode };
  /** Inter-tile network-on-chip router. */
  router: { energyPerByteHopJ: number; areaMm2: number; tilesPerRouter: number; node: TechNode };
  /** Off-chip I/O that runs all the time (power) and its area; zero when not modelled. */
  offChipIo: { powerW: number; areaMm2: number };
  /** Chip area = component sum × this factor (1.0–3.5 in DNN+NeuroSim runs). */
  layoutEfficiency: number;
  /** Multiplies dynamic energy (NeuroSim validated mode: 1.22 after layout). */
  dynamicEnergyFactor: number;
  /** Multiplies the sensing (ADC) part of the cycle (NeuroSim validated mode: 1.4). */
  sensingLatencyFactor: number;
  /** Array read and the conversions of the previous cycle overlap (ISAAC's sample-and-hold pipeline). */
  overlapReadAndConvert: boolean;
  /**
   * The input cycle starts with its own DAC settling and device read pulse before the conversions (ISAAC:
   * 100 ns crossbar read). NeuroSim V1.4 has no such step: in synchronous mode (Param.cpp `synchronous`) the
   * clock period is the slowest sensing step (main.cpp: clkPeriod = max over layers of the sensing latency),
   * each read takes numColMuxed clocks, and its sense amplifiers and SAR ADCs sense the settling column
   * directly (SubArray.cpp uses cell.readPulseWidth only in the integrate-and-fire ReadCircuit path).
   */
  separateReadStep: boolean;
  /**
   * Buffer and interconnect time of one MVM, not overlapped with the arrays, in clock cycles (the sensing
   * clock: one conversion × sensingLatencyFactor): a fixed part plus per input bit loaded (the new kernel
   * column, NeuroSim Chip.cpp numBitToLoadOut = rows·inputBits/K) and per output bit stored
   * (numBitToLoadIn). Zeros = hidden by the dataflow.
   */
  dataMovementCycles: {
    perMvm: number;
    perInputBit: number;
    perOutputBit: number;
    /**
     * The counts hold for arrays of this many columns; arrays of C columns take (reference/C)^exponent ×
     * (NeuroSim sizes its buses and buffer interfaces by the processing element's columns).
     */
    referenceCols: number;
    colsExponent: number;
    /**
     * Repeated global-wire delay at 22 nm in ns/mm; when given, the bit terms (the H-tree transfers) take
     * ⌈wire delay × distance / clock⌉ cycles each instead of one, the distance from the chip's centre to a
     * tile running from half the chip side to the side, the delay ∝ 1/wire width at other nodes (NeuroSim
     * V1.4 HTree.cpp CalculateLatency). Omitted = one cycle per transfer.
     */
    wireDelayNsPerMm22?: number;
    /**
     * NeuroSim V1.4's data path by tile (hardware/dataPath.ts): tile buffers, tile H-trees, the global
     * buffer and the chip's X-Y bus in place of perMvm, perInputBit and perOutputBit (then unused, as are
     * referenceCols and colsExponent); wireDelayNsPerMm22 times the bus. Omitted = false.
     */
    tileDataPath?: boolean;
  };
  /**
   * Spare arrays in a layer's own tiles hold copies of its weights that work on other output pixels
   * (NeuroSim's speed-up in ChipDesignInitialize/ChipFloorPlan, which fills each tile).
   */
  fillTilesWithCopies: boolean;
  /**
   * Periphery footprint in F² of the node (F = the node, hardware/technology.ts featureSizeM): per array row
   * (word-line decoders, drivers, level shifters), per array column (column mux, switch matrix, shift-add,
   * adder trees).
   */
  /** Width in F of the interconnect running across each tile (its area = width × the tile's side). */
  tileInterconnectWidthF: number;
  peripheryAreaF2: {
    perRow: number;
    perColumn: number;
    /** Added for devices programmed above 1.5 V (DeviceParams.writeVoltageV): their drivers' level shifters. */
    levelShiftersPerRow: number;
    levelShiftersPerColumn: number;
  };
  /**
   * Row and column circuits sit in strips along the array's edges and each array occupies its bounding
   * box (hardware/cost.ts); false = components pack without gaps.
   */
  edgePeripheryLayout: boolean;
  /** Static power as a fraction of the chip's peak dynamic power (leakage 1–5 % in DNN+NeuroSim runs). */
  leakageFraction: number;
  /**
   * Static power in proportion to the circuits' area instead (hardware/technology.ts
   * leakagePowerDensityWPerMm2: per node); leakageFraction is then not used. Omitted = false.
   */
  leakageByArea?: boolean;
  /** Fraction of input bits that are 1 (0.15–0.3 typical in DNN+NeuroSim runs). */
  inputBitDensity: number;
  /** Mean programmed level as a fraction of the conductance range (0.5 = levels used uniformly). */
  meanCellLevel: number;
  source: string;
}

// ISAAC Table 2 (32 nm; Shafiee et al., ISCA 2016).
const ISAAC_NODE: TechNode = 32;
// DAC 1-bit: 3.9 µW, 0.166 µm² at 32 nm (ISAAC); ×2 per bit (MNSIM)
const ISAAC_DAC = { powerW: 3.9e-6, areaUm2: 0.166, node: ISAAC_NODE, factorPerBit: 2 };
// Sample-and-hold: ~1 fJ/sample, 0.039 µm² (ISAAC)
const ISAAC_SAMPLE_HOLD = { energyJ: 1e-15, areaUm2: 0.039, node: ISAAC_NODE };
// Shift-and-add: 0.05 mW, 60 µm² per unit; an IMA's 4 units serve its 8 ADCs at 1.28 GS/s, so one
// operation costs 4 · 0.05 mW / (8 · 1.28e9 /s) = 19.5 fJ (ISAAC Table 2, derived).
const ISAAC_SHIFT_ADD = {
  energyPerOpJ: (4 * 0.05e-3) / (8 * 1.28e9),
  areaUm2PerUnit: 60,
  unitsPerArray: 0.5,
  node: ISAAC_NODE,
};
// Horowitz ISSCC 2014 (45 nm): 8-bit add 0.03 pJ → 3.75 fJ per bit
const HOROWITZ_ADDER = { energyJ: 0.03e-12 / 8, node: 45 as TechNode };
// NeuroSim V1.4 SubArray.cpp: capBL = lengthCol · 0.2 fF/µm
const NEUROSIM_WIRE_CAP_F_PER_UM = 0.2e-15;
// eDRAM 64 KB at 32 nm: 2.0 pJ/B read, 0.083 mm² (ISAAC); write assumed equal to read
const ISAAC_EDRAM: BufferTechnology = {
  kind: 'edram',
  readEnergyPerByteJ: 2.0e-12,
  writeEnergyPerByteJ: 2.0e-12,
  areaPerByteUm2: 0.083e6 / (64 * 1024),
  node: ISAAC_NODE,
};
// Horowitz ISSCC 2014: 32-bit read of an 8 KB SRAM = 5 pJ at 45 nm → 1.25 pJ/B (write assumed equal);
// area from the SRAM 6T cell footprint of the node (NeuroSim V1.4 Param.cpp)
const HOROWITZ_SRAM: BufferTechnology = {
  kind: 'sram',
  readEnergyPerByteJ: 5e-12 / 4,
  writeEnergyPerByteJ: 5e-12 / 4,
  areaPerByteUm2: null,
  node: 45,
};
// eDRAM-to-IMA bus: +0.7 pJ/B (ISAAC); bus area 0.090 mm² per tile (ISAAC Table 2, 384 wires)
const ISAAC_BUS = { energyPerByteJ: 0.7e-12, areaMm2PerTile: 0.09, node: ISAAC_NODE };
// Router (ISAAC, 8-port, 32-bit flit): 42 mW, 0.151 mm², shared by 4 tiles. Energy per byte and hop
// assumes the 42 mW serve 8 ports × 4 B at a 1 GHz clock (assumption: ISAAC gives no router clock).
const ISAAC_ROUTER = {
  energyPerByteHopJ: 42e-3 / (8 * 4 * 1e9),
  areaMm2: 0.151,
  tilesPerRouter: 4,
  node: ISAAC_NODE,
};

/** NeuroSim V1.4-like chip (DNN+NeuroSim V1.4 Param.cpp; docs/sources.md §Circuit components). */
const neurosim: ArchitectureParams = {
  name: 'neurosim',
  description:
    'NeuroSim V1.4-like chip: low-power SAR ADCs, cell current in the ADC term, validated-mode factors',
  adcModel: 'neurosim-sar',
  // NeuroSim V1.4 SarADC.cpp area at 22 nm: 158.3 µm² per 5-bit SAR (bench/fixtures/neurosim/
  // rram22_c2_a128_sar5_lbl.json: ADC area / converters); other resolutions by its transistor count.
  sarAreaReference: { bits: 5, node: 22, areaUm2: 158.3 },
  flashCrossoverBits: 3.5,
  cellCurrentAccounting: 'adc',
  dac: ISAAC_DAC,
  sampleHold: ISAAC_SAMPLE_HOLD,
  shiftAdd: ISAAC_SHIFT_ADD,
  adderEnergyPerBitJ: HOROWITZ_ADDER,
  wireCapacitanceFPerUm: NEUROSIM_WIRE_CAP_F_PER_UM,
  // Assumption: 64 subarrays per tile (NeuroSim floorplans tiles of 4 × 4 PEs of 2 × 2 subarrays)
  arraysPerTile: 64,
  // Assumption: 16 KB SRAM tile buffer
  tileBuffer: { ...HOROWITZ_SRAM, bytes: 16 * 1024 },
  globalBuffer: { ...HOROWITZ_SRAM, bytes: 'auto' },
  // ISAAC's bus and router energies × 0.66, fitted to NeuroSim V1.4's interconnect energy for VGG-8 at 22 nm
  // (bench/fixtures/neurosim/rram22_c2_a128_flash5_lbl.json; NeuroSim charges only toggling bits, Param.cpp
  // inputtoggle 0.18, outputtoggle 0.5); their area is in tileInterconnectWidthF.
  bus: { ...ISAAC_BUS, energyPerByteJ: ISAAC_BUS.energyPerByteJ * 0.66, areaMm2PerTile: 0 },
  router: { ...ISAAC_ROUTER, energyPerByteHopJ: ISAAC_ROUTER.energyPerByteHopJ * 0.66, areaMm2: 0 },
  offChipIo: { powerW: 0, areaMm2: 0 },
  // The bounding boxes of edgePeripheryLayout are NeuroSim V1.4's whole layout overhead (Chip.cpp
  // ChipCalculateArea sums tile bounding boxes, TileCalculateArea height × width); V1.3 reports the plain sum.
  layoutEfficiency: 1.0,
  // NeuroSim Param.cpp validated mode: zeta = 1.22 (post-layout energy), beta = 1.4 (sensing latency)
  dynamicEnergyFactor: 1.22,
  sensingLatencyFactor: 1.4,
  overlapReadAndConvert: false,
  separateReadStep: false,
  // tileDataPath: NeuroSim V1.4's data path by tile (hardware/dataPath.ts: tile buffers, tile H-trees, the
  // global buffer, the chip X-Y bus and the adder trees, each from NeuroSim's own sizes); it reproduces
  // VGG-8's buffer and interconnect latency within 10 % at 1, 2 and 4 bits per cell, 22 nm, and at 64 and 128
  // rows, 45 nm (test/hardware/fidelity.test.ts). perMvm, perInputBit, perOutputBit and the exponent are the
  // earlier least-squares fit of the same latency (VGG-8 at 22 nm, rram22_c2_a128_{flash4,flash5,flash6,
  // sar4,sar5}_lbl.json; columns^−0.6 over the 64/128/256 sweep), kept for overrides that turn tileDataPath
  // off; NeuroSim V1.3's data path takes about 3× as many (159.5, 0.0202, 0.0330; bench/fidelity.ts).
  // Wire delay 0.2 ns/mm at 22 nm, ∝ 1/wire width at other nodes: NeuroSim's X bus takes 2 cycles per
  // transfer in rram22_c2_a128_flash5_lbl and 1 in sram22_c1_a128_flash5_lbl (interconnect latency per layer
  // / clock against the transfer counts); over X wires of 10.8 and 6.5 mm with the model's tile sizes and
  // clocks of 1.66 and 1.70 ns, that needs 0.154–0.26 ns/mm.
  dataMovementCycles: {
    perMvm: 50.8,
    perInputBit: 0.00111 / 1.6,
    perOutputBit: 0.0191 / 1.6,
    referenceCols: 128,
    colsExponent: 0.6,
    wireDelayNsPerMm22: 0.2,
    tileDataPath: true,
  },
  fillTilesWithCopies: true,
  // Fitted to NeuroSim V1.4 at 22 nm, 128×128, per array: the accumulation area and 65 % of the other
  // periphery along the columns, 35 % along the rows (the split that best reproduces NeuroSim's bounding
  // boxes over all V1.4 fixtures). SRAM (bench/fixtures/neurosim/sram22_c1_a128_flash5_lbl.json:
  // accumulation 2,267 µm², other 1,656 µm²) gives the base; RRAM (rram22_c2_a128_flash5_lbl.json: 1,785 and
  // 6,867 µm²) the level shifters on top.
  // NeuroSim V1.4: interconnect area per tile ≈ 179 µm × (node/22 nm) × √(tile area) = 8,130 F × side.
  tileInterconnectWidthF: 8130,
  peripheryAreaF2: {
    perRow: 9_360,
    perColumn: 53_970,
    levelShiftersPerRow: 29_440,
    levelShiftersPerColumn: 46_900,
  },
  edgePeripheryLayout: true,
  // NeuroSim sums each circuit's leakage (transistor widths × the node's off current), so its static power
  // follows the circuits' area, not the empty layout: hardware/technology.ts leakagePowerDensityWPerMm2.
  // (leakageFraction is kept for overrides that turn leakageByArea off: 0.063 % of peak dynamic power gave
  // NeuroSim's 0.60 µJ for VGG-8 at 22 nm, bench/fixtures/neurosim/rram22_c2_a128_flash5_lbl.json.)
  leakageFraction: 0.00063,
  leakageByArea: true,
  // input bit density 0.15–0.3 typical in DNN+NeuroSim runs → 0.2
  inputBitDensity: 0.2,
  meanCellLevel: 0.5,
  source:
    'NeuroSim V1.4 (SarADC.cpp, SubArray.cpp, Param.cpp); ISAAC Table 2 for DAC/S&H/shift-add/bus/router',
};

/** ISAAC-CE (Shafiee et al., ISCA 2016, Table 2; docs/sources.md §Calibration anchors). */
const isaac: ArchitectureParams = {
  name: 'isaac',
  description: 'ISAAC-CE: fast SAR ADCs shared by all 128 columns, eDRAM tiles, HyperTransport I/O',
  adcModel: 'mnsim-table',
  sarAreaReference: { bits: 8, node: ISAAC_NODE, areaUm2: 1200 },
  flashCrossoverBits: 3.5,
  cellCurrentAccounting: 'array',
  dac: ISAAC_DAC,
  sampleHold: ISAAC_SAMPLE_HOLD,
  shiftAdd: ISAAC_SHIFT_ADD,
  adderEnergyPerBitJ: HOROWITZ_ADDER,
  wireCapacitanceFPerUm: NEUROSIM_WIRE_CAP_F_PER_UM,
  // ISAAC: 12 IMAs × 8 crossbars per tile
  arraysPerTile: 96,
  tileBuffer: { ...ISAAC_EDRAM, bytes: 64 * 1024 },
  // ISAAC tiles pass activations through their eDRAMs; no global buffer
  globalBuffer: { ...ISAAC_EDRAM, bytes: 0 },
  bus: ISAAC_BUS,
  router: ISAAC_ROUTER,
  // ISAAC Table 2: HyperTransport, 4 links, 10.4 W, 22.88 mm² (= chip 65.8 W / 85.4 mm² minus 168 tiles
  // of 330 mW / 0.372 mm²); the paper gives the chip totals only.
  offChipIo: { powerW: 10.4, areaMm2: 22.88 },
  // ISAAC's chip area is the component sum
  layoutEfficiency: 1.0,
  dynamicEnergyFactor: 1.0,
  sensingLatencyFactor: 1.0,
  overlapReadAndConvert: true,
  separateReadStep: true,
  // ISAAC's eDRAM and bus traffic is pipelined with the crossbars (Shafiee et al. §4)
  dataMovementCycles: { perMvm: 0, perInputBit: 0, perOutputBit: 0, referenceCols: 128, colsExponent: 0 },
  fillTilesWithCopies: false,
  // ISAAC Table 2 lists every tile component; nothing beyond them
  tileInterconnectWidthF: 0,
  peripheryAreaF2: { perRow: 0, perColumn: 0, levelShiftersPerRow: 0, levelShiftersPerColumn: 0 },
  edgePeripheryLayout: false,
  // ISAAC Table 2 powers are totals; no separate leakage
  leakageFraction: 0,
  inputBitDensity: 0.2,
  meanCellLevel: 0.5,
  source: 'ISAAC (Shafiee et al., ISCA 2016) Table 2; MNSIM ADC presets',
};

export const BUILTIN_ARCHITECTURES: readonly ArchitectureParams[] = [neurosim, isaac];

export const DEFAULT_ARCHITECTURE = 'neurosim';
