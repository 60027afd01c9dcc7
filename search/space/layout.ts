/**
 * The joint search space: network topology, quantization and crossbar hardware, declared in a config
 * (zod, strict, with defaults) and encoded as a fixed-length vector of small integers (gene i holds an
 * index into `layout.genes[i].values`).
 *
 * Rules of the encoding, in one place:
 * - Every searchable block slot has an operator gene. The first block of a stage sets the stage's stride
 *   and width, so its operator choices exclude `skip`; later blocks may be `skip` (identity), which gives
 *   every stage a depth of 1..blocks with a fixed-length genome and no infeasible operator value.
 * - Widths are chosen per stage (`widthChoice: 'stage'`, default; every block of a stage outputs the
 *   stage width) or per block (`'block'`). Quantization bits are chosen for the whole network, per stage
 *   (stem and head get their own pair), or per layer, where a "layer" is one block slot (its weight
 *   layers share the bits; see QuantizationSpec) plus the stem and the head.
 * - A gene owned by a skip block (its per-block width or bits) has no effect. Its canonical value is 0:
 *   `canonicalize` sets it, `encode` writes it, and the space size and `sampleGenome` count and draw
 *   canonical genomes only, so each distinct candidate is counted and drawn once.
 * - Hardware constraints (device ↔ node, device ↔ bits per cell, node ↔ supply voltage, columns per ADC
 *   ≤ columns, ADC type ↔ ADC bits; all from the hardware library, see ./rules.ts) only relate genes of
 *   the same gene group, so the feasible space is a product over groups:
 *   it is counted exactly and sampled uniformly, and a crossover that swaps whole groups between two
 *   feasible parents yields a feasible child. Capacity (a tiles budget, when `hardware.tiles` is given)
 *   depends on the whole genome: it is checked per candidate, and sampling rejects and redraws.
 * - `repair` moves an infeasible gene to the nearest feasible value and says why; `checkFeasible` lists
 *   what is wrong without changing anything.
 */

import type { OperatorName } from '../architecture';
import { DEFAULT_ARRAY_SIZES, type SearchSpace } from './schema';

export type GeneDomain = 'network' | 'quantization' | 'hardware';

export interface LayoutGene {
  index: number;
  /** Dotted name, e.g. 'stage1.block0.operator', 'hardware.techNode'. */
  name: string;
  domain: GeneDomain;
  /** Index into layout.groups. */
  group: number;
  cardinality: number;
  /** The gene's value is values[genome[index]]. Numeric values are sorted ascending. */
  values: ReadonlyArray<string | number>;
  /** Numeric values in order (widths, bits, sizes, nodes): neighbouring indices are similar designs. */
  ordinal: boolean;
}

/**
 * How a group's genes constrain each other: 'block' (a skip operator makes the block's other genes
 * inactive, canonical 0), 'cell' (device ↔ node ↔ bits per cell ↔ supply voltage), 'array' (columns per
 * ADC ≤ columns), 'periphery' (ADC bits ≤ what the ADC type allows), 'free' (no constraint).
 */
export type GeneGroupKind = 'free' | 'block' | 'cell' | 'array' | 'periphery';

/** Genes that belong together: NSGA-II's per-block crossover swaps whole groups. Groups are contiguous. */
export interface GeneGroup {
  index: number;
  name: string;
  kind: GeneGroupKind;
  genes: number[];
}

export interface QuantizationGenes {
  weightBits: number;
  activationBits: number;
}

/** One searchable block slot of the supernet and the genes that decide it. */
export interface BlockSlot {
  slot: number;
  stage: number;
  indexInStage: number;
  /** Stride if chosen block is not skip: the stage stride on its first block, 1 elsewhere. */
  stride: number;
  /** Operator choices (the operator gene's values). */
  operators: OperatorName[];
  widths: number[];
  operatorGene: number;
  /** Gene of this block's output width (shared by the stage when widthChoice = 'stage'). */
  widthGene: number;
  widthGeneIsPerBlock: boolean;
  bits: QuantizationGenes;
  bitsGenesArePerBlock: boolean;
}

export interface HardwareGenes {
  device: number;
  techNode: number;
  bitsPerCell: number;
  supplyVoltage: number | null;
  /** rows and cols point to the same 'hardware.crossbar' gene when arrays are square. */
  rows: number;
  cols: number;
  squareArrays: boolean;
  colsPerAdc: number;
  adcBits: number;
  adcType: number;
  dacBits: number;
  tiles: number | null;
}

/** Everything NSGA-II and the decoder need to know about the integer vector. Plain JSON. */
export interface GenomeLayout {
  length: number;
  genes: LayoutGene[];
  /** cardinalities[i] = genes[i].cardinality: gene i takes values 0..cardinalities[i]−1. */
  cardinalities: number[];
  groups: GeneGroup[];
  blockSlots: BlockSlot[];
  stemBits: QuantizationGenes;
  headBits: QuantizationGenes;
  hardware: HardwareGenes;
}

const layoutCache = new WeakMap<SearchSpace, GenomeLayout>();

/** The gene layout of a space (cached per space object). */
export function buildLayout(space: SearchSpace): GenomeLayout {
  const cached = layoutCache.get(space);
  if (cached) return cached;
  const layout = buildLayoutUncached(space);
  layoutCache.set(space, layout);
  return layout;
}

