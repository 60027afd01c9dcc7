/**
 * Calibration mode: the cost model configured as published chips, its figures beside the anchors of
 * docs/sources.md §Calibration anchors. `calibrationTable()` returns the rows; hardware/calibrate.ts prints
 * them.
 */
import type { EvaluateOptions, NetworkCost } from './cost';
import { evaluateNetwork } from './cost';
import type { HardwareLibrary } from './library';
import { DEFAULT_LIBRARY } from './library';
import { isaacPeakWorkload, vgg8Cifar10 } from './networks';
import type { HardwareConfig, LayerShape } from './types';

export interface CalibrationRow {
  id: string;
  /** The configuration the model was run with. */
  configuration: string;
  metric: string;
  unit: string;
  model: number;
  /** The published figure, or null when the anchor is a band. */
  anchor: number | null;
  /** Accepted band. */
  low: number;
  high: number;
  within: boolean;
  source: string;
}

/** ISAAC-CE: 168 tiles of 12 IMAs × 8 crossbars (128×128, 2 bits/cell), 8-bit ADC per crossbar, 32 nm. */
export const ISAAC_CE: HardwareConfig = {
  device: 'rram-isaac',
  rows: 128,
  cols: 128,
  adcBits: 8,
  adcType: 'sar',
  dacBits: 1,
  bitsPerCell: 2,
  // one ADC per crossbar
  colsPerAdc: 128,
  techNode: 32,
  tiles: 168,
  architecture: 'isaac',
  executionMode: 'pipelined',
};

/**
 * PUMA node at peak (Ankit et al., ASPLOS 2019): tiles of 8 cores × 2 MVMUs × 8 crossbars of 128×128
 * 2-bit cells (16-bit weights), 1-bit DACs, 8-bit ADCs, 32 nm (puma-simulator include/config.py:
 * num_ima = 8, num_matrix = 2, xbar_size = 128, xbar_bits = 2, dac_res = 1, adc_res = 8). On the ISAAC
 * preset (same node, same crossbar and ADC family) with one ADC per crossbar, which gives PUMA's 1 GHz peak.
 * The tile count does not change the peak ratios; 138 is the paper's node.
 */
export const PUMA_NODE: HardwareConfig = { ...ISAAC_CE, tiles: 138, arraysPerTile: 128 };

/** NeuroSim-like 22 nm RRAM chip: 128×128, 5-bit SAR shared by 8 columns, 1-bit DAC, 2 bits/cell. */
export const NEUROSIM_RRAM_22: HardwareConfig = {
  device: 'rram',
  rows: 128,
  cols: 128,
  adcBits: 5,
  adcType: 'sar',
  dacBits: 1,
  bitsPerCell: 2,
  colsPerAdc: 8,
  techNode: 22,
  architecture: 'neurosim',
};

/** The same chip with SRAM cells (1 bit per cell). */
export const NEUROSIM_SRAM_22: HardwareConfig = { ...NEUROSIM_RRAM_22, device: 'sram', bitsPerCell: 1 };

/** HERMES-like 14 nm PCM: 256×256 arrays, 8-bit ADCs, 8-bit activations, differential PCM. */
export const HERMES_LIKE_PCM_14: HardwareConfig = {
  device: 'pcm',
  rows: 256,
  cols: 256,
  adcBits: 8,
  adcType: 'sar',
  dacBits: 1,
  bitsPerCell: 2,
  colsPerAdc: 8,
  techNode: 14,
  architecture: 'neurosim',
};

/** Energy of the macro alone: array, ADC, sample-and-hold, DAC and shift-add (no buffers, NoC, I/O). */
export function macroEnergyJ(cost: NetworkCost): number {
  const e = cost.energyBreakdown;
  return e.array + e.adc + e.sampleHold + e.dac + e.shiftAdd;
}

