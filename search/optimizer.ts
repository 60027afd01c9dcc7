/**
 * The ask/tell contract shared by every search algorithm in imcnas (NSGA-II, the random-search baseline),
 * and the small pieces they share: gene descriptions, genome keys, the evaluation cache, the objective
 * catalog and constraint violations.
 *
 * Why ask/tell: the optimizer never calls the evaluator. A durable workflow asks for candidates
 * (`propose(n)`), evaluates them in activities (possibly on many machines, possibly after a crash and a
 * replay), and tells the results back (`tell(results)`). Between generations it checkpoints the whole
 * optimizer state, which is plain JSON (`toJSON()` / `fromJSON()`), small enough for a Temporal payload.
 *
 * Nothing here imports Temporal or tfjs.
 */

/** A candidate: one value per gene. Integer genes hold 0..cardinality-1; real genes hold a float. */
export type Genome = number[];

/**
 * One gene of the genome.
 * - `categorical`: unordered choices (device family, operator); mutation resamples another value uniformly.
 * - `ordinal`: ordered choices (crossbar size, ADC bits); mutation prefers a neighbouring value, so a
 *   small step in the genome is a small step in the design.
 * - `real`: a float in [min, max]; recombined by SBX and mutated by polynomial mutation (Deb & Agrawal
 *   1995; Deb & Goyal 1996), which is how NSGA-II was specified for continuous problems (Deb et al. 2002).
 */
export type GeneSpec =
  | { kind: 'categorical'; cardinality: number; name?: string }
  | { kind: 'ordinal'; cardinality: number; name?: string }
  | { kind: 'real'; min: number; max: number; name?: string };

export type Goal = 'min' | 'max';

/** One objective as the optimizer sees it: a name (for reports) and its direction. */
export interface ObjectiveSpec {
  name: string;
  goal: Goal;
}

/** What the caller tells back for one proposed genome. Objectives are raw metric values (not negated). */
export interface EvaluationResult {
  genome: Genome;
  /**
   * Raw values in the order of the configured objectives. Must be finite when the candidate is feasible;
   * an infeasible candidate may carry NaN (e.g. accuracy never measured because the chip was too large).
   */
  objectives: number[];
  /** Total constraint violation: 0 = feasible, larger = worse (see `constraintViolation`). */
  constraintViolation: number;
}

/** A stored evaluation. */
export interface EvaluatedCandidate {
  genome: Genome;
  key: string;
  objectives: number[];
  constraintViolation: number;
}

/**
 * Optional hook from the search space: maps a genome to a valid one (e.g. clamps a bits-per-cell gene the
 * chosen device cannot hold) or returns null when no repair exists, in which case the candidate is dropped
 * and another one is drawn. Hooks are functions, so they are passed again after `fromJSON`, never
 * serialized. They must be deterministic (same input, same output) for resumed runs to repeat exactly.
 */
export type RepairFn = (genome: Genome) => Genome | null;

/**
 * Optional hook from the search space: draws a random genome with the optimizer's RNG (so the sequence stays
 * seeded). Defaults to independent uniform genes.
 */
export type SampleFn = (random: () => number) => Genome;

export interface OptimizerHooks {
  repair?: RepairFn;
  sample?: SampleFn;
  /**
   * Genomes proposed before any random one, once per run (e.g. the largest network): a few random draws
   * from a space of 10^k designs rarely reach its corners. Drawn from the optimizer's seeded stream.
   */
  anchors?: (random: () => number) => Genome[];
}

/** The interface both NSGA-II and random search implement, so a workflow can swap them. */
export interface AskTellOptimizer {
  /**
   * Up to `count` genomes never proposed nor evaluated before (each appears once across the whole run).
   * Fewer than `count` only when the search space is (nearly) exhausted.
   */
  propose(count: number): Genome[];
  /** Records results; unknown genomes are accepted (e.g. seeded by the user), repeated ones ignored. */
  tell(results: EvaluationResult[]): void;
  /** Feasible, mutually non-dominated candidates among everything evaluated so far. */
  paretoFront(): EvaluatedCandidate[];
  /** Number of distinct genomes evaluated (told) so far. */
  readonly evaluations: number;
  /** Completed generations (random search counts batches told). */
  readonly generation: number;
  toJSON(): unknown;
}

// ---------------------------------------------------------------------------------------------------------
// Gene validation and genome keys

export function validateGenes(genes: readonly GeneSpec[]): void {
  if (genes.length === 0) throw new RangeError('genes: a genome needs at least one gene');
  genes.forEach((gene, index) => {
    if (gene.kind === 'real') {
      if (!Number.isFinite(gene.min) || !Number.isFinite(gene.max) || !(gene.max > gene.min)) {
        throw new RangeError(
          `genes[${index}]: real gene needs finite min < max, got [${gene.min}, ${gene.max}]`,
        );
      }
    } else if (!Number.isInteger(gene.cardinality) || gene.cardinality < 1) {
      throw new RangeError(
        `genes[${index}]: cardinality must be a positive integer, got ${gene.cardinality}`,
      );
    }
  });
}

