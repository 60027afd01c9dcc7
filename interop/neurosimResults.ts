/**
 * NeuroSim's figures next to imcnas's: the cost-model setting that gives imcnas exactly what NeuroSim is
 * given, the parser of NeuroSim V1.4's printed summary, and the comparison of an exported, run design.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../storage/atomic';
import type { DeviceParams } from '../hardware/devices';
import type { HardwareConfig, LayerShape } from '../hardware/types';
import { layersOfRows, NEUROSIM_TARGET, type NeuroSimLayerRow } from './neurosimFormat';

/**
 * NeuroSim V1.4 Param.cpp fixes the cell read voltage per node ("read voltage is fixed for Neurosim1.4, due
 * to the assumptions for the ADC modeling equation"): 130/90 nm 0.58 V, 65 nm 0.55, 45/32 nm 0.51, 22 nm 0.55,
 * 14 nm 0.277, 10 nm 0.28, 7 nm 0.264, 5 nm 0.253.
 */
const NEUROSIM_READ_VOLTAGE: Record<number, number> = {
  130: 0.58,
  90: 0.58,
  65: 0.55,
  45: 0.51,
  32: 0.51,
  22: 0.55,
  14: 0.277,
  10: 0.28,
  7: 0.264,
  5: 0.253,
};

/**
 * The imcnas cost model given what NeuroSim is given, so that what remains of a gap is the two models and
 * not the mapping: NeuroSim's layer rows (depthwise as a dense convolution), 1-bit inputs per cycle, one
 * column per weight slice (no differential pair), NeuroSim's read voltage, and its 1T1R / SRAM cell areas
 * (64.5 F² / 379 F² per cell at 128×128, 22 nm: bench/fixtures/neurosim rram22_c2_a128_flash5_lbl.json and
 * sram22_c1_a128_flash5_lbl.json, as bench/fidelity.ts sets them).
 */
export function neurosimAlignedSetting(
  rows: readonly NeuroSimLayerRow[],
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  device: DeviceParams,
): { layers: LayerShape[]; hw: HardwareConfig; libraryConfig: Record<string, unknown> } {
  const override: Record<string, unknown> = {
    differentialPairs: false,
    cellAreaF2: device.family === 'sram' ? 379 : 64.5,
    readVoltageV: NEUROSIM_READ_VOLTAGE[hw.techNode] ?? device.readVoltageV,
  };
  return {
    layers: layersOfRows(rows, layers[0]?.weightBits ?? 8, layers[0]?.activationBits ?? 8),
    hw: {
      ...hw,
      dacBits: 1,
      bitsPerCell: device.family === 'sram' ? 1 : hw.bitsPerCell,
      architecture: 'neurosim',
    },
    libraryConfig: { devices: { [hw.device]: override } },
  };
}

/** The figures compared: chip area, latency and energy per image, TOPS/W. */
export interface NeuroSimFigures {
  areaMm2: number;
  latencyS: number;
  /** Dynamic + leakage per image, as printed (NeuroSim's TOPS/W also divides by ζ = 1.22). */
  energyJ: number;
  topsPerW: number;
}

export interface NeuroSimSummary extends NeuroSimFigures {
  dynamicEnergyJ: number;
  leakageEnergyJ: number;
  /** Area breakdown (mm²): CIM arrays, ADCs, accumulation, interconnect, other periphery. */
  areaBreakdownMm2: { array: number; adc: number; accumulation: number; interconnect: number; other: number };
  tilesPerLayer: number[];
  layerLatencyS: number[];
  layerDynamicEnergyJ: number[];
}

const NUMBER = '([-+0-9.eE]+)';