function share(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

function row(
  id: string,
  configuration: string,
  metric: string,
  unit: string,
  model: number,
  anchor: number | null,
  low: number,
  high: number,
  source: string,
): CalibrationRow {
  return {
    id,
    configuration,
    metric,
    unit,
    model,
    anchor,
    low,
    high,
    within: model >= low && model <= high,
    source,
  };
}

function plusMinus(anchor: number, fraction: number): [number, number] {
  return [anchor * (1 - fraction), anchor * (1 + fraction)];
}

function evaluate(
  layers: LayerShape[],
  hw: HardwareConfig,
  library: HardwareLibrary,
  options?: EvaluateOptions,
) {
  return evaluateNetwork(layers, hw, library, options);
}

/** The model beside the anchors of docs/sources.md §Calibration anchors. */
export function calibrationTable(library: HardwareLibrary = DEFAULT_LIBRARY): CalibrationRow[] {
  const rows: CalibrationRow[] = [];
  const isaacSource = 'ISAAC (Shafiee et al., ISCA 2016), Table 2';
  // Peak figures: every crossbar busy every cycle with every row driven.
  const isaac = evaluate(isaacPeakWorkload(ISAAC_CE.tiles), ISAAC_CE, library, { inputBitDensity: 1 });
  const isaacConfig = 'isaac / rram-isaac, 32 nm, 168 tiles, peak workload';
  const tol = 0.3;
  rows.push(
    row(
      'isaac.topsPerW',
      isaacConfig,
      'TOPS/W',
      'TOPS/W',
      isaac.topsPerW,
      0.6275,
      ...plusMinus(0.6275, tol),
      isaacSource,
    ),
  );
  rows.push(
    row(
      'isaac.topsPerMm2',
      isaacConfig,
      'TOPS/mm²',
      'TOPS/mm²',
      isaac.topsPerMm2,
      0.479,
      ...plusMinus(0.479, tol),
      isaacSource,
    ),
  );
  rows.push(
    row(
      'isaac.powerW',
      isaacConfig,
      'chip power',
      'W',
      isaac.energyJ / isaac.latencyS,
      65.8,
      ...plusMinus(65.8, tol),
      isaacSource,
    ),
  );
  rows.push(
    row(
      'isaac.areaMm2',
      isaacConfig,
      'chip area',
      'mm²',
      isaac.areaMm2,
      85.4,
      ...plusMinus(85.4, tol),
      isaacSource,
    ),
  );
  const e = isaac.energyBreakdown;
  const tileEnergy = isaac.energyJ - e.offChipIo - e.leakage;
  rows.push(
    row(
      'isaac.adcPowerShare',
      isaacConfig,
      'ADC share of tile power',
      'fraction',
      share(e.adc, tileEnergy),
      0.58,
      ...plusMinus(0.58, tol),
      isaacSource,
    ),
  );
  const tileArea = isaac.areaMm2 - isaac.areaBreakdown.offChipIo;
  rows.push(
    row(
      'isaac.adcAreaShare',
      isaacConfig,
      'ADC share of tile area',
      'fraction',
      share(isaac.areaBreakdown.adc, tileArea),
      0.31,
      ...plusMinus(0.31, tol),
      isaacSource,
    ),
  );

  // PUMA peak: every MVMU of every core busy (16 × 128 rows × 128 16-bit columns per tile).
  const pumaSource = 'PUMA (Ankit et al., ASPLOS 2019), abstract: 577 GOPS/s/mm², 837 GOPS/s/W at 1 GHz';
  const pumaTiles = PUMA_NODE.tiles ?? 138;
  const pumaLayers = isaacPeakWorkload(pumaTiles).map((l) => ({ ...l, inChannels: 16 * 128 }));
  const puma = evaluate(pumaLayers, PUMA_NODE, library, { inputBitDensity: 1 });
  const pumaConfig = 'isaac / rram-isaac, 32 nm, 138 tiles × 128 crossbars, peak workload';
  rows.push(
    row(
      'puma.topsPerW',
      pumaConfig,
      'TOPS/W',
      'TOPS/W',
      puma.topsPerW,
      0.837,
      ...plusMinus(0.837, tol),
      pumaSource,
    ),
  );
  rows.push(
    row(
      'puma.topsPerMm2',
      pumaConfig,
      'TOPS/mm²',
      'TOPS/mm²',
      puma.topsPerMm2,
      0.577,
      ...plusMinus(0.577, tol),
      pumaSource,
    ),
  );

  const vgg8 = vgg8Cifar10(8, 8);
  const rram = evaluate(vgg8, NEUROSIM_RRAM_22, library);
  const rramConfig = 'neurosim / rram, 22 nm, 128×128, 5-bit SAR, 2 b/cell, VGG-8 8-bit';
  const chipBand =
    'DNN+NeuroSim runs: 8-bit VGG-8 on 22 nm RRAM/SRAM, chip level 10–35 TOPS/W (suspect > 50)';
  rows.push(
    row('neurosim-rram22.topsPerW', rramConfig, 'TOPS/W', 'TOPS/W', rram.topsPerW, null, 10, 35, chipBand),
  );
  rows.push(
    row(
      'neurosim-rram22.adcEnergyShare',
      rramConfig,
      'ADC share of energy',
      'fraction',
      share(rram.energyBreakdown.adc, rram.energyJ),
      null,
      0.26,
      0.7,
      'DNN+NeuroSim runs: ADC 26–70 % of dynamic energy',
    ),
  );
  rows.push(
    row(
      'neurosim-rram22.interconnectShare',
      rramConfig,
      'interconnect share of energy',
      'fraction',
      share(rram.energyBreakdown.interconnect, rram.energyJ),
      null,
      0.1,
      0.35,
      'DNN+NeuroSim runs: interconnect typically 10–35 % of chip energy',
    ),
  );
  rows.push(
    row(
      'neurosim-rram22.leakageShare',
      rramConfig,
      'leakage share of energy',
      'fraction',
      share(rram.energyBreakdown.leakage, rram.energyJ),
      null,
      0.02,
      0.2,
      'DNN+NeuroSim V1.4 runs (bench/fixtures/neurosim): leakage 2.4–3.3 % with flash ADCs at 22 nm, 10.5–11.7 % with SAR ADCs (slower), 10–19 % at 45 nm',
    ),
  );
  rows.push(
    row(
      'neurosim-rram22.macroTopsPerW',
      rramConfig,
      'macro TOPS/W (array+ADC+DAC+S&H+shift-add)',
      'TOPS/W',
      rram.ops / macroEnergyJ(rram) / 1e12,
      null,
      11.91,
      195.7,
      'ISSCC 2021: TSMC 22 nm ReRAM macro 11.91 (8-bit) … 195.7 (binary) TOPS/W',
    ),
  );

  const sram = evaluate(vgg8, NEUROSIM_SRAM_22, library);
  rows.push(
    row(
      'neurosim-sram22.topsPerW',
      'neurosim / sram, 22 nm, otherwise as above',
      'TOPS/W',
      'TOPS/W',
      sram.topsPerW,
      null,
      10,
      35,
      chipBand,
    ),
  );

  const pcm = evaluate(vgg8, HERMES_LIKE_PCM_14, library);
  rows.push(
    row(
      'hermes-like-pcm14.topsPerW',
      'neurosim / pcm, 14 nm, 256×256, 8-bit ADC, VGG-8 8-bit',
      'TOPS/W',
      'TOPS/W',
      pcm.topsPerW,
      9.76,
      2,
      30,
      'Le Gallo et al. 2023: IBM HERMES 9.76 TOPS/W measured; 8-bit networks on analog chips 2–30 TOPS/W',
    ),
  );
  return rows;
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000 || magnitude < 0.01) return value.toExponential(3);
  return value.toPrecision(4);
}

/** A plain-text table of the rows (what `npx tsx hardware/calibrate.ts` prints). */
export function formatCalibrationTable(rows: readonly CalibrationRow[]): string {
  const header = ['check', 'metric', 'model', 'anchor', 'band', 'ok'];
  const lines = rows.map((r) => [
    r.id,
    r.metric === r.unit ? r.metric : `${r.metric} (${r.unit})`,
    formatNumber(r.model),
    r.anchor === null ? '—' : formatNumber(r.anchor),
    `${formatNumber(r.low)} … ${formatNumber(r.high)}`,
    r.within ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)];
  const configurations = [...new Set(rows.map((r) => `${r.id.split('.')[0]}: ${r.configuration}`))];
  const sources = [...new Set(rows.map((r) => r.source))];
  return [
    ...out,
    '',
    'configurations:',
    ...configurations.map((c) => `  ${c}`),
    'sources:',
    ...sources.map((s) => `  ${s}`),
  ].join('\n');
}
