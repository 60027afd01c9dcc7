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
import { Rng, deriveSeed } from '../common/rng';
import type { RngState } from '../common/rng';
import {
  EvaluationCache,
  GenomeCodec,
  assertGenomeFits,
  assertResultShape,
  dominates,
  nonDominatedCandidates,
  searchSpaceSize,
  toMinimization,
  uniformGenome,
  validateGenes,
} from './optimizer';
import type {
  AskTellOptimizer,
  CacheRow,
  EvaluatedCandidate,
  EvaluationResult,
  GeneSpec,
  Genome,
  Goal,
  ObjectiveSpec,
  OptimizerHooks,
} from './optimizer';

// ---------------------------------------------------------------------------------------------------------
// Sorting and crowding (pure functions, exported for tests and for reports)

/** What ranking needs to know about a candidate: minimization objectives and total constraint violation. */
export interface RankedInput {
  objectives: readonly number[];
  violation: number;
}

/**
 * Constraint domination (Deb et al. 2002, §VI-A): a dominates b when a is feasible and b is not, or both are
 * infeasible and a violates less, or both are feasible and a Pareto-dominates b.
 */
export function constrainedDominates(a: RankedInput, b: RankedInput): boolean {
  const aFeasible = a.violation <= 0;
  const bFeasible = b.violation <= 0;
  if (aFeasible !== bFeasible) return aFeasible;
  if (!aFeasible) return a.violation < b.violation;
  let strictlyBetter = false;
  for (let i = 0; i < a.objectives.length; i++) {
    if (a.objectives[i] > b.objectives[i]) return false;
    if (a.objectives[i] < b.objectives[i]) strictlyBetter = true;
  }
  return strictlyBetter;
}

/**
 * Fast non-dominated sorting (Deb et al. 2002, §III-A), O(M·N²): for each candidate, count who dominates it
 * and list whom it dominates; front 1 is the zero-count candidates, peeling it off yields front 2, and so on.
 * Returns fronts as lists of indices into `items`, each in increasing index order.
 */