/** Parses the summary NeuroSim V1.4's main prints (layer-by-layer or pipelined). */
export function parseNeuroSimSummary(stdout: string): NeuroSimSummary {
  const marker = '------------------------------ Summary';
  if (!stdout.includes(marker))
    throw new Error('NeuroSim output has no Summary section: the run stopped early (look for ERROR in it)');
  const summary = stdout.slice(stdout.indexOf(marker));
  const field = (pattern: string, what: string): number => {
    const match = new RegExp(pattern + NUMBER).exec(summary);
    if (!match) throw new Error(`NeuroSim summary: no ${what}`);
    return Number(match[1]);
  };
  const dynamicPj = field(
    'Chip (?:total|pipeline-system) readDynamicEnergy(?: \\(per image\\))? is: ',
    'read dynamic energy',
  );
  const leakagePj = field(
    'Chip (?:total|pipeline-system) leakage Energy(?: \\(per image\\))? is: ',
    'leakage energy',
  );
  const tiles = /# of tile used for each layer -+\n([\s\S]*?)\n\n/.exec(stdout)?.[1] ?? '';
  const layers = [
    ...stdout.matchAll(
      /layer\d+'s readLatency is: ([-+0-9.eE]+)ns\nlayer\d+'s readDynamicEnergy is: ([-+0-9.eE]+)pJ/g,
    ),
  ];
  return {
    areaMm2: field('ChipArea : ', 'chip area') / 1e6,
    latencyS:
      field(
        'Chip (?:layer-by-layer readLatency|pipeline-system-clock-cycle) \\(per image\\) is: ',
        'latency',
      ) * 1e-9,
    energyJ: (dynamicPj + leakagePj) * 1e-12,
    dynamicEnergyJ: dynamicPj * 1e-12,
    leakageEnergyJ: leakagePj * 1e-12,
    topsPerW: field('Energy Efficiency TOPS/W \\([^)]*\\): ', 'TOPS/W'),
    areaBreakdownMm2: {
      array: field('Chip total CIM array : ', 'array area') / 1e6,
      adc: field('Total ADC \\(or S/As and precharger for SRAM\\) Area on chip : ', 'ADC area') / 1e6,
      accumulation: field('Total Accumulation Circuits .*? on chip : ', 'accumulation area') / 1e6,
      interconnect:
        field('Total IC Area on chip \\(Global and Tile/PE local\\): ', 'interconnect area') / 1e6,
      other: field('Other Peripheries .*?\\) : ', 'other periphery area') / 1e6,
    },
    tilesPerLayer: tiles
      .trim()
      .split('\n')
      .filter((line) => line.includes(': '))
      .map((line) => Number(line.split(': ')[1])),
    layerLatencyS: layers.map((m) => Number(m[1]) * 1e-9),
    layerDynamicEnergyJ: layers.map((m) => Number(m[2]) * 1e-12),
  };
}

export interface NeuroSimComparison {
  image: number;
  neurosim: NeuroSimSummary;
  imcnas: NeuroSimFigures;
  imcnasAsNeuroSimRuns: NeuroSimFigures;
  /** imcnas / NeuroSim for the design as searched and for the aligned setting. */
  ratio: Record<'design' | 'aligned', Record<keyof NeuroSimFigures, number>>;
  /** TOPS/W of both on the same operation count (NeuroSim's), energies including NeuroSim's ζ = 1.22. */
  topsPerWOnNeuroSimOps: { neurosim: number; imcnas: number; imcnasAsNeuroSimRuns: number };
  /** Per layer: NeuroSim's read latency, dynamic energy and tiles beside imcnas's (design and aligned). */
  layers: Array<{
    name: string;
    neurosim: { latencyS: number; dynamicEnergyJ: number; tiles: number };
    imcnas: ImcnasLayerFigures;
    imcnasAsNeuroSimRuns: ImcnasLayerFigures;
  }>;
}

/** One layer's latency and energy in imcnas's cost model (imcnas.json). */
export interface ImcnasLayerFigures {
  name: string;
  latencyS: number;
  energyJ: number;
  arrays: number;
  tiles: number;
}

interface ImcnasFile {
  neurosimOperations: number;
  design: NeuroSimFigures & { topsPerWOnNeuroSimOps: number; layers: ImcnasLayerFigures[] };
  asNeuroSimRuns: NeuroSimFigures & { topsPerWOnNeuroSimOps: number; layers: ImcnasLayerFigures[] };
}

/**
 * NeuroSim's figures for one traced image (run.sh's neurosim-image<i>.txt in the export directory) next to
 * imcnas's (imcnas.json); writes comparison-image<i>.json there.
 */