/** Throws unless `genome` fits `genes` (length, integer range, real bounds). */
export function assertGenomeFits(genes: readonly GeneSpec[], genome: Genome, what = 'genome'): void {
  if (!Array.isArray(genome) || genome.length !== genes.length) {
    throw new RangeError(
      `${what}: expected ${genes.length} genes, got ${Array.isArray(genome) ? genome.length : typeof genome}`,
    );
  }
  for (let i = 0; i < genes.length; i++) {
    const gene = genes[i];
    const value = genome[i];
    if (gene.kind === 'real') {
      if (!Number.isFinite(value) || value < gene.min || value > gene.max) {
        throw new RangeError(`${what}[${i}]: ${value} outside [${gene.min}, ${gene.max}]`);
      }
    } else if (!Number.isInteger(value) || value < 0 || value >= gene.cardinality) {
      throw new RangeError(`${what}[${i}]: ${value} is not an integer in 0..${gene.cardinality - 1}`);
    }
  }
}

/**
 * Turns genomes into short, unique strings and back. When every gene is an integer gene with at most 36
 * values, a key is one base-36 character per gene ("0a31…"): a 40-gene joint genome costs 40 bytes in a
 * checkpoint. Otherwise genes are written in base 36 (integers) or as JavaScript's shortest round-trip
 * decimal (reals) and joined by commas, which is still exact.
 */
export class GenomeCodec {
  private readonly compact: boolean;

  constructor(readonly genes: readonly GeneSpec[]) {
    validateGenes(genes);
    this.compact = genes.every((gene) => gene.kind !== 'real' && gene.cardinality <= 36);
  }

  key(genome: Genome): string {
    if (this.compact) {
      let text = '';
      for (const value of genome) text += value.toString(36);
      return text;
    }
    return genome
      .map((value, i) => (this.genes[i].kind === 'real' ? String(value) : value.toString(36)))
      .join(',');
  }

  decode(key: string): Genome {
    if (this.compact) {
      const genome = new Array<number>(key.length);
      for (let i = 0; i < key.length; i++) genome[i] = parseInt(key[i], 36);
      return genome;
    }
    return key
      .split(',')
      .map((token, i) => (this.genes[i].kind === 'real' ? Number(token) : parseInt(token, 36)));
  }
}

/** Number of distinct genomes, or Infinity when a gene is real. Used to stop proposing in an exhausted space. */
export function searchSpaceSize(genes: readonly GeneSpec[]): number {
  let size = 1;
  for (const gene of genes) {
    if (gene.kind === 'real') return Infinity;
    size *= gene.cardinality;
  }
  return size;
}

/** Independent uniform genes: the default sampler for initial populations and random search. */
export function uniformGenome(genes: readonly GeneSpec[], random: () => number): Genome {
  return genes.map((gene) =>
    gene.kind === 'real'
      ? gene.min + random() * (gene.max - gene.min)
      : Math.min(gene.cardinality - 1, Math.floor(random() * gene.cardinality)),
  );
}

// ---------------------------------------------------------------------------------------------------------
// The evaluation cache: every genome ever proposed or evaluated, keyed, in insertion order

/** One cache row in a checkpoint: key, then (once evaluated) objectives with NaN as null and violation. */
export type CacheRow = [key: string] | [key: string, objectives: Array<number | null>, violation: number];

interface CacheRecord {
  /** Proposal order, so one `tell` batch is processed in proposal order whatever order results came back. */
  sequence: number;
  objectives?: number[];
  violation?: number;
}

/**
 * Genome key → evaluation. A key present without objectives is a pending proposal. This is what guarantees
 * that no candidate is evaluated twice, across generations and across checkpoint/resume.
 */
export class EvaluationCache {
  private readonly records = new Map<string, CacheRecord>();
  private evaluatedCount = 0;
  private pendingTotal = 0;
  private nextSequence = 0;

  get size(): number {
    return this.records.size;
  }

  get evaluated(): number {
    return this.evaluatedCount;
  }

  /** Proposed but not yet told. */
  get pending(): number {
    return this.pendingTotal;
  }

  has(key: string): boolean {
    return this.records.has(key);
  }

  isEvaluated(key: string): boolean {
    return this.records.get(key)?.objectives !== undefined;
  }

  /** Registers a proposal; returns false when the key is already known. */
  addPending(key: string): boolean {
    if (this.records.has(key)) return false;
    this.records.set(key, { sequence: this.nextSequence++ });
    this.pendingTotal++;
    return true;
  }

