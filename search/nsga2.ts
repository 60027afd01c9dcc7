/**
 * NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective genetic algorithm:
 * NSGA-II", IEEE TEVC 6(2), 2002) over imcnas genomes, as an ask/tell optimizer.
 *
 * What it keeps from the paper: fast non-dominated sorting, crowding distance, binary tournament selection,
 * elitist (μ+λ) survival, and constraint domination for infeasible candidates (the paper's §VI: a feasible
 * candidate beats an infeasible one, of two infeasible ones the smaller total violation wins). Two binary
 * tournaments are offered (`tournament`, see `TournamentScheme`): the paper's crowded-comparison operator on
 * rank, and pymoo 0.6's dominance-then-crowding comparison over random permutations of the parents. For
 * real genes it uses the paper's operators, SBX (Deb & Agrawal 1995) and polynomial mutation (Deb & Goyal
 * 1996), with its settings p_c = 0.9, η_c = η_m = 20, p_m = 1/n.
 *
 * What imcnas adds for its mixed categorical genomes: uniform or per-block crossover (a block is a group of
 * genes that only make sense together, e.g. one network block or the hardware genes), per-gene mutation
 * that resamples categorical genes and steps ordinal ones, an optional repair hook, and duplicate
 * elimination: every genome ever proposed or evaluated is remembered by key, and no genome is proposed
 * twice (an offspring that duplicates a known genome is discarded and another one is bred).
 *
 * Generations in ask/tell form: `propose(n)` breeds offspring from the current parents (random genomes
 * before the first generation); `tell(results)` stores them; once a full population's worth of offspring
 * (`populationSize`) has been told, parents and offspring are merged and the best `populationSize` survive.
 * Results that arrive after that count towards the next generation. Within one `tell` call results are
 * processed in proposal order, so the order evaluations finish in does not change the search.
 */
import { Rng } from '../common/rng';
import type { RngState } from '../common/rng';
import { EvaluationCache, toMinimization, validateGenes } from './optimizer';
import { CachedOptimizer } from './optimizerBase';
import { rankAndCrowd, selectSurvivors } from './nondominatedSorting';
import {
  dominanceCrowdingWinner,
  nextCompetitors,
  polynomialMutation,
  rankCrowdingWinner,
  sbxPair,
  type CrossoverScheme,
  type TournamentScheme,
} from './nsga2Operators';
import type {
  CacheRow,
  EvaluatedCandidate,
  EvaluationResult,
  GeneSpec,
  Genome,
  ObjectiveSpec,
  OptimizerHooks,
} from './optimizer';

export interface Nsga2Options {
  genes: GeneSpec[];
  objectives: ObjectiveSpec[];
  /** μ = λ: parents kept per generation and offspring bred per generation. */
  populationSize: number;
  seed: number;
  /** Groups of gene indices recombined as a unit by 'block' crossover; genes in no block act alone. */
  blocks?: number[][];
  /** How integer genes are recombined (real genes always use SBX). Default 'uniform'. */
  crossover?: CrossoverScheme;
  /** Parent selection (see `TournamentScheme`). Default 'dominance-crowding'. */
  tournament?: TournamentScheme;
  /** Probability that a pair of parents is recombined at all (Deb et al. 2002: 0.9). */
  crossoverProbability?: number;
  /** Per-gene mutation probability (Deb et al. 2002: 1/n). */
  mutationRate?: number;
  /** SBX distribution index η_c (Deb et al. 2002: 20). */
  crossoverEta?: number;
  /** Polynomial-mutation distribution index η_m (Deb et al. 2002: 20). */
  mutationEta?: number;
  /**
   * For ordinal genes: probability that a mutation steps to a neighbouring value rather than resampling
   * uniformly. Default 0.5: local refinement without losing the ability to jump.
   */
  ordinalStepProbability?: number;
  /** Breeding attempts per requested proposal before falling back to random genomes. Default 50. */
  attemptsPerProposal?: number;
}

type ResolvedOptions = Required<Omit<Nsga2Options, 'blocks'>> & { blocks: number[][] };

