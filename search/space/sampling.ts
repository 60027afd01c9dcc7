/** Exact counting of the feasible space and uniform sampling over distinct feasible candidates. */

import type { HardwareRules } from '../../hardware/validate';
import { geneValue, type Genome } from './codec';
import { capacityCheck, cellFeasible, hardwareValues } from './feasibility';
import { buildLayout, type GeneGroup, type GenomeLayout } from './layout';
import { adcAllowed, defaultHardwareRules, spaceRuleProblems } from './rules';
import type { SearchSpace } from './schema';

/** Feasible canonical assignments of one group, as mixed-radix codes (null = every assignment). */
interface GroupFeasibility {
  group: GeneGroup;
  radices: number[];
  codes: number[] | null;
  count: bigint;
}

/** Groups above this many assignments would be slow to enumerate; real spaces stay far below. */
const MAX_GROUP_ENUMERATION = 4_000_000;

const feasibilityCache = new WeakMap<GenomeLayout, WeakMap<HardwareRules, GroupFeasibility[]>>();

function groupFeasibility(space: SearchSpace, rules: HardwareRules): GroupFeasibility[] {
  const layout = buildLayout(space);
  let byRules = feasibilityCache.get(layout);
  if (!byRules) {
    byRules = new WeakMap();
    feasibilityCache.set(layout, byRules);
  }
  const cached = byRules.get(rules);
  if (cached) return cached;
  const problems = spaceRuleProblems(space, rules);
  if (problems.length > 0) throw new Error(`invalid search space:\n  ${problems.join('\n  ')}`);

  const scratch: Genome = new Array<number>(layout.length).fill(0);
  const result = layout.groups.map((group): GroupFeasibility => {
    const radices = group.genes.map((gene) => layout.cardinalities[gene]);
    const product = radices.reduce((a, b) => a * b, 1);
    if (group.kind === 'free') return { group, radices, codes: null, count: BigInt(product) };
    if (product > MAX_GROUP_ENUMERATION) {
      throw new Error(
        `gene group ${group.name} has ${product} combinations: too many to enumerate; shorten its value lists`,
      );
    }
    const accept = groupPredicate(layout, group, rules);
    const codes: number[] = [];
    for (let code = 0; code < product; code++) {
      writeCode(scratch, group.genes, radices, code);
      if (accept(scratch)) codes.push(code);
    }
    // A periphery group with nothing excluded (no flash ADC above its limit among the choices) is drawn
    // gene by gene, as it was before ADC limits joined the rules: the same uniform distribution, and the
    // same draws from a seed as searches run before.
    if (group.kind === 'periphery' && codes.length === product) {
      return { group, radices, codes: null, count: BigInt(product) };
    }
    return { group, radices, codes, count: BigInt(codes.length) };
  });
  byRules.set(rules, result);
  return result;
}

/** Whether a group's genes (read from a full-length genome) form a feasible, canonical assignment. */
function groupPredicate(
  layout: GenomeLayout,
  group: GeneGroup,
  rules: HardwareRules,
): (genome: Genome) => boolean {
  switch (group.kind) {
    case 'block': {
      const slot = layout.blockSlots.find((candidate) => candidate.operatorGene === group.genes[0])!;
      const ownGenes = group.genes.filter((gene) => gene !== slot.operatorGene);
      return (genome) =>
        geneValue(layout, genome, slot.operatorGene) !== 'skip' ||
        ownGenes.every((gene) => genome[gene] === 0);
    }
    case 'cell':
      return (genome) => cellFeasible(rules, hardwareValues(layout, genome));
    case 'array':
      return (genome) => {
        const values = hardwareValues(layout, genome);
        return values.colsPerAdc <= values.cols;
      };
    case 'periphery':
      return (genome) => {
        const values = hardwareValues(layout, genome);
        return adcAllowed(rules, values.adcType, values.adcBits);
      };
    case 'free':
      return () => true;
  }
}

function writeCode(genome: Genome, genes: readonly number[], radices: readonly number[], code: number): void {
  let rest = code;
  for (let i = genes.length - 1; i >= 0; i--) {
    genome[genes[i]] = rest % radices[i];
    rest = Math.floor(rest / radices[i]);
  }
}