export async function compareNeuroSimRun(exportDir: string, image = 0): Promise<NeuroSimComparison> {
  const outputFile = path.join(exportDir, `neurosim-image${image}.txt`);
  let stdout: string;
  try {
    stdout = await fs.readFile(outputFile, 'utf8');
  } catch {
    throw new Error(
      `${outputFile}: not found; run ${path.join(exportDir, 'run.sh')} <NeuroSIM directory> ${image} first`,
    );
  }
  const neurosim = parseNeuroSimSummary(stdout);
  const imcnasFile = JSON.parse(await fs.readFile(path.join(exportDir, 'imcnas.json'), 'utf8')) as ImcnasFile;
  const pick = (f: NeuroSimFigures): NeuroSimFigures => ({
    areaMm2: f.areaMm2,
    latencyS: f.latencyS,
    energyJ: f.energyJ,
    topsPerW: f.topsPerW,
  });
  const ratio = (f: NeuroSimFigures): Record<keyof NeuroSimFigures, number> => ({
    areaMm2: f.areaMm2 / neurosim.areaMm2,
    latencyS: f.latencyS / neurosim.latencyS,
    energyJ: f.energyJ / neurosim.energyJ,
    topsPerW: f.topsPerW / neurosim.topsPerW,
  });
  const comparison: NeuroSimComparison = {
    image,
    neurosim,
    imcnas: pick(imcnasFile.design),
    imcnasAsNeuroSimRuns: pick(imcnasFile.asNeuroSimRuns),
    ratio: { design: ratio(imcnasFile.design), aligned: ratio(imcnasFile.asNeuroSimRuns) },
    topsPerWOnNeuroSimOps: {
      neurosim: neurosim.topsPerW,
      imcnas: imcnasFile.design.topsPerWOnNeuroSimOps,
      imcnasAsNeuroSimRuns: imcnasFile.asNeuroSimRuns.topsPerWOnNeuroSimOps,
    },
    layers: imcnasFile.design.layers.map((layer, i) => ({
      name: layer.name,
      neurosim: {
        latencyS: neurosim.layerLatencyS[i] ?? NaN,
        dynamicEnergyJ: neurosim.layerDynamicEnergyJ[i] ?? NaN,
        tiles: neurosim.tilesPerLayer[i] ?? NaN,
      },
      imcnas: layer,
      imcnasAsNeuroSimRuns: imcnasFile.asNeuroSimRuns.layers[i]!,
    })),
  };
  await writeJsonAtomic(path.join(exportDir, `comparison-image${image}.json`), comparison);
  return comparison;
}

/** The comparison as a Markdown table (docs/neurosim-export.md prints it). */
export function comparisonTable(c: NeuroSimComparison): string {
  const row = (name: string, f: NeuroSimFigures, opsTopsW: number) =>
    `| ${name} | ${f.areaMm2.toFixed(1)} | ${(f.latencyS * 1e3).toFixed(4)} | ${(f.energyJ * 1e6).toFixed(3)} | ${f.topsPerW.toFixed(3)} | ${opsTopsW.toFixed(3)} |`;
  return [
    "| model | area mm² | latency ms | energy µJ/image | TOPS/W (own ops) | TOPS/W (NeuroSim's op count) |",
    '|---|---:|---:|---:|---:|---:|',
    row(`NeuroSim V${NEUROSIM_TARGET.version}`, c.neurosim, c.topsPerWOnNeuroSimOps.neurosim),
    row('imcnas, the design', c.imcnas, c.topsPerWOnNeuroSimOps.imcnas),
    row('imcnas, as NeuroSim runs it', c.imcnasAsNeuroSimRuns, c.topsPerWOnNeuroSimOps.imcnasAsNeuroSimRuns),
    '',
    '| layer | latency µs NeuroSim / imcnas / aligned | dynamic energy nJ NeuroSim / imcnas / aligned | NeuroSim tiles | arrays imcnas / aligned |',
    '|---|---:|---:|---:|---:|',
    ...c.layers.map(
      (l) =>
        `| ${l.name} | ${[l.neurosim.latencyS, l.imcnas.latencyS, l.imcnasAsNeuroSimRuns.latencyS].map((v) => (v * 1e6).toFixed(1)).join(' / ')} | ${[l.neurosim.dynamicEnergyJ, l.imcnas.energyJ, l.imcnasAsNeuroSimRuns.energyJ].map((v) => (v * 1e9).toFixed(1)).join(' / ')} | ${l.neurosim.tiles} | ${l.imcnas.arrays} / ${l.imcnasAsNeuroSimRuns.arrays} |`,
    ),
  ].join('\n');
}
