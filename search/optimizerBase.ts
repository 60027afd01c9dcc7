/**
 * What NSGA-II and random search share as ask/tell optimizers over imcnas genomes: the evaluation cache
 * (every genome proposed or evaluated, by key, so none is proposed twice), the repair hook on the way
 * out, result checks and proposal-order processing on the way in, and the front and evaluated set read
 * back from the cache. Subclasses decide what to propose and what a told result changes.
 */
import { deriveSeed, Rng } from '../common/rng';
import {
  EvaluationCache,
  GenomeCodec,
  assertGenomeFits,
  assertResultShape,
  nonDominatedCandidates,
  searchSpaceSize,
  uniformGenome,
} from './optimizer';
import type {
  AskTellOptimizer,
  EvaluatedCandidate,
  EvaluationResult,
  GeneSpec,
  Genome,
  Goal,
  OptimizerHooks,
} from './optimizer';

export abstract class CachedOptimizer implements AskTellOptimizer {
  protected readonly codec: GenomeCodec;
  protected readonly spaceSize: number;
  protected cache = new EvaluationCache();

  protected readonly genes: readonly GeneSpec[];
  protected readonly goals: readonly Goal[];
  protected rng: Rng;

  /** `stream` names the optimizer's own random stream, derived from the seed (common/rng.ts). */
  protected constructor(
    resolved: { genes: readonly GeneSpec[]; objectives: ReadonlyArray<{ goal: Goal }>; seed: number },
    stream: string,
    protected readonly hooks: OptimizerHooks,
  ) {
    this.genes = resolved.genes;
    this.goals = resolved.objectives.map((objective) => objective.goal);
    this.rng = new Rng(deriveSeed(resolved.seed, stream));
    this.codec = new GenomeCodec(this.genes);
    this.spaceSize = searchSpaceSize(this.genes);
  }

  abstract get generation(): number;
  abstract propose(count: number): Genome[];
  abstract tell(results: EvaluationResult[]): void;
  abstract toJSON(): unknown;

  get evaluations(): number {
    return this.cache.evaluated;
  }

  /** Proposals not yet told. */
  get pending(): number {
    return this.cache.pending;
  }

  paretoFront(): EvaluatedCandidate[] {
    return nonDominatedCandidates(this.allEvaluated(), [...this.goals]);
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

  /** Checks `count` and returns a fresh proposal list with the function that repairs and admits into it. */
  protected startProposals(count: number): { proposals: Genome[]; accept: (candidate: Genome) => void } {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`propose: count must be an integer ≥ 0, got ${count}`);
    const proposals: Genome[] = [];
    const accept = (candidate: Genome): void => {
      const repaired = this.hooks.repair ? this.hooks.repair(candidate) : candidate;
      if (repaired === null) return;
      assertGenomeFits(this.genes, repaired, 'repaired genome');
      if (this.cache.addPending(this.codec.key(repaired))) proposals.push(repaired);
    };
    return { proposals, accept };
  }

  /** True once every genome of the space has been proposed. */
  protected exhausted(): boolean {
    return this.cache.size >= this.spaceSize;
  }

  /** A random genome: the sample hook's, else uniform over the genes. */
  protected sample(): Genome {
    const random = (): number => this.rng.next();
    return this.hooks.sample ? this.hooks.sample(random) : uniformGenome(this.genes, random);
  }

  /**
   * Checks every result, then records them in proposal order (so the order evaluations finish in changes
   * neither the search nor its checkpoint), calling `recorded` with each key stored for the first time.
   * Non-finite objectives are stored as NaN.
   */
  protected recordInProposalOrder(
    results: readonly EvaluationResult[],
    recorded: (key: string) => void,
  ): void {
    for (const result of results) {
      assertGenomeFits(this.genes, result.genome, 'tell: genome');
      assertResultShape(result, this.goals.length);
    }
    const keyed = results
      .map((result, order) => ({ result, order, key: this.codec.key(result.genome) }))
      .sort((a, b) => this.cache.sequenceOf(a.key) - this.cache.sequenceOf(b.key) || a.order - b.order);
    for (const { result, key } of keyed) {
      const objectives = result.objectives.map((value) => (Number.isFinite(value) ? value : NaN));
      if (this.cache.record(key, objectives, result.constraintViolation)) recorded(key);
    }
  }
}
