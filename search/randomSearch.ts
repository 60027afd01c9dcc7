/**
 * The random-search baseline: the same ask/tell contract, the same genome cache (so it never evaluates a
 * genome twice either) and the same repair/sample hooks as NSGA-II, but every proposal is an independent
 * random genome. Given the same evaluation budget, any claim that the evolutionary search "works" has to
 * beat this (Li & Talwalkar, "Random search and reproducibility for NAS", UAI 2019, found several NAS
 * methods did not).
 */
import { Rng } from '../common/rng';
import type { RngState } from '../common/rng';
import { EvaluationCache, validateGenes } from './optimizer';
import { CachedOptimizer } from './optimizerBase';
import type {
  CacheRow,
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

export class RandomSearch extends CachedOptimizer {
  private readonly options: Required<RandomSearchOptions>;
  private batchesTold = 0;

  constructor(options: RandomSearchOptions, hooks: OptimizerHooks = {}) {
    validateGenes(options.genes);
    if (options.objectives.length === 0)
      throw new RangeError('objectives: at least one objective is required');
    if (!Number.isInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
    const resolved = {
      genes: structuredClone(options.genes),
      objectives: structuredClone(options.objectives),
      seed: options.seed,
      attemptsPerProposal: options.attemptsPerProposal ?? 50,
    };
    super(resolved, 'random-search', hooks);
    this.options = resolved;
  }

  get generation(): number {
    return this.batchesTold;
  }

  propose(count: number): Genome[] {
    const { proposals, accept } = this.startProposals(count);
    let attempts = count * this.options.attemptsPerProposal;
    const random = (): number => this.rng.next();
    // The same anchors NSGA-II starts from, so the two compare at an equal budget from equal ground.
    const anchors = this.hooks.anchors && this.cache.size === 0 ? this.hooks.anchors(random) : [];
    for (const anchor of anchors) if (proposals.length < count) accept(anchor);
    while (proposals.length < count && attempts-- > 0 && !this.exhausted()) accept(this.sample());
    return proposals;
  }

  tell(results: EvaluationResult[]): void {
    // Random search's outcome does not depend on the order, but the cache's (and checkpoint's) does.
    this.recordInProposalOrder(results, () => undefined);
    if (results.length > 0) this.batchesTold++;
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