  /** Proposal order of a key (unknown keys sort after every proposal). */
  sequenceOf(key: string): number {
    return this.records.get(key)?.sequence ?? Number.MAX_SAFE_INTEGER;
  }

  /** Stores an evaluation; returns false when the key was already evaluated (the result is ignored). */
  record(key: string, objectives: number[], violation: number): boolean {
    const existing = this.records.get(key);
    if (existing?.objectives !== undefined) return false;
    if (existing) {
      existing.objectives = objectives;
      existing.violation = violation;
      this.pendingTotal--;
    } else {
      this.records.set(key, { sequence: this.nextSequence++, objectives, violation });
    }
    this.evaluatedCount++;
    return true;
  }

  get(key: string): { objectives: number[]; violation: number } | undefined {
    const record = this.records.get(key);
    if (record?.objectives === undefined || record.violation === undefined) return undefined;
    return { objectives: record.objectives, violation: record.violation };
  }

  pendingKeys(): string[] {
    const keys: string[] = [];
    for (const [key, record] of this.records) if (record.objectives === undefined) keys.push(key);
    return keys;
  }

  *evaluatedEntries(): IterableIterator<[string, number[], number]> {
    for (const [key, record] of this.records) {
      if (record.objectives !== undefined && record.violation !== undefined) {
        yield [key, record.objectives, record.violation];
      }
    }
  }

  toJSON(): CacheRow[] {
    const rows: CacheRow[] = [];
    for (const [key, record] of this.records) {
      if (record.objectives === undefined || record.violation === undefined) rows.push([key]);
      else
        rows.push([
          key,
          record.objectives.map((value) => (Number.isFinite(value) ? value : null)),
          record.violation,
        ]);
    }
    return rows;
  }