/** The whole optimizer state as JSON: options, RNG, generation, parents, this generation's offspring, cache. */
export interface Nsga2State {
  format: 'imcnas.nsga2/1';
  /** `tournament` is absent in checkpoints written before the option existed. */
  options: Omit<ResolvedOptions, 'tournament'> & { tournament?: TournamentScheme };
  rng: RngState;
  generation: number;
  /** Keys of the current parents, in survival order. */
  population: string[];
  /** Keys of offspring told in the current generation. */
  offspring: string[];
  /**
   * 'dominance-crowding' only: the rest of the current permutation stream of parent indices (see
   * `nextCompetitors`). Absent in checkpoints written before the option existed.
   */
  tournamentPool?: number[];
  /** Every genome ever proposed or evaluated (see EvaluationCache). */
  cache: CacheRow[];
}

/** A parent as reports see it: raw objectives plus its standing in the population. */
export interface PopulationMember extends EvaluatedCandidate {
  rank: number;
  crowding: number;
}

interface Member {
  key: string;
  genome: Genome;
  /** Minimization form (maximized objectives negated), used by every comparison. */
  objectives: number[];
  violation: number;
  rank: number;
  crowding: number;
}

export class Nsga2 extends CachedOptimizer {
  private readonly options: ResolvedOptions;
  /** For block crossover: units of integer gene indices recombined together. */
  private readonly crossoverUnits: number[][];
  private parents: Member[] = [];
  private offspringKeys: string[] = [];
  private completedGenerations = 0;
  /** Competitor indices into `parents` still to be drawn this generation ('dominance-crowding'). */
  private tournamentPool: number[] = [];

  constructor(options: Nsga2Options, hooks: OptimizerHooks = {}) {
    const resolved = resolveOptions(options);
    super(resolved, 'nsga2', hooks);
    this.options = resolved;
    this.crossoverUnits = buildCrossoverUnits(
      this.options.genes,
      this.options.blocks,
      this.options.crossover,
    );
  }

  get generation(): number {
    return this.completedGenerations;
  }

  /** How many more proposals complete the current generation, counting those still being evaluated. */
  get remainingInGeneration(): number {
    return Math.max(0, this.options.populationSize - this.offspringKeys.length - this.cache.pending);
  }

  propose(count: number): Genome[] {
    const { proposals, accept } = this.startProposals(count);
    const exhausted = (): boolean => this.exhausted();
    // Breed from the parents; before the first generation there are none and we sample.
    if (this.parents.length > 0) {
      let attempts = count * this.options.attemptsPerProposal;
      while (proposals.length < count && attempts-- > 0 && !exhausted()) {
        for (const child of this.breedPair()) {
          if (proposals.length < count) accept(child);
        }
      }
    }
    // The anchors open the initial population (proposed once: the cache is empty only before them).
    if (this.hooks.anchors && this.cache.size === 0) {
      for (const anchor of this.hooks.anchors(() => this.rng.next())) {
        if (proposals.length < count) accept(anchor);
      }
    }
    // Random genomes: the initial population, or a fallback when breeding keeps producing known genomes
    // (a converged population in a small space).
    let attempts = count * this.options.attemptsPerProposal;
    while (proposals.length < count && attempts-- > 0 && !exhausted()) accept(this.sample());
    return proposals;
  }

  tell(results: EvaluationResult[]): void {
    this.recordInProposalOrder(results, (key) => {
      this.offspringKeys.push(key);
      if (this.offspringKeys.length >= this.options.populationSize) this.survive();
    });
  }

  /** The current parents with raw objectives, rank (0 = best front) and crowding distance. */
  population(): PopulationMember[] {
    return this.parents.map((member) => ({
      key: member.key,
      genome: [...member.genome],
      objectives: toMinimization(member.objectives, this.goals),
      constraintViolation: member.violation,
      rank: member.rank,
      crowding: member.crowding,
    }));
  }

  toJSON(): Nsga2State {
    return {
      format: 'imcnas.nsga2/1',
      options: structuredClone(this.options),
      rng: this.rng.state(),
      generation: this.completedGenerations,
      population: this.parents.map((member) => member.key),
      offspring: [...this.offspringKeys],
      tournamentPool: [...this.tournamentPool],
      cache: this.cache.toJSON(),
    };
  }

