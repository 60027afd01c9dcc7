/** Genome ↔ candidate: decode, encode and the canonical form (inactive genes of skip blocks at 0). */

import type { AdcType, HardwareConfig, TechNode } from '../../hardware/types';
import {
  OPERATORS,
  hasResidual,
  hiddenChannelsOf,
  type ArchitectureSpec,
  type BlockSpec,
  type LayerBits,
  type OperatorName,
  type QuantizationSpec,
} from '../architecture';
import { buildLayout, type GenomeLayout, type QuantizationGenes } from './layout';
import { show, type SearchSpace } from './schema';

/** One point of the space, decoded. */
export interface Candidate {
  architecture: ArchitectureSpec;
  quantization: QuantizationSpec;
  hardware: HardwareConfig;
}

export type Genome = number[];

/** Problems with a genome's length and gene ranges (empty when every gene indexes a value). */
export function genomeShapeProblems(layout: GenomeLayout, genome: readonly number[]): string[] {
  if (!Array.isArray(genome)) return [`a genome is an array of integers, got ${show(genome)}`];
  if (genome.length !== layout.length)
    return [`genome has ${genome.length} genes, this space has ${layout.length}`];
  const problems: string[] = [];
  genome.forEach((value, index) => {
    const gene = layout.genes[index];
    if (!Number.isInteger(value) || value < 0 || value >= gene.cardinality) {
      problems.push(
        `${gene.name}: gene value ${show(value)} is not an integer in 0..${gene.cardinality - 1}`,
      );
    }
  });
  return problems;
}

function assertGenomeShape(layout: GenomeLayout, genome: readonly number[]): void {
  const problems = genomeShapeProblems(layout, genome);
  if (problems.length > 0) throw new RangeError(`malformed genome: ${problems.join('; ')}`);
}

export function geneValue(layout: GenomeLayout, genome: readonly number[], gene: number): string | number {
  return layout.genes[gene].values[genome[gene]];
}

function decodeBits(layout: GenomeLayout, genome: readonly number[], genes: QuantizationGenes): LayerBits {
  return {
    weightBits: geneValue(layout, genome, genes.weightBits) as number,
    activationBits: geneValue(layout, genome, genes.activationBits) as number,
  };
}

function decodeHardware(layout: GenomeLayout, genome: readonly number[]): HardwareConfig {
  const genes = layout.hardware;
  const value = (gene: number) => geneValue(layout, genome, gene);
  const config: HardwareConfig = {
    device: value(genes.device) as string,
    rows: value(genes.rows) as number,
    cols: value(genes.cols) as number,
    adcBits: value(genes.adcBits) as number,
    adcType: value(genes.adcType) as AdcType,
    dacBits: value(genes.dacBits) as number,
    bitsPerCell: value(genes.bitsPerCell) as number,
    colsPerAdc: value(genes.colsPerAdc) as number,
    techNode: value(genes.techNode) as TechNode,
  };
  if (genes.supplyVoltage !== null) config.supplyVoltage = value(genes.supplyVoltage) as number;
  if (genes.tiles !== null) config.tiles = value(genes.tiles) as number;
  return config;
}

/**
 * The candidate a genome stands for. Throws on a malformed genome (wrong length, gene out of range); does
 * not check hardware feasibility (use checkFeasible or repair first). Inactive genes are ignored.
 */
export function decode(space: SearchSpace, genome: readonly number[]): Candidate {
  const layout = buildLayout(space);
  assertGenomeShape(layout, genome);
  const { network } = space;
  let channels = network.stem.channels;
  const blocks: BlockSpec[] = [];
  const blockBits: Array<LayerBits | null> = [];
  for (const slot of layout.blockSlots) {
    const operator = geneValue(layout, genome, slot.operatorGene) as OperatorName;
    const op = OPERATORS[operator];
    const common = {
      slot: slot.slot,
      stage: slot.stage,
      indexInStage: slot.indexInStage,
      operator,
      family: op.family,
    };
    if (op.family === 'skip') {
      blocks.push({
        ...common,
        kernel: 0,
        expansion: 0,
        stride: 1,
        inChannels: channels,
        outChannels: channels,
        hiddenChannels: 0,
        residual: false,
      });
      blockBits.push(null);
      continue;
    }
    const outChannels = geneValue(layout, genome, slot.widthGene) as number;
    blocks.push({
      ...common,
      kernel: op.kernel,
      expansion: op.expansion,
      stride: slot.stride,
      inChannels: channels,
      outChannels,
      hiddenChannels: hiddenChannelsOf(op.family, channels, op.expansion),
      residual: hasResidual(op.family, slot.stride, channels, outChannels),
    });
    blockBits.push(decodeBits(layout, genome, slot.bits));
    channels = outChannels;
  }
  return {
    architecture: {
      inputShape: [...network.inputShape],
      stem: { kernel: network.stem.kernel, stride: network.stem.stride, outChannels: network.stem.channels },
      blocks,
      head: { convChannels: network.head.channels ?? null, numClasses: network.numClasses },
    },
    quantization: {
      stem: decodeBits(layout, genome, layout.stemBits),
      blocks: blockBits,
      head: decodeBits(layout, genome, layout.headBits),
    },
    hardware: decodeHardware(layout, genome),
  };
}

/** A genome with every inactive gene (per-block width/bits of a skip block) set to 0. */
export function canonicalize(space: SearchSpace, genome: readonly number[]): Genome {
  const layout = buildLayout(space);
  assertGenomeShape(layout, genome);
  const canonical = [...genome];
  for (const gene of inactiveGenes(layout, genome)) canonical[gene] = 0;
  return canonical;
}