/** What sampling needs from a generator: common/rng's Rng fits, and so does randomSourceFrom(() => number). */
export interface RandomSource {
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** A RandomSource over a uniform [0, 1) function (the optimizer's sample hook hands one of those). */
export function randomSourceFrom(random: () => number): RandomSource {
  return { int: (n) => Math.min(n - 1, Math.floor(random() * n)) };
}

/** Capacity rejections before sampleGenome gives up (the tiles choices are then far too small). */
const MAX_CAPACITY_DRAWS = 10_000;

/**
 * A genome drawn uniformly from the feasible canonical genomes, i.e. uniformly over distinct feasible
 * candidates: each group is drawn uniformly among its feasible assignments (the feasible set is their
 * product), and with a tiles gene, draws that do not fit are rejected and redrawn, which keeps the
 * distribution uniform over what fits.
 */
export function sampleGenome(
  space: SearchSpace,
  rng: RandomSource,
  rules: HardwareRules = defaultHardwareRules,
): Genome {
  const layout = buildLayout(space);
  const groups = groupFeasibility(space, rules);
  for (let draw = 0; draw < MAX_CAPACITY_DRAWS; draw++) {
    const genome: Genome = new Array<number>(layout.length).fill(0);
    for (const { group, radices, codes } of groups) {
      if (codes === null) {
        group.genes.forEach((gene, i) => (genome[gene] = rng.int(radices[i])));
      } else {
        writeCode(genome, group.genes, radices, codes[rng.int(codes.length)]);
      }
    }
    const capacity = capacityCheck(space, genome, rules);
    if (!capacity || capacity.needed <= capacity.available) return genome;
  }
  throw new Error(
    `sampleGenome: ${MAX_CAPACITY_DRAWS} draws in a row did not fit the tile budget: hardware.tiles choices are too small for this network space`,
  );
}

export interface CountSummary {
  /** Exact decimal count. */
  count: string;
  log10: number;
  /** Two significant digits, e.g. "9.9×10^85". */
  scientific: string;
}

export interface SpaceSize {
  /** Distinct feasible candidates (canonical genomes satisfying the hardware rules). */
  candidates: CountSummary;
  /** All integer vectors of the encoding (product of cardinalities), the raw genome count. */
  genomeVectors: CountSummary;
  /** Feasible network + quantization choices, and feasible hardware configurations, separately. */
  networkAndQuantization: CountSummary;
  hardware: CountSummary;
  /** False when a tiles gene is present: candidates is then an upper bound (capacity is per candidate). */
  exact: boolean;
  note: string;
}

export function summarizeCount(count: bigint): CountSummary {
  const digits = count.toString();
  if (count <= 0n) return { count: digits, log10: -Infinity, scientific: '0' };
  const exponent = digits.length - 1;
  const leading = Number(`${digits[0]}.${digits.slice(1, 16) || '0'}`);
  let mantissa = Math.round(leading * 10) / 10;
  let shownExponent = exponent;
  if (mantissa >= 10) {
    mantissa /= 10;
    shownExponent += 1;
  }
  return {
    count: digits,
    log10: exponent + Math.log10(leading),
    scientific: `${mantissa.toFixed(1)}×10^${shownExponent}`,
  };
}

/** The size of the space, counted exactly over the hardware rules (see SpaceSize.exact for tiles). */
export function spaceSize(space: SearchSpace, rules: HardwareRules = defaultHardwareRules): SpaceSize {
  const layout = buildLayout(space);
  const groups = groupFeasibility(space, rules);
  let candidates = 1n;
  let hardware = 1n;
  let network = 1n;
  for (const { group, count } of groups) {
    candidates *= count;
    if (group.name.startsWith('hardware.')) hardware *= count;
    else network *= count;
  }
  const vectors = layout.cardinalities.reduce((product, cardinality) => product * BigInt(cardinality), 1n);
  const exact = layout.hardware.tiles === null;
  return {
    candidates: summarizeCount(candidates),
    genomeVectors: summarizeCount(vectors),
    networkAndQuantization: summarizeCount(network),
    hardware: summarizeCount(hardware),
    exact,
    note: exact
      ? 'exact count of distinct feasible candidates (inactive genes of skip blocks counted once)'
      : 'upper bound: the tiles budget is checked per candidate, so candidates that do not fit are included',
  };
}
