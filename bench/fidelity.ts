/**
 * Fidelity benchmark: the cost model against DNN+NeuroSim V1.3 / V1.4 on the configurations recorded in
 * bench/fixtures/neurosim (written by bench/peers/neurosim/neurosim.py from the simulator built outside
 * the repository). For each fixture the project's model is set as close as its options allow to the
 * simulated chip, and the figures are the project/NeuroSim ratios of area, latency, energy and TOPS/W,
 * their share within ±25 %, their median error factor max(r, 1/r), and whether every step of every sweep
 * moves the same way as NeuroSim.
 *
 * Run: npx tsx bench/run.ts fidelity
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NetworkCost } from '../hardware/cost';
import { evaluateNetwork } from '../hardware/cost';
import type { HardwareLibrary } from '../hardware/library';
import { buildHardwareLibrary } from '../hardware/schema';
import type { HardwareConfig, LayerShape, TechNode } from '../hardware/types';
import { layersOfRows, type NeuroSimLayerRow } from '../interop/neurosimFormat';

type Figures = Record<string, number | string | boolean | null>;

export const FIXTURE_DIR = path.join(__dirname, 'fixtures', 'neurosim');

/** The parsed NeuroSim summary (bench/peers/neurosim/neurosim.py `parse`). */
export interface NeuroSimResults {
  chip_area_um2: number;
  array_area_um2: number | null;
  ic_area_um2: number | null;
  adc_area_um2: number | null;
  accum_area_um2: number | null;
  other_area_um2: number | null;
  clock_period_ns: number | null;
  latency_ns: number;
  dynamic_energy_pJ: number;
  leakage_energy_pJ: number;
  buffer_latency_ns: number | null;
  ic_latency_ns: number | null;
  adc_latency_ns: number | null;
  accum_latency_ns: number | null;
  other_latency_ns: number | null;
  adc_energy_pJ: number | null;
  accum_energy_pJ: number | null;
  other_energy_pJ: number | null;
  buffer_energy_pJ: number | null;
  ic_energy_pJ: number | null;
  tops_per_w: number;
}

export interface NeuroSimFixture {
  name: string;
  neurosim: { version: '1.3' | '1.4'; commit: string };
  network: string;
  /** NeuroSim NetWork_*.csv rows: IFM H, IFM W, Cin, Kh, Kw, Cout, pooling, stride. */
  layers: number[][];
  weight_bits: number;
  input_bits: number;
  array_rows: number;
  params: Record<string, string>;
  input_bit_density_per_layer: number[];
  results: NeuroSimResults;
}

/** NeuroSim validated mode divides TOPS/W by zeta = 1.22 (Param.cpp, main.cpp) but prints raw energy. */
const NEUROSIM_ZETA = 1.22;

/**
 * NeuroSim V1.4 Param.cpp fixes the cell read voltage per node (the SAR fit assumes it); V1.3 Param.cpp
 * reads at 0.5 V.
 */
const V14_READ_VOLTAGE: Partial<Record<number, number>> = { 45: 0.51, 22: 0.55, 14: 0.277, 7: 0.264 };

export function loadFixtures(dir = FIXTURE_DIR): NeuroSimFixture[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'sweeps.json')
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as NeuroSimFixture);
}