  /** Restores a checkpoint; hooks are functions, so they are passed again here. */
  static fromJSON(state: Nsga2State, hooks: OptimizerHooks = {}): Nsga2 {
    if (state.format !== 'imcnas.nsga2/1')
      throw new RangeError(`Nsga2.fromJSON: unknown format ${String(state.format)}`);
    // A checkpoint from before the `tournament` option was bred with the rank tournament; keep it so the
    // resumed run continues the search it started.
    const optimizer = new Nsga2(
      { ...state.options, tournament: state.options.tournament ?? 'rank-crowding' },
      hooks,
    );
    optimizer.rng = Rng.fromState(state.rng);
    optimizer.completedGenerations = state.generation;
    optimizer.cache = EvaluationCache.fromJSON(state.cache);
    optimizer.offspringKeys = [...state.offspring];
    optimizer.tournamentPool = [...(state.tournamentPool ?? [])];
    optimizer.parents = optimizer.membersOf(state.population);
    optimizer.assignRankAndCrowding(optimizer.parents);
    return optimizer;
  }

  // -------------------------------------------------------------------------------------------------------

  private survive(): void {
    const merged = [...this.parents, ...this.membersOf(this.offspringKeys)];
    const survivors = selectSurvivors(merged, this.options.populationSize).map((index) => merged[index]);
    // Rank and crowding for parent selection are those of the survivors among themselves; recomputing them
    // (rather than keeping the merged set's values) means a restored checkpoint derives exactly the same.
    this.assignRankAndCrowding(survivors);
    this.parents = survivors;
    this.offspringKeys = [];
    // New parents, new permutations (pymoo draws fresh ones for every mating).
    this.tournamentPool = [];
    this.completedGenerations++;
  }

  private membersOf(keys: readonly string[]): Member[] {
    return keys.map((key) => {
      const stored = this.cache.get(key);
      if (!stored) throw new Error(`Nsga2: population key ${key} has no evaluation in the cache`);
      return {
        key,
        genome: this.codec.decode(key),
        objectives: toMinimization(stored.objectives, this.goals),
        violation: stored.violation,
        rank: 0,
        crowding: 0,
      };
    });
  }

  private assignRankAndCrowding(members: Member[]): void {
    const { rank, crowding } = rankAndCrowd(members);
    members.forEach((member, i) => {
      member.rank = rank[i];
      member.crowding = crowding[i];
    });
  }

  /** One binary tournament among the parents (see `TournamentScheme`). */
  private tournament(): Member {
    const random = (): number => this.rng.next();
    if (this.options.tournament === 'rank-crowding') {
      const a = this.parents[this.rng.int(this.parents.length)];
      const b = this.parents[this.rng.int(this.parents.length)];
      return rankCrowdingWinner(a, b, random) === 0 ? a : b;
    }
    const [first, second] = nextCompetitors(this.tournamentPool, this.parents.length, this.rng);
    const a = this.parents[first];
    const b = this.parents[second];
    return dominanceCrowdingWinner(a, b, random) === 0 ? a : b;
  }

  private breedPair(): [Genome, Genome] {
    const first = [...this.tournament().genome];
    const second = [...this.tournament().genome];
    if (this.rng.next() < this.options.crossoverProbability) this.recombine(first, second);
    this.mutate(first);
    this.mutate(second);
    return [first, second];
  }

  private recombine(first: Genome, second: Genome): void {
    const { genes, crossoverEta } = this.options;
    const random = (): number => this.rng.next();
    for (const unit of this.crossoverUnits) {
      if (this.rng.next() < 0.5) {
        for (const i of unit) [first[i], second[i]] = [second[i], first[i]];
      }
    }
    for (let i = 0; i < genes.length; i++) {
      const gene = genes[i];
      // Each real variable is recombined with probability 0.5, as in Deb's reference implementation.
      if (gene.kind === 'real' && this.rng.next() < 0.5) {
        [first[i], second[i]] = sbxPair(first[i], second[i], gene.min, gene.max, crossoverEta, random);
      }
    }
  }