  static fromJSON(rows: readonly CacheRow[]): EvaluationCache {
    const cache = new EvaluationCache();
    for (const row of rows) {
      if (row.length === 1) cache.addPending(row[0]);
      else {
        cache.addPending(row[0]);
        cache.record(
          row[0],
          row[1].map((value) => (value === null ? NaN : value)),
          row[2],
        );
      }
    }
    return cache;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Objectives: conversion to minimization, validation, the metric catalog

/** Raw objectives → all-minimization (maximized objectives are negated). */
export function toMinimization(objectives: readonly number[], goals: readonly Goal[]): number[] {
  return objectives.map((value, i) => (goals[i] === 'max' ? -value : value));
}

/** Throws unless a told result is well formed for `objectiveCount` objectives. */
export function assertResultShape(result: EvaluationResult, objectiveCount: number): void {
  const { objectives, constraintViolation } = result;
  if (!Array.isArray(objectives) || objectives.length !== objectiveCount) {
    throw new RangeError(`tell: expected ${objectiveCount} objectives, got ${JSON.stringify(objectives)}`);
  }
  if (!Number.isFinite(constraintViolation) || constraintViolation < 0) {
    throw new RangeError(`tell: constraintViolation must be a finite number ≥ 0, got ${constraintViolation}`);
  }
  if (constraintViolation === 0 && !objectives.every(Number.isFinite)) {
    throw new RangeError(
      `tell: a feasible result needs finite objectives, got ${JSON.stringify(objectives)}`,
    );
  }
}

/**
 * The metrics a search may optimize, with their natural direction (docs/sources.md §Conventions:
 * EDAP = energy·latency·area, EDP = energy·latency, TOPS/W = ops/energy, TOPS/mm² = ops/(latency·area)).
 * Robust accuracy comes from Monte-Carlo device noise: its mean, or its 5th percentile for a
 * worst-case-minded search. chipAccuracy is the accuracy on one simulated chip without device noise: what
 * the chip's DAC/ADC quantization and bit slicing alone leave of the digital accuracy.
 */
export const OBJECTIVE_METRICS = {
  accuracy: 'max',
  robustAccuracyMean: 'max',
  robustAccuracyP5: 'max',
  chipAccuracy: 'max',
  energy: 'min',
  latency: 'min',
  area: 'min',
  edap: 'min',
  edp: 'min',
  topsPerWatt: 'max',
  topsPerMm2: 'max',
} as const satisfies Record<string, Goal>;

/** True for the metrics that measure accuracy, false for the hardware ones (EDAP, energy, TOPS/W …). */
export function isAccuracyMetric(metric: keyof typeof OBJECTIVE_METRICS): boolean {
  return (
    metric === 'accuracy' ||
    metric === 'robustAccuracyMean' ||
    metric === 'robustAccuracyP5' ||
    metric === 'chipAccuracy'
  );
}

export type ObjectiveMetric = keyof typeof OBJECTIVE_METRICS;

export function isObjectiveMetric(name: string): name is ObjectiveMetric {
  return Object.prototype.hasOwnProperty.call(OBJECTIVE_METRICS, name);
}

/** Objective specs for a list of metric names, each with its natural direction. */
export function objectivesFor(metrics: readonly ObjectiveMetric[]): ObjectiveSpec[] {
  return metrics.map((metric) => ({ name: metric, goal: OBJECTIVE_METRICS[metric] }));
}

/** Picks the configured objectives, in order, out of a candidate's metrics; a missing metric is an error. */
export function objectiveVector(metrics: object, objectives: readonly ObjectiveSpec[]): number[] {
  return objectives.map(({ name }) => {
    const value = metricValue(metrics, name);
    if (value === undefined) throw new RangeError(`objective "${name}" missing from the candidate's metrics`);
    return value;
  });
}

/** A numeric field of a metrics object (any object type, so interfaces qualify), or undefined. */
function metricValue(metrics: object, name: string): number | undefined {
  const value: unknown = (metrics as Record<string, unknown>)[name];
  return typeof value === 'number' ? value : undefined;
}

/** A budget on one metric: `max` for costs (area, latency, capacity), `min` for quality (accuracy). */
export interface ConstraintBudget {
  metric: string;
  max?: number;
  min?: number;
}

/**
 * Total relative violation of a set of budgets: Σ max(0, value/max − 1) + Σ max(0, 1 − value/min), so
 * budgets in different units add up comparably and a candidate twice over its area budget is worse than one
 * 10 % over (Deb 2000's constraint handling needs a violation magnitude, not just a flag). A missing or
 * non-finite metric that carries a budget counts as a violation of 1 per budget side.
 */
export function constraintViolation(metrics: object, budgets: readonly ConstraintBudget[]): number {
  let violation = 0;
  for (const budget of budgets) {
    const value = metricValue(metrics, budget.metric);
    const known = value !== undefined && Number.isFinite(value);
    if (budget.max !== undefined) {
      if (!known) violation += 1;
      else if (value > budget.max) violation += budget.max > 0 ? value / budget.max - 1 : value - budget.max;
    }
    if (budget.min !== undefined) {
      if (!known) violation += 1;
      else if (value < budget.min) violation += budget.min > 0 ? 1 - value / budget.min : budget.min - value;
    }
  }
  return violation;
}

// ---------------------------------------------------------------------------------------------------------
// Dominance on stored candidates, and a driver loop for tests, benchmarks and in-process searches

/** Pareto dominance for minimization vectors: no worse everywhere, strictly better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictlyBetter = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) strictlyBetter = true;
  }
  return strictlyBetter;
}

/**
 * Feasible candidates no other feasible candidate dominates (raw objectives, directions from `goals`).
 * Distinct genomes with identical objectives are all kept: they are different designs.
 * Cost O(n·f) for n candidates and a front of f: a candidate sorted lexicographically can only be dominated
 * by one sorted before it, and a dominated earlier candidate is dominated by a kept one too.
 */
export function nonDominatedCandidates(
  candidates: readonly EvaluatedCandidate[],
  goals: readonly Goal[],
): EvaluatedCandidate[] {
  const feasible = candidates
    .filter((candidate) => candidate.constraintViolation === 0)
    .map((candidate, index) => ({
      candidate,
      index,
      minimized: toMinimization(candidate.objectives, goals),
    }));
  feasible.sort((a, b) => {
    for (let i = 0; i < goals.length; i++)
      if (a.minimized[i] !== b.minimized[i]) return a.minimized[i] - b.minimized[i];
    return a.index - b.index;
  });
  const kept: typeof feasible = [];
  for (const entry of feasible) {
    if (!kept.some((keeper) => dominates(keeper.minimized, entry.minimized))) kept.push(entry);
  }
  return kept.sort((a, b) => a.index - b.index).map(({ candidate }) => candidate);
}

/** What an in-process evaluator returns for one genome. */
export type Evaluation = Omit<EvaluationResult, 'genome'>;

/**
 * Runs `optimizer` until `budget` distinct genomes are evaluated (or the space is exhausted), in batches of
 * `batchSize` (the population size for NSGA-II, so each batch is one generation). This is the loop a durable
 * workflow runs with activities and a checkpoint between iterations; tests and benchmarks run it in process.
 */
export function runToBudget(
  optimizer: AskTellOptimizer,
  evaluate: (genome: Genome) => Evaluation,
  budget: number,
  batchSize: number,
): void {
  while (optimizer.evaluations < budget) {
    const genomes = optimizer.propose(Math.min(batchSize, budget - optimizer.evaluations));
    if (genomes.length === 0) return;
    optimizer.tell(genomes.map((genome) => ({ genome, ...evaluate(genome) })));
  }
}
