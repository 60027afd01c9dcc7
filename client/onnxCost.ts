/**
 * `imcnas cost <model.onnx>`: a network the user already has, costed on a chip by the same model the
 * search uses (hardware/cost.ts). The chip is the baselines' default (RRAM 22 nm, 128×128 arrays, 6-bit
 * SAR ADCs, 2 bits per cell; search/baseline.ts) unless a chip file or options say otherwise.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { evaluateNetwork, type NetworkCost } from '../hardware/cost';
import type { HardwareConfig } from '../hardware/types';
import { validateHardware } from '../hardware/validate';
import { onnxLayerShapes, type ImportedNetwork } from '../models/onnx/layers';
import { decodeOnnxModel } from '../models/onnx/model';
import { BaselineChipSchema, BaselineNetworkSchema, baselineDesign } from '../search/baseline';
import { onnxBaselineNetwork } from '../models/onnx/baselineNetwork';
import { ConfigError, parseOrThrow } from '../common/validation';
import { withSiPrefix } from './format';

export interface OnnxCostOptions {
  /** A YAML or JSON file with chip fields (device, rows, cols, adcBits, adcType, dacBits, bitsPerCell, colsPerAdc, techNode). */
  chip?: string;
  /** Image shape CxHxW; default the dataset's, 1x28x28. */
  input?: string;
  weightBits?: string;
  activationBits?: string;
}

export interface OnnxCostReport {
  model: string;
  chip: HardwareConfig;
  network: ImportedNetwork;
  cost: NetworkCost;
}

function positiveInt(text: string | undefined, option: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new ConfigError([`${option}: must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`]);
  return value;
}

function inputShape(text: string | undefined): [number, number, number] {
  if (text === undefined) return [1, 28, 28];
  const parts = text.split('x').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 1))
    throw new ConfigError([
      `--input: must be channels x height x width, e.g. 1x28x28, got ${JSON.stringify(text)}`,
    ]);
  return parts as [number, number, number];
}

async function chipFrom(file: string | undefined): Promise<HardwareConfig> {
  let value: unknown = {};
  if (file !== undefined) {
    const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError([`--chip ${file}: cannot read (${error.code ?? error.message})`]);
    });
    try {
      value = path.extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new ConfigError([`--chip ${file}: not valid YAML or JSON (${(error as Error).message})`]);
    }
  }
  const where = file === undefined ? '--chip' : `--chip ${file}`;
  let chip;
  try {
    chip = parseOrThrow(BaselineChipSchema, value ?? {});
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems.map((p) => `${where}: ${p}`));
    throw error;
  }
  const hw: HardwareConfig = { ...chip };
  const problems = validateHardware(hw);
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `${where}: ${problem}`));
  return hw;
}

/** Reads, maps and costs the model; every input problem is an error before any work. */
export async function costOnnxModel(file: string, options: OnnxCostOptions): Promise<OnnxCostReport> {
  const chip = await chipFrom(options.chip);
  const settings = {
    inputShape: inputShape(options.input),
    weightBits: positiveInt(options.weightBits, '--weight-bits', 16),
    activationBits: positiveInt(options.activationBits, '--activation-bits', 16),
  };
  const bytes = await fs.readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError([`${file}: cannot read (${error.code ?? error.message})`]);
  });
  const network = onnxLayerShapes(decodeOnnxModel(bytes, file), settings);
  return {
    model: file,
    chip,
    network,
    cost: evaluateNetwork(network.layers, chip, undefined, { perLayer: true }),
  };
}

export function describeOnnxCost(report: OnnxCostReport): string[] {
  const { chip, network, cost } = report;
  const lines = [
    `${report.model}: ${network.layers.length} weight layers on ${chip.device} ${chip.techNode} nm, ${chip.rows}×${chip.cols} arrays, ` +
      `${chip.bitsPerCell} b/cell, ${chip.adcBits}-bit ${chip.adcType} ADC per ${chip.colsPerAdc} columns, ${chip.dacBits}-bit DAC`,
  ];
  for (const [i, layer] of network.layers.entries()) {
    const perLayer = cost.layers?.[i];
    lines.push(
      `  ${layer.name.padEnd(16)} ${layer.kind.padEnd(9)} ${String(layer.inChannels).padStart(5)}→${String(layer.outChannels).padEnd(5)} ` +
        `${layer.kernelH}×${layer.kernelW}/${layer.stride} → ${layer.outH}×${layer.outW} w${layer.weightBits}a${layer.activationBits}` +
        (perLayer
          ? `  ${perLayer.tiles} tiles, ${withSiPrefix(perLayer.energyJ, 'J')}, ${withSiPrefix(perLayer.latencyS, 's')}`
          : ''),
    );
  }
  const digital = Object.entries(network.digitalOps)
    .map(([op, count]) => `${op} ×${count}`)
    .join(', ');
  if (digital) lines.push(`  digital beside the arrays (not charged): ${digital}`);
  lines.push(
    `  total: ${cost.macs.toLocaleString('en-US')} MACs/image, energy ${withSiPrefix(cost.energyJ, 'J')}/image, latency ${withSiPrefix(cost.latencyS, 's')}, ` +
      `area ${cost.areaMm2.toPrecision(4)} mm², EDAP ${cost.edap.toExponential(3)} J·s·mm², ${cost.topsPerW.toPrecision(4)} TOPS/W`,
  );
  return lines;
}

/**
 * `imcnas import <model.onnx> --name <name>`: the network's architecture as a `baseline.networks` entry
 * (YAML), checked to build on the default baseline chip, to paste into a search configuration.
 */
export async function baselineEntryFromOnnx(
  file: string,
  options: Pick<OnnxCostOptions, 'input' | 'weightBits' | 'activationBits'> & {
    name: string;
    classes?: string;
  },
): Promise<string> {
  const settings = {
    inputShape: inputShape(options.input),
    weightBits: positiveInt(options.weightBits, '--weight-bits', 16),
    activationBits: positiveInt(options.activationBits, '--activation-bits', 16),
    numClasses: positiveInt(options.classes, '--classes', 100000) ?? 10,
  };
  const bytes = await fs.readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError([`${file}: cannot read (${error.code ?? error.message})`]);
  });
  const entry = onnxBaselineNetwork(decodeOnnxModel(bytes, file), options.name, settings);
  let network;
  try {
    network = parseOrThrow(BaselineNetworkSchema, entry);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems.map((p) => `--name: ${p}`));
    throw error;
  }
  const [channels, height, width] = settings.inputShape;
  baselineDesign(network, BaselineChipSchema.parse({}), {
    inputShape: [height, width, channels],
    numClasses: settings.numClasses,
  });
  return [
    `# ${file} as a baseline: add this entry to your configuration's baseline.networks; its weights are not`,
    '# kept (every baseline is retrained from scratch with retrain.*, as the found designs are)',
    stringifyYaml([entry]).trimEnd(),
  ].join('\n');
}