export function inactiveGenes(layout: GenomeLayout, genome: readonly number[]): number[] {
  const inactive: number[] = [];
  for (const slot of layout.blockSlots) {
    if (geneValue(layout, genome, slot.operatorGene) !== 'skip') continue;
    if (slot.widthGeneIsPerBlock) inactive.push(slot.widthGene);
    if (slot.bitsGenesArePerBlock) inactive.push(slot.bits.weightBits, slot.bits.activationBits);
  }
  return inactive;
}

export function isCanonical(space: SearchSpace, genome: readonly number[]): boolean {
  const layout = buildLayout(space);
  return inactiveGenes(layout, genome).every((gene) => genome[gene] === 0);
}

/**
 * The canonical genome of a candidate. Throws, naming the first mismatch, when the candidate is not in
 * the space (a value not among the choices, an inconsistent channel chain, unequal bits in a stage...).
 * decode(encode(c)) deep-equals c; encode(decode(g)) equals canonicalize(g).
 */
export function encode(space: SearchSpace, candidate: Candidate): Genome {
  const layout = buildLayout(space);
  const genome: Genome = new Array<number>(layout.length).fill(0);
  const assign = (gene: number, value: unknown, what: string) => {
    const index = layout.genes[gene].values.indexOf(value as string | number);
    if (index < 0) {
      throw new Error(
        `encode: ${what} = ${show(value)} is not a choice of ${layout.genes[gene].name} (${layout.genes[gene].values.join(', ')})`,
      );
    }
    genome[gene] = index;
  };
  const { architecture, quantization, hardware } = candidate;
  if (
    architecture.blocks.length !== layout.blockSlots.length ||
    quantization.blocks.length !== layout.blockSlots.length
  ) {
    throw new Error(
      `encode: the space has ${layout.blockSlots.length} block slots, the candidate has ${architecture.blocks.length} blocks and ${quantization.blocks.length} quantization entries`,
    );
  }
  for (const slot of layout.blockSlots) {
    const block = architecture.blocks[slot.slot];
    const where = `block ${slot.slot} (stage ${slot.stage}, block ${slot.indexInStage})`;
    if (block.operator === 'skip' && !slot.operators.includes('skip')) {
      throw new Error(
        `encode: ${where} is skip, but the first block of a stage sets the stride and width and cannot be skipped`,
      );
    }
    assign(slot.operatorGene, block.operator, `${where} operator`);
    if (block.operator === 'skip') continue; // its own genes stay 0 (canonical); shared genes come from others
    assign(slot.widthGene, block.outChannels, `${where} outChannels`);
    const bits = quantization.blocks[slot.slot];
    if (!bits) throw new Error(`encode: ${where} has weights but its quantization entry is null`);
    assign(slot.bits.weightBits, bits.weightBits, `${where} weightBits`);
    assign(slot.bits.activationBits, bits.activationBits, `${where} activationBits`);
  }
  // Shared genes (network-level bits) may be first written by a block: stem and head must agree with them.
  assign(layout.stemBits.weightBits, quantization.stem.weightBits, 'stem weightBits');
  assign(layout.stemBits.activationBits, quantization.stem.activationBits, 'stem activationBits');
  assign(layout.headBits.weightBits, quantization.head.weightBits, 'head weightBits');
  assign(layout.headBits.activationBits, quantization.head.activationBits, 'head activationBits');
  const genes = layout.hardware;
  assign(genes.device, hardware.device, 'hardware.device');
  assign(genes.techNode, hardware.techNode, 'hardware.techNode');
  assign(genes.bitsPerCell, hardware.bitsPerCell, 'hardware.bitsPerCell');
  assign(genes.rows, hardware.rows, 'hardware.rows');
  assign(genes.cols, hardware.cols, 'hardware.cols');
  assign(genes.colsPerAdc, hardware.colsPerAdc, 'hardware.colsPerAdc');
  assign(genes.adcBits, hardware.adcBits, 'hardware.adcBits');
  assign(genes.adcType, hardware.adcType, 'hardware.adcType');
  assign(genes.dacBits, hardware.dacBits, 'hardware.dacBits');
  if (genes.supplyVoltage !== null)
    assign(genes.supplyVoltage, hardware.supplyVoltage, 'hardware.supplyVoltage');
  if (genes.tiles !== null) assign(genes.tiles, hardware.tiles, 'hardware.tiles');

  // Shared genes were written once per block: decoding back and comparing catches every disagreement
  // (blocks of one stage with different widths or bits, wrong derived fields, extra hardware keys).
  const difference = firstDifference(decode(space, genome), candidate, 'candidate');
  if (difference) throw new Error(`encode: the candidate is not in this space: ${difference}`);
  return genome;
}

function firstDifference(expected: unknown, actual: unknown, path: string): string | null {
  if (Object.is(expected, actual)) return null;
  if (typeof expected !== 'object' || typeof actual !== 'object' || expected === null || actual === null) {
    return `${path} is ${show(actual)}, the space gives ${show(expected)}`;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return `${path} has the wrong type`;
  const expectedRecord = expected as Record<string, unknown>;
  const actualRecord = actual as Record<string, unknown>;
  const keys = new Set([...Object.keys(expectedRecord), ...Object.keys(actualRecord)]);
  for (const key of keys) {
    if (expectedRecord[key] === undefined && actualRecord[key] === undefined) continue;
    const childPath = Array.isArray(expected) ? `${path}[${key}]` : `${path}.${key}`;
    const difference = firstDifference(expectedRecord[key], actualRecord[key], childPath);
    if (difference) return difference;
  }
  return null;
}