export function fastNonDominatedSort(items: readonly RankedInput[]): number[][] {
  const count = items.length;
  const dominatedBy = new Array<number>(count).fill(0);
  const dominatesList: number[][] = Array.from({ length: count }, () => []);
  for (let p = 0; p < count; p++) {
    for (let q = p + 1; q < count; q++) {
      if (constrainedDominates(items[p], items[q])) {
        dominatesList[p].push(q);
        dominatedBy[q]++;
      } else if (constrainedDominates(items[q], items[p])) {
        dominatesList[q].push(p);
        dominatedBy[p]++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let p = 0; p < count; p++) if (dominatedBy[p] === 0) current.push(p);
  while (current.length > 0) {
    fronts.push(current);
    const next: number[] = [];
    for (const p of current) {
      for (const q of dominatesList[p]) {
        if (--dominatedBy[q] === 0) next.push(q);
      }
    }
    current = next.sort((a, b) => a - b);
  }
  return fronts;
}

/**
 * Crowding distance of the members of one front (Deb et al. 2002, §III-B): per objective, sort the front,
 * give the two extremes infinite distance, and add to every interior member the normalized gap between its
 * two neighbours. Returned in the order of `front`. Objectives that are constant over the front, or not
 * finite (an infeasible candidate that was never measured), add nothing.
 */
export function crowdingDistances(front: readonly RankedInput[]): number[] {
  const size = front.length;
  const distances = new Array<number>(size).fill(0);
  if (size === 0) return distances;
  const objectiveCount = front[0].objectives.length;
  for (let m = 0; m < objectiveCount; m++) {
    const order = Array.from({ length: size }, (_, i) => i).filter((i) =>
      Number.isFinite(front[i].objectives[m]),
    );
    if (order.length === 0) continue;
    // Ties broken by position so the result never depends on the sort implementation.
    order.sort((a, b) => front[a].objectives[m] - front[b].objectives[m] || a - b);
    const low = front[order[0]].objectives[m];
    const high = front[order[order.length - 1]].objectives[m];
    distances[order[0]] = Infinity;
    distances[order[order.length - 1]] = Infinity;
    const span = high - low;
    if (span === 0) continue;
    for (let k = 1; k < order.length - 1; k++) {
      distances[order[k]] += (front[order[k + 1]].objectives[m] - front[order[k - 1]].objectives[m]) / span;
    }
  }
  return distances;
}

/** Rank (0 = first front) and crowding distance of every item. */
export function rankAndCrowd(items: readonly RankedInput[]): { rank: number[]; crowding: number[] } {
  const rank = new Array<number>(items.length).fill(0);
  const crowding = new Array<number>(items.length).fill(0);
  fastNonDominatedSort(items).forEach((front, frontIndex) => {
    const distances = crowdingDistances(front.map((i) => items[i]));
    front.forEach((itemIndex, k) => {
      rank[itemIndex] = frontIndex;
      crowding[itemIndex] = distances[k];
    });
  });
  return { rank, crowding };
}

/**
 * Elitist survival (Deb et al. 2002, §III-C): fill the next population front by front; the front that does
 * not fit is truncated by decreasing crowding distance (ties by position). Returns the survivors' indices.
 */
export function selectSurvivors(items: readonly RankedInput[], survivorCount: number): number[] {
  const survivors: number[] = [];
  for (const front of fastNonDominatedSort(items)) {
    if (survivors.length + front.length <= survivorCount) {
      survivors.push(...front);
      if (survivors.length === survivorCount) break;
      continue;
    }
    const distances = crowdingDistances(front.map((i) => items[i]));
    const byCrowding = front.map((itemIndex, k) => ({ itemIndex, distance: distances[k], k }));
    byCrowding.sort((a, b) => compareDistanceDescending(a.distance, b.distance) || a.k - b.k);
    for (const { itemIndex } of byCrowding.slice(0, survivorCount - survivors.length))
      survivors.push(itemIndex);
    break;
  }
  return survivors;
}

function compareDistanceDescending(a: number, b: number): number {
  if (a === b) return 0;
  return a > b ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------------------
// Variation operators

export type CrossoverScheme = 'uniform' | 'block';

/**
 * SBX on one pair of real values within [min, max] (Deb & Agrawal 1995, bounded form of Deb's NSGA-II
 * reference code): the spread factor β is drawn so children are as far from each other as the parents are on
 * average, closer with larger η; the bound-aware form shrinks the spread so children stay inside the bounds.
 */
export function sbxPair(
  first: number,
  second: number,
  min: number,
  max: number,
  eta: number,
  random: () => number,
): [number, number] {
  if (Math.abs(first - second) <= 1e-14) return [first, second];
  const low = Math.min(first, second);
  const high = Math.max(first, second);
  const gap = high - low;
  const u = random();
  const spread = (distanceToBound: number): number => {
    const beta = 1 + (2 * distanceToBound) / gap;
    const alpha = 2 - Math.pow(beta, -(eta + 1));
    return u <= 1 / alpha ? Math.pow(u * alpha, 1 / (eta + 1)) : Math.pow(1 / (2 - u * alpha), 1 / (eta + 1));
  };
  const lowChild = clamp(0.5 * (low + high - spread(low - min) * gap), min, max);
  const highChild = clamp(0.5 * (low + high + spread(max - high) * gap), min, max);
  // Which parent position gets which child is random, as in the reference code.
  return random() < 0.5 ? [highChild, lowChild] : [lowChild, highChild];
}

/**
 * Polynomial mutation of one real value (Deb & Goyal 1996, bounded form): a perturbation whose size
 * distribution narrows with η and shrinks near the bounds so the value stays inside [min, max].
 */
export function polynomialMutation(
  value: number,
  min: number,
  max: number,
  eta: number,
  random: () => number,
): number {
  const range = max - min;
  const toLow = (value - min) / range;
  const toHigh = (max - value) / range;
  const u = random();
  const power = 1 / (eta + 1);
  let delta: number;
  if (u < 0.5) {
    const base = 2 * u + (1 - 2 * u) * Math.pow(1 - toLow, eta + 1);
    delta = Math.pow(base, power) - 1;
  } else {
    const base = 2 * (1 - u) + 2 * (u - 0.5) * Math.pow(1 - toHigh, eta + 1);
    delta = 1 - Math.pow(base, power);
  }
  return clamp(value + delta * range, min, max);
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

// ---------------------------------------------------------------------------------------------------------
// Parent selection

/**
 * How parents are chosen by binary tournament.
 * - 'dominance-crowding' (default): pymoo 0.6's NSGA-II mating (pymoo/algorithms/moo/nsga2.py,
 *   `binary_tournament` with tournament_type "comp_by_dom_and_crowding"; pymoo/operators/selection/
 *   tournament.py, `TournamentSelection`). Competitors are taken pairwise from concatenated random
 *   permutations of the parents, so within one permutation every parent competes exactly once and none is
 *   left out by chance; the pair is decided by `dominanceCrowdingWinner`. The default because it measured
 *   better than 'rank-crowding' on ZDT3 (fewer seeds losing a piece of the front) and OSY, and equal on
 *   ZDT1, ZDT2 and DTLZ2 (bench/nsga2.ts).
 * - 'rank-crowding': Deb et al. 2002's crowded-comparison operator (§III-C): lower non-domination rank
 *   wins, then larger crowding distance; competitors drawn uniformly with replacement. Checkpoints written
 *   before the option existed resume with it, so a resumed run repeats exactly.
 */
export type TournamentScheme = 'dominance-crowding' | 'rank-crowding';

/** What a tournament compares: minimization objectives, total violation, crowding distance in the front. */
export interface TournamentEntrant {
  objectives: readonly number[];
  violation: number;
  crowding: number;
}

/**
 * pymoo 0.6's binary tournament (pymoo/algorithms/moo/nsga2.py, `binary_tournament`): when either entrant
 * is infeasible the smaller total violation wins (so a feasible one beats an infeasible one); when both are
 * feasible, the one that Pareto-dominates the other wins, else the larger crowding distance; remaining ties
 * are broken by `random` (one draw, and only then). Unlike the rank comparison, two entrants of different
 * fronts that do not dominate each other are decided by crowding, so a sparse member of a worse front can
 * beat a crowded member of a better one. Returns 0 when `a` wins, 1 when `b` wins.
 */
export function dominanceCrowdingWinner(
  a: TournamentEntrant,
  b: TournamentEntrant,
  random: () => number,
): 0 | 1 {
  if (a.violation > 0 || b.violation > 0) {
    if (a.violation !== b.violation) return a.violation < b.violation ? 0 : 1;
    return random() < 0.5 ? 0 : 1;
  }
  if (dominates(a.objectives, b.objectives)) return 0;
  if (dominates(b.objectives, a.objectives)) return 1;
  if (a.crowding !== b.crowding) return a.crowding > b.crowding ? 0 : 1;
  return random() < 0.5 ? 0 : 1;
}

/** Deb et al. 2002's crowded-comparison operator (§III-C): lower rank, then larger crowding, then random. */
export function rankCrowdingWinner(
  a: { rank: number; crowding: number },
  b: { rank: number; crowding: number },
  random: () => number,
): 0 | 1 {
  if (a.rank !== b.rank) return a.rank < b.rank ? 0 : 1;
  if (a.crowding !== b.crowding) return a.crowding > b.crowding ? 0 : 1;
  return random() < 0.5 ? 0 : 1;
}

/**
 * The next pair of competitors from `pool`, pymoo's stream of concatenated random permutations of
 * 0..size-1 (pymoo/operators/selection/tournament.py draws `ceil(needed / size)` permutations per mating
 * and reads them pairwise). When fewer than two indices remain a fresh permutation is appended; `pool` is
 * consumed in place, so it can live in a checkpoint. With an even `size`, 2·size draws use every index
 * exactly twice.
 */
export function nextCompetitors(pool: number[], size: number, rng: Rng): [number, number] {
  if (pool.length < 2) pool.push(...rng.shuffle(Array.from({ length: size }, (_, i) => i)));
  const first = pool.shift() as number;
  const second = pool.shift() as number;
  return [first, second];
}

// ---------------------------------------------------------------------------------------------------------
// The optimizer

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

export class Nsga2 implements AskTellOptimizer {
  private readonly options: ResolvedOptions;
  private readonly codec: GenomeCodec;
  private readonly goals: Goal[];
  private readonly spaceSize: number;
  /** For block crossover: units of integer gene indices recombined together. */
  private readonly crossoverUnits: number[][];
  private rng: Rng;
  private cache = new EvaluationCache();
  private parents: Member[] = [];
  private offspringKeys: string[] = [];
  private completedGenerations = 0;
  /** Competitor indices into `parents` still to be drawn this generation ('dominance-crowding'). */
  private tournamentPool: number[] = [];

  constructor(
    options: Nsga2Options,
    private readonly hooks: OptimizerHooks = {},
  ) {
    this.options = resolveOptions(options);
    this.codec = new GenomeCodec(this.options.genes);
    this.goals = this.options.objectives.map((objective) => objective.goal);
    this.spaceSize = searchSpaceSize(this.options.genes);
    this.crossoverUnits = buildCrossoverUnits(
      this.options.genes,
      this.options.blocks,
      this.options.crossover,
    );
    this.rng = new Rng(deriveSeed(this.options.seed, 'nsga2'));
  }

  get evaluations(): number {
    return this.cache.evaluated;
  }

  get generation(): number {
    return this.completedGenerations;
  }

  /** Proposals not yet told. */
  get pending(): number {
    return this.cache.pending;
  }

  /** How many more proposals complete the current generation, counting those still being evaluated. */
  get remainingInGeneration(): number {
    return Math.max(0, this.options.populationSize - this.offspringKeys.length - this.cache.pending);
  }

  propose(count: number): Genome[] {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`propose: count must be an integer ≥ 0, got ${count}`);
    const proposals: Genome[] = [];
    const accept = (candidate: Genome): void => {
      const repaired = this.hooks.repair ? this.hooks.repair(candidate) : candidate;
      if (repaired === null) return;
      assertGenomeFits(this.options.genes, repaired, 'repaired genome');
      if (this.cache.addPending(this.codec.key(repaired))) proposals.push(repaired);
    };
    const exhausted = (): boolean => this.cache.size >= this.spaceSize;
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
    const keyed = results.map((result, order) => {
      assertGenomeFits(this.options.genes, result.genome, 'tell: genome');
      assertResultShape(result, this.goals.length);
      const key = this.codec.key(result.genome);
      return { result, key, order, sequence: this.cache.sequenceOf(key) };
    });
    keyed.sort((a, b) => a.sequence - b.sequence || a.order - b.order);
    for (const { result, key } of keyed) {
      const objectives = result.objectives.map((value) => (Number.isFinite(value) ? value : NaN));
      if (this.cache.record(key, objectives, result.constraintViolation)) this.offspringKeys.push(key);
      if (this.offspringKeys.length >= this.options.populationSize) this.survive();
    }
  }

  paretoFront(): EvaluatedCandidate[] {
    return nonDominatedCandidates(this.allEvaluated(), this.goals);
  }

  /** Every evaluated candidate, in evaluation order. */
  allEvaluated(): EvaluatedCandidate[] {
    const candidates: EvaluatedCandidate[] = [];
    for (const [key, objectives, violation] of this.cache.evaluatedEntries()) {
      candidates.push({
        key,
        genome: this.codec.decode(key),
        objectives: [...objectives],
        constraintViolation: violation,
      });
    }
    return candidates;
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

  private sample(): Genome {
    const random = (): number => this.rng.next();
    return this.hooks.sample ? this.hooks.sample(random) : uniformGenome(this.options.genes, random);
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
