/**
 * The random-search baseline: the same ask/tell contract, the same genome cache (so it never evaluates a
 * genome twice either) and the same repair/sample hooks as NSGA-II, but every proposal is an independent
 * random genome. Given the same evaluation budget, any claim that the evolutionary search "works" has to
 * beat this (Li & Talwalkar, "Random search and reproducibility for NAS", UAI 2019, found several NAS
 * methods did not).
 */
import { Rng, deriveSeed } from '../common/rng';
import type { RngState } from '../common/rng';
import {
  EvaluationCache,
  GenomeCodec,
  assertGenomeFits,
  assertResultShape,
  nonDominatedCandidates,
  searchSpaceSize,
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
  ObjectiveSpec,
  OptimizerHooks,
} from './optimizer';

export interface RandomSearchOptions {
  genes: GeneSpec[];
  objectives: ObjectiveSpec[];
  seed: number;
  /** Draws per requested proposal before concluding the space is exhausted. Default 50. */
  attemptsPerProposal?: number;
}

export interface RandomSearchState {
  format: 'imcnas.random/1';
  options: Required<RandomSearchOptions>;
  rng: RngState;
  batches: number;
  cache: CacheRow[];
}

export class RandomSearch implements AskTellOptimizer {
  private readonly options: Required<RandomSearchOptions>;
  private readonly codec: GenomeCodec;
  private readonly spaceSize: number;
  private rng: Rng;
  private cache = new EvaluationCache();
  private batchesTold = 0;

  constructor(
    options: RandomSearchOptions,
    private readonly hooks: OptimizerHooks = {},
  ) {
    validateGenes(options.genes);
    if (options.objectives.length === 0)
      throw new RangeError('objectives: at least one objective is required');
    if (!Number.isInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
    this.options = {
      genes: structuredClone(options.genes),
      objectives: structuredClone(options.objectives),
      seed: options.seed,
      attemptsPerProposal: options.attemptsPerProposal ?? 50,
    };
    this.codec = new GenomeCodec(this.options.genes);
    this.spaceSize = searchSpaceSize(this.options.genes);
    this.rng = new Rng(deriveSeed(this.options.seed, 'random-search'));
  }

  get evaluations(): number {
    return this.cache.evaluated;
  }

  get generation(): number {
    return this.batchesTold;
  }

  get pending(): number {
    return this.cache.pending;
  }

  propose(count: number): Genome[] {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`propose: count must be an integer ≥ 0, got ${count}`);
    const proposals: Genome[] = [];
    const accept = (candidate: Genome): void => {
      const genome = this.hooks.repair ? this.hooks.repair(candidate) : candidate;
      if (genome === null) return;
      assertGenomeFits(this.options.genes, genome, 'repaired genome');
      if (this.cache.addPending(this.codec.key(genome))) proposals.push(genome);
    };
    let attempts = count * this.options.attemptsPerProposal;
    const random = (): number => this.rng.next();
    // The same anchors NSGA-II starts from, so the two compare at an equal budget from equal ground.
    const anchors = this.hooks.anchors && this.cache.size === 0 ? this.hooks.anchors(random) : [];
    for (const anchor of anchors) if (proposals.length < count) accept(anchor);
    while (proposals.length < count && attempts-- > 0 && this.cache.size < this.spaceSize) {
      accept(this.hooks.sample ? this.hooks.sample(random) : uniformGenome(this.options.genes, random));
    }
    return proposals;
  }

  tell(results: EvaluationResult[]): void {
    for (const result of results) {
      assertGenomeFits(this.options.genes, result.genome, 'tell: genome');
      assertResultShape(result, this.options.objectives.length);
    }
    // Random search's outcome does not depend on the order, but the cache's (and checkpoint's) does.
    const keyed = results
      .map((result, order) => ({ result, order, key: this.codec.key(result.genome) }))
      .sort((a, b) => this.cache.sequenceOf(a.key) - this.cache.sequenceOf(b.key) || a.order - b.order);
    for (const { result, key } of keyed) {
      const objectives = result.objectives.map((value) => (Number.isFinite(value) ? value : NaN));
      this.cache.record(key, objectives, result.constraintViolation);
    }
    if (results.length > 0) this.batchesTold++;
  }

  paretoFront(): EvaluatedCandidate[] {
    return nonDominatedCandidates(
      this.allEvaluated(),
      this.options.objectives.map((objective) => objective.goal),
    );
  }

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

  toJSON(): RandomSearchState {
    return {
      format: 'imcnas.random/1',
      options: structuredClone(this.options),
      rng: this.rng.state(),
      batches: this.batchesTold,
      cache: this.cache.toJSON(),
    };
  }

  static fromJSON(state: RandomSearchState, hooks: OptimizerHooks = {}): RandomSearch {
    if (state.format !== 'imcnas.random/1') {
      throw new RangeError(`RandomSearch.fromJSON: unknown format ${String(state.format)}`);
    }
    const search = new RandomSearch(state.options, hooks);
    search.rng = Rng.fromState(state.rng);
    search.batchesTold = state.batches;
    search.cache = EvaluationCache.fromJSON(state.cache);
    return search;
  }
}