  private mutate(genome: Genome): void {
    const { genes, mutationRate, mutationEta, ordinalStepProbability } = this.options;
    for (let i = 0; i < genes.length; i++) {
      if (this.rng.next() >= mutationRate) continue;
      const gene = genes[i];
      if (gene.kind === 'real') {
        genome[i] = polynomialMutation(genome[i], gene.min, gene.max, mutationEta, () => this.rng.next());
        continue;
      }
      const cardinality = gene.cardinality;
      if (cardinality < 2) continue;
      if (gene.kind === 'ordinal' && this.rng.next() < ordinalStepProbability) {
        const value = genome[i];
        const up = value === 0 ? true : value === cardinality - 1 ? false : this.rng.next() < 0.5;
        genome[i] = up ? value + 1 : value - 1;
      } else {
        // Any other value, uniformly: a mutation that keeps the value would be wasted.
        genome[i] = (genome[i] + 1 + this.rng.int(cardinality - 1)) % cardinality;
      }
    }
  }
}

function resolveOptions(options: Nsga2Options): ResolvedOptions {
  validateGenes(options.genes);
  if (options.objectives.length === 0) throw new RangeError('objectives: at least one objective is required');
  for (const [i, objective] of options.objectives.entries()) {
    if (objective.goal !== 'min' && objective.goal !== 'max') {
      throw new RangeError(`objectives[${i}].goal must be "min" or "max", got ${String(objective.goal)}`);
    }
  }
  if (!Number.isInteger(options.populationSize) || options.populationSize < 2) {
    throw new RangeError(`populationSize must be an integer ≥ 2, got ${options.populationSize}`);
  }
  if (!Number.isInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  const resolved: ResolvedOptions = {
    genes: structuredClone(options.genes),
    objectives: structuredClone(options.objectives),
    populationSize: options.populationSize,
    seed: options.seed,
    blocks: structuredClone(options.blocks ?? []),
    crossover: options.crossover ?? 'uniform',
    tournament: options.tournament ?? 'dominance-crowding',
    crossoverProbability: options.crossoverProbability ?? 0.9,
    mutationRate: options.mutationRate ?? 1 / options.genes.length,
    crossoverEta: options.crossoverEta ?? 20,
    mutationEta: options.mutationEta ?? 20,
    ordinalStepProbability: options.ordinalStepProbability ?? 0.5,
    attemptsPerProposal: options.attemptsPerProposal ?? 50,
  };
  const probability = (name: keyof ResolvedOptions): void => {
    const value = resolved[name] as number;
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  };
  probability('crossoverProbability');
  probability('mutationRate');
  probability('ordinalStepProbability');
  if (!(resolved.crossoverEta >= 0) || !(resolved.mutationEta >= 0)) {
    throw new RangeError('crossoverEta and mutationEta must be ≥ 0');
  }
  if (!Number.isInteger(resolved.attemptsPerProposal) || resolved.attemptsPerProposal < 1) {
    throw new RangeError(`attemptsPerProposal must be an integer ≥ 1, got ${resolved.attemptsPerProposal}`);
  }
  if (resolved.crossover !== 'uniform' && resolved.crossover !== 'block') {
    throw new RangeError(`crossover must be "uniform" or "block", got ${String(resolved.crossover)}`);
  }
  if (resolved.tournament !== 'dominance-crowding' && resolved.tournament !== 'rank-crowding') {
    throw new RangeError(
      `tournament must be "dominance-crowding" or "rank-crowding", got ${String(resolved.tournament)}`,
    );
  }
  const seen = new Set<number>();
  resolved.blocks.forEach((block, b) => {
    for (const index of block) {
      if (!Number.isInteger(index) || index < 0 || index >= options.genes.length) {
        throw new RangeError(`blocks[${b}]: gene index ${index} out of range 0..${options.genes.length - 1}`);
      }
      if (seen.has(index)) throw new RangeError(`blocks[${b}]: gene ${index} belongs to more than one block`);
      seen.add(index);
    }
  });
  return resolved;
}

/** Units of integer genes swapped together: blocks (for 'block' crossover), every other gene on its own. */
function buildCrossoverUnits(
  genes: readonly GeneSpec[],
  blocks: number[][],
  scheme: CrossoverScheme,
): number[][] {
  const isInteger = (i: number): boolean => genes[i].kind !== 'real';
  const units: number[][] = [];
  const grouped = new Set<number>();
  if (scheme === 'block') {
    for (const block of blocks) {
      const integerGenes = block.filter(isInteger);
      if (integerGenes.length > 0) units.push(integerGenes);
      block.forEach((i) => grouped.add(i));
    }
  }
  for (let i = 0; i < genes.length; i++) if (isInteger(i) && !grouped.has(i)) units.push([i]);
  return units;
}
