/** The space in the shape of search/optimizer.ts's ask/tell contract: genes, crossover blocks, hooks. */

import type { HardwareRules } from '../../hardware/validate';
import { layerShapes, macsPerImage } from '../architecture';
import type { GeneSpec as OptimizerGene, OptimizerHooks } from '../optimizer';
import { decode, type Genome } from './codec';
import { repair } from './feasibility';
import { buildLayout, type GenomeLayout } from './layout';
import { defaultHardwareRules } from './rules';
import { randomSourceFrom, sampleGenome } from './sampling';
import type { SearchSpace } from './schema';

/** The genes as the optimizer describes them: numeric choices are ordinal, names are categorical. */
export function optimizerGenes(layout: GenomeLayout): OptimizerGene[] {
  return layout.genes.map((gene) => ({
    kind: gene.ordinal ? 'ordinal' : 'categorical',
    cardinality: gene.cardinality,
    name: gene.name,
  }));
}

/** Gene groups for NSGA-II's 'block' crossover (groups of one gene act alone anyway). */
export function crossoverBlocks(layout: GenomeLayout): number[][] {
  return layout.groups.filter((group) => group.genes.length > 1).map((group) => [...group.genes]);
}

/**
 * The accuracy corner of the network space — every block at its widest width and its most expensive
 * operator (most MACs), every layer at the most bits: the supernet's largest path — with the hardware genes
 * of `from`. Opening the first generation with it anchors the front's high-accuracy end, which a few
 * random draws rarely reach.
 */
export function largestNetworkGenome(space: SearchSpace, from: Genome): Genome {
  const layout = buildLayout(space);
  const genome = [...from];
  const top = (gene: number) => (genome[gene] = layout.genes[gene]!.cardinality - 1);
  for (const bits of [layout.stemBits, layout.headBits, ...layout.blockSlots.map((slot) => slot.bits)]) {
    top(bits.weightBits);
    top(bits.activationBits);
  }
  for (const slot of layout.blockSlots) top(slot.widthGene);
  for (const slot of layout.blockSlots) {
    let best = genome[slot.operatorGene]!;
    let bestMacs = -1;
    for (let choice = 0; choice < layout.genes[slot.operatorGene]!.cardinality; choice++) {
      genome[slot.operatorGene] = choice;
      const { architecture, quantization } = decode(space, genome);
      const macs = macsPerImage(layerShapes(architecture, quantization));
      if (macs > bestMacs) [best, bestMacs] = [choice, macs];
    }
    genome[slot.operatorGene] = best;
  }
  return genome;
}

/** The chip fields an anchor can fix (a hand-designed baseline's chip, search/baseline.ts). */
export type AnchorChip = Partial<
  Record<
    | 'device'
    | 'techNode'
    | 'bitsPerCell'
    | 'rows'
    | 'cols'
    | 'colsPerAdc'
    | 'adcBits'
    | 'adcType'
    | 'dacBits',
    string | number
  >
>;

/**
 * `genome` with its hardware genes set to `chip`'s values, or null when the space does not offer one of
 * them (then the chip is not a point of this search).
 */
export function withChip(space: SearchSpace, genome: Genome, chip: AnchorChip): Genome | null {
  const layout = buildLayout(space);
  const result = [...genome];
  for (const [field, value] of Object.entries(chip) as [keyof AnchorChip, string | number][]) {
    const index = layout.genes[layout.hardware[field]]!.values.indexOf(value);
    if (index < 0) return null;
    result[layout.hardware[field]] = index;
  }
  return result;
}

/**
 * Hooks that keep the optimizer inside the feasible space: `repair` returns the repaired canonical genome,
 * or null when it cannot be repaired (capacity), and `sample` draws uniformly over feasible candidates.
 * The first generation opens with the largest network on a random chip and, for each of `anchorChips` the
 * space offers, on that chip: a search compared against a hand-designed baseline starts from the
 * baseline's own chip, so its front can only improve on it, never miss it for want of a lucky draw.
 */
export function optimizerHooks(
  space: SearchSpace,
  rules: HardwareRules = defaultHardwareRules,
  anchorChips: readonly AnchorChip[] = [],
): Required<OptimizerHooks> {
  return {
    anchors: (random) => {
      const largest = largestNetworkGenome(space, sampleGenome(space, randomSourceFrom(random), rules));
      const onChips = anchorChips.map((chip) => withChip(space, largest, chip));
      return [largest, ...onChips.filter((genome): genome is Genome => genome !== null)];
    },
    repair: (genome) => {
      const result = repair(space, genome, rules);
      return result.unresolved.length > 0 ? null : result.genome;
    },
    sample: (random) => sampleGenome(space, randomSourceFrom(random), rules),
  };
}