function buildLayoutUncached(space: SearchSpace): GenomeLayout {
  const genes: LayoutGene[] = [];
  const groups: GeneGroup[] = [];
  const addGene = (
    groupName: string,
    kind: GeneGroupKind,
    name: string,
    domain: GeneDomain,
    values: ReadonlyArray<string | number>,
  ): number => {
    let group = groups[groups.length - 1];
    if (!group || group.name !== groupName) {
      group = { index: groups.length, name: groupName, kind, genes: [] };
      groups.push(group);
    }
    const index = genes.length;
    const ordinal = values.every((value) => typeof value === 'number');
    // Sorted numeric choices let a mutation step to a neighbouring value (optimizer 'ordinal' genes).
    const ordered = ordinal ? [...(values as number[])].sort((a, b) => a - b) : [...values];
    genes.push({
      index,
      name,
      domain,
      group: group.index,
      cardinality: values.length,
      values: ordered,
      ordinal,
    });
    group.genes.push(index);
    return index;
  };
  const { network, quantization, hardware } = space;
  const addBits = (groupName: string, kind: GeneGroupKind, prefix: string): QuantizationGenes => ({
    weightBits: addGene(groupName, kind, `${prefix}.weightBits`, 'quantization', quantization.weightBits),
    activationBits: addGene(
      groupName,
      kind,
      `${prefix}.activationBits`,
      'quantization',
      quantization.activationBits,
    ),
  });

  const networkBits =
    quantization.granularity === 'network' ? addBits('quantization', 'free', 'quantization') : null;
  const stemBits = networkBits ?? addBits('stem', 'free', 'stem');

  const blockSlots: BlockSlot[] = [];
  network.stages.forEach((stage, stageIndex) => {
    const stageName = `stage${stageIndex}`;
    const stageWidthGene =
      network.widthChoice === 'stage'
        ? addGene(stageName, 'free', `${stageName}.width`, 'network', stage.widths)
        : null;
    const stageBits = quantization.granularity === 'stage' ? addBits(stageName, 'free', stageName) : null;
    for (let indexInStage = 0; indexInStage < stage.blocks; indexInStage++) {
      const blockName = `${stageName}.block${indexInStage}`;
      // The first block sets the stage's stride and width, so it can't be an identity (see file header).
      const operators =
        indexInStage === 0 ? network.operators.filter((name) => name !== 'skip') : [...network.operators];
      const kind: GeneGroupKind = operators.includes('skip') ? 'block' : 'free';
      const operatorGene = addGene(blockName, kind, `${blockName}.operator`, 'network', operators);
      const widthGene =
        stageWidthGene ?? addGene(blockName, kind, `${blockName}.width`, 'network', stage.widths);
      const bits = networkBits ?? stageBits ?? addBits(blockName, kind, blockName);
      blockSlots.push({
        slot: blockSlots.length,
        stage: stageIndex,
        indexInStage,
        stride: indexInStage === 0 ? stage.stride : 1,
        operators,
        widths: [...stage.widths].sort((a, b) => a - b),
        operatorGene,
        widthGene,
        widthGeneIsPerBlock: stageWidthGene === null,
        bits,
        bitsGenesArePerBlock: networkBits === null && stageBits === null,
      });
    }
  });
  const headBits = networkBits ?? addBits('head', 'free', 'head');

  const device = addGene('hardware.cell', 'cell', 'hardware.device', 'hardware', hardware.devices);
  const techNodeGene = addGene('hardware.cell', 'cell', 'hardware.techNode', 'hardware', hardware.techNode);
  const bitsPerCell = addGene(
    'hardware.cell',
    'cell',
    'hardware.bitsPerCell',
    'hardware',
    hardware.bitsPerCell,
  );
  const supplyVoltage = hardware.supplyVoltage
    ? addGene('hardware.cell', 'cell', 'hardware.supplyVoltage', 'hardware', hardware.supplyVoltage)
    : null;
  let rows: number;
  let cols: number;
  if (hardware.crossbar) {
    rows = cols = addGene('hardware.array', 'array', 'hardware.crossbar', 'hardware', hardware.crossbar);
  } else {
    rows = addGene(
      'hardware.array',
      'array',
      'hardware.rows',
      'hardware',
      hardware.rows ?? DEFAULT_ARRAY_SIZES,
    );
    cols = addGene(
      'hardware.array',
      'array',
      'hardware.cols',
      'hardware',
      hardware.cols ?? DEFAULT_ARRAY_SIZES,
    );
  }
  const colsPerAdc = addGene(
    'hardware.array',
    'array',
    'hardware.colsPerAdc',
    'hardware',
    hardware.colsPerAdc,
  );
  const adcBits = addGene(
    'hardware.periphery',
    'periphery',
    'hardware.adcBits',
    'hardware',
    hardware.adcBits,
  );
  const adcTypeGene = addGene(
    'hardware.periphery',
    'periphery',
    'hardware.adcType',
    'hardware',
    hardware.adcType,
  );
  const dacBits = addGene(
    'hardware.periphery',
    'periphery',
    'hardware.dacBits',
    'hardware',
    hardware.dacBits,
  );
  const tiles = hardware.tiles
    ? addGene('hardware.tiles', 'free', 'hardware.tiles', 'hardware', hardware.tiles)
    : null;

  return {
    length: genes.length,
    genes,
    cardinalities: genes.map((gene) => gene.cardinality),
    groups,
    blockSlots,
    stemBits,
    headBits,
    hardware: {
      device,
      techNode: techNodeGene,
      bitsPerCell,
      supplyVoltage,
      rows,
      cols,
      squareArrays: hardware.crossbar !== undefined,
      colsPerAdc,
      adcBits,
      adcType: adcTypeGene,
      dacBits,
      tiles,
    },
  };
}