export function loadSweeps(dir = FIXTURE_DIR): Record<string, string[]> {
  const file = path.join(dir, 'sweeps.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string[]>) : {};
}

/** A fixture's NetWork.csv rows as the project's layer shapes (interop/neurosimFormat.ts layersOfRows). */
export function fixtureLayers(fixture: NeuroSimFixture): LayerShape[] {
  return layersOfRows(fixture.layers as NeuroSimLayerRow[], fixture.weight_bits, fixture.input_bits);
}

/** The NeuroSim Param.cpp value a fixture ran with (its patch, else the version's stock value). */
function param(fixture: NeuroSimFixture, name: string): string {
  const patched = fixture.params[name];
  if (patched !== undefined) return patched;
  const stock: Record<string, Record<string, string>> = {
    '1.3': {
      memcelltype: '2',
      cellBit: '2',
      levelOutput: '32',
      SARADC: 'false',
      pipeline: 'false',
      technode: '22',
      numColSubArray: '128',
      resistanceOn: '6e3',
      resistanceOff: '6e3*150',
    },
    '1.4': { resistanceOn: '100e3', resistanceOff: '100e3*17' },
  };
  const value = stock[fixture.neurosim.version][name];
  if (value === undefined) throw new Error(`${fixture.name}: no value for Param.cpp ${name}`);
  return value;
}

/** Evaluates a C literal product such as `100e3*17`. */
function cNumber(literal: string): number {
  return literal.split('*').reduce((product, factor) => product * Number(factor), 1);
}

/** The project's chip and library set as close as their options allow to one NeuroSim configuration. */
export function projectSetting(fixture: NeuroSimFixture): {
  hw: HardwareConfig;
  libraryConfig: Record<string, unknown>;
  inputBitDensity: number;
} {
  const cellType = param(fixture, 'memcelltype');
  const node = Number(param(fixture, 'technode')) as TechNode;
  const device =
    cellType === '1' ? 'sram' : cellType === '3' ? 'fefet' : fixture.name.startsWith('pcm') ? 'pcm' : 'rram';
  const size = fixture.array_rows;
  const hw: HardwareConfig = {
    device,
    rows: size,
    cols: Number(param(fixture, 'numColSubArray')),
    adcBits: Math.round(Math.log2(Number(param(fixture, 'levelOutput')))),
    adcType: param(fixture, 'SARADC') === 'true' ? 'sar' : 'flash',
    dacBits: 1,
    bitsPerCell: Number(param(fixture, 'cellBit')),
    // NeuroSim Param.cpp numColMuxed = 8 in both versions
    colsPerAdc: 8,
    techNode: node,
    architecture: 'neurosim',
    executionMode: param(fixture, 'pipeline') === 'true' ? 'pipelined' : 'layer-by-layer',
  };
  // NeuroSim's pipeline duplicates weights by the input-map rule (Param.cpp speedUpDegree = 8, Chip.cpp)
  if (hw.executionMode === 'pipelined') hw.pipelineSpeedUp = 'ifm';
  // NeuroSim maps one column per weight slice (no differential pair) and uses its own resistances.
  const deviceOverride: Record<string, unknown> = { differentialPairs: false };
  // NeuroSim draws every analog cell (RRAM, FeFET, the PCM stand-in) as a 1T1R cell of 4 × 12 F²
  // (Param.cpp) widened where the access transistor needs it, and the SRAM cell as 10 × 28 F² (> 14 nm);
  // its array area per cell at 128×128, 22 nm, is 64.5 F² and 379 F² (bench/fixtures/neurosim
  // rram22_c2_a128_flash5_lbl.json, sram22_c1_a128_flash5_lbl.json: array area / cells).
  deviceOverride.cellAreaF2 = device === 'sram' ? 379 : 64.5;
  if (device !== 'sram') {
    const ron = cNumber(param(fixture, 'resistanceOn'));
    deviceOverride.ronOhm = ron;
    deviceOverride.onOffRatio = cNumber(param(fixture, 'resistanceOff')) / ron;
  }
  // NeuroSim reads every cell type at Param.cpp's readVoltage (its sense amplifiers normalise the column to
  // it, SRAM included: MultilevelSenseAmp.cpp / SarADC.cpp GetColumnPower).
  deviceOverride.readVoltageV = fixture.neurosim.version === '1.3' ? 0.5 : (V14_READ_VOLTAGE[node] ?? 0.5);
  const libraryConfig: Record<string, unknown> = { devices: { [device]: deviceOverride } };
  // NeuroSim V1.3 reports the chip as the plain sum of its components (Chip.cpp ChipCalculateArea has no
  // tile bounding boxes yet), V1.4 as the tiles' bounding boxes (the preset's layoutEfficiency); V1.3's
  // buffers and interconnect take about 3× V1.4's clock cycles per MVM (least squares over the layers of
  // v13_rram22_c2_a128_{flash,sar}5_lbl, as for the preset's V1.4 fit in hardware/architectures.ts).
  if (fixture.neurosim.version === '1.3') {
    libraryConfig.architectures = {
      neurosim: {
        edgePeripheryLayout: false,
        dataMovementCycles: { perMvm: 159.5, perInputBit: 0.0202, perOutputBit: 0.033, tileDataPath: false },
      },
    };
  }
  // MAC-weighted input bit density of the traces NeuroSim read.
  const layers = fixtureLayers(fixture);
  let weighted = 0;
  let macs = 0;
  layers.forEach((layer, i) => {
    const m = layer.outH * layer.outW * layer.inChannels * layer.kernelH * layer.kernelW * layer.outChannels;
    weighted += m * fixture.input_bit_density_per_layer[i];
    macs += m;
  });
  return { hw, libraryConfig, inputBitDensity: weighted / macs };
}

export interface Comparison {
  name: string;
  hw: HardwareConfig;
  project: { areaMm2: number; latencyS: number; energyJ: number; topsPerW: number };
  neurosim: { areaMm2: number; latencyS: number; energyJ: number; topsPerW: number };
  ratio: { area: number; latency: number; energy: number; topsw: number };
  cost: NetworkCost;
}

export const METRICS = ['area', 'latency', 'energy', 'topsw'] as const;
export type Metric = (typeof METRICS)[number];

export function compare(fixture: NeuroSimFixture, base?: HardwareLibrary): Comparison {
  const { hw, libraryConfig, inputBitDensity } = projectSetting(fixture);
  const library = buildHardwareLibrary(libraryConfig, base);
  const cost = evaluateNetwork(fixtureLayers(fixture), hw, library, { inputBitDensity });
  const r = fixture.results;
  const neurosim = {
    areaMm2: r.chip_area_um2 / 1e6,
    latencyS: r.latency_ns * 1e-9,
    // validated mode: TOPS/W = ops / ((dynamic + leakage) · zeta)
    energyJ: (r.dynamic_energy_pJ + r.leakage_energy_pJ) * 1e-12 * NEUROSIM_ZETA,
    topsPerW: r.tops_per_w,
  };
  // NeuroSim counts 2·H·W·Cin·K²·Cout operations per layer (main.cpp numComputation, the full IFM) while it
  // simulates (H−K+1)·(W−K+1) vectors; both sides' TOPS/W use its count, so TOPS/W compares energies.
  const ops = fixture.layers.reduce(
    (sum, [h, w, cin, kh, kw, cout]) => sum + 2 * h * w * cin * kh * kw * cout,
    0,
  );
  const project = {
    areaMm2: cost.areaMm2,
    latencyS: cost.latencyS,
    energyJ: cost.energyJ,
    topsPerW: ops / cost.energyJ / 1e12,
  };
  return {
    name: fixture.name,
    hw,
    project,
    neurosim,
    ratio: {
      area: project.areaMm2 / neurosim.areaMm2,
      latency: project.latencyS / neurosim.latencyS,
      energy: project.energyJ / neurosim.energyJ,
      topsw: project.topsPerW / neurosim.topsPerW,
    },
    cost,
  };
}

const errorFactor = (r: number): number => Math.max(r, 1 / r);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function metricValue(side: Comparison['project'], metric: Metric): number {
  switch (metric) {
    case 'area':
      return side.areaMm2;
    case 'latency':
      return side.latencyS;
    case 'energy':
      return side.energyJ;
    case 'topsw':
      return side.topsPerW;
  }
}

/** A change smaller than this (relative) counts as flat. */
const FLAT = 0.02;

function direction(from: number, to: number): -1 | 0 | 1 {
  const change = (to - from) / from;
  return Math.abs(change) < FLAT ? 0 : change > 0 ? 1 : -1;
}

export interface SweepStep {
  sweep: string;
  from: string;
  to: string;
  metric: Metric;
  neurosim: -1 | 0 | 1;
  project: -1 | 0 | 1;
  right: boolean;
}

/**
 * Every adjacent step of every sweep, per metric. A step is right when the project moves the same way as
 * NeuroSim; when NeuroSim stays flat (< 2 %), the project must stay flat too.
 */
export function sweepSteps(
  comparisons: readonly Comparison[],
  sweeps: Record<string, string[]>,
): SweepStep[] {
  const byName = new Map(comparisons.map((c) => [c.name, c]));
  const steps: SweepStep[] = [];
  for (const [sweep, names] of Object.entries(sweeps)) {
    const points = names.map((n) => byName.get(n)).filter((c): c is Comparison => c !== undefined);
    for (let i = 1; i < points.length; i++) {
      for (const metric of METRICS) {
        const ns = direction(
          metricValue(points[i - 1].neurosim, metric),
          metricValue(points[i].neurosim, metric),
        );
        const pr = direction(
          metricValue(points[i - 1].project, metric),
          metricValue(points[i].project, metric),
        );
        steps.push({
          sweep,
          from: points[i - 1].name,
          to: points[i].name,
          metric,
          neurosim: ns,
          project: pr,
          right: ns === pr,
        });
      }
    }
  }
  return steps;
}

export function fidelityFigures(comparisons: readonly Comparison[], steps: readonly SweepStep[]): Figures {
  const figures: Figures = { configurations: comparisons.length };
  for (const metric of METRICS) {
    const ratios = comparisons.map((c) => c.ratio[metric]);
    figures[`within_25pct_share_${metric}`] =
      ratios.filter((r) => r >= 0.75 && r <= 1.25).length / Math.max(1, ratios.length);
    figures[`median_error_factor_${metric}`] = ratios.length ? median(ratios.map(errorFactor)) : null;
  }
  figures.sweep_steps = steps.length;
  figures.sweep_directions_right = steps.filter((s) => s.right).length;
  figures.sweep_steps_wrong = steps
    .filter((s) => !s.right)
    .map((s) => `${s.sweep}:${s.metric}:${s.from}->${s.to}`)
    .join(' ');
  for (const c of comparisons) {
    for (const metric of METRICS)
      figures[`ratio_${metric}__${c.name}`] = Number(c.ratio[metric].toPrecision(4));
  }
  return figures;
}

export async function run(): Promise<Figures> {
  const fixtures = loadFixtures();
  if (fixtures.length === 0) throw new Error(`no NeuroSim fixtures in ${FIXTURE_DIR}`);
  const comparisons = fixtures.map((f) => compare(f));
  const steps = sweepSteps(comparisons, loadSweeps());
  for (const c of comparisons) {
    console.error(
      `[fidelity] ${c.name.padEnd(38)} area ${c.ratio.area.toFixed(2)} latency ${c.ratio.latency.toFixed(2)} ` +
        `energy ${c.ratio.energy.toFixed(2)} TOPS/W ${c.ratio.topsw.toFixed(2)}`,
    );
  }
  return fidelityFigures(comparisons, steps);
}
