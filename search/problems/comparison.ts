/**
 * NSGA-II against random search at an equal evaluation budget, over several seeds, scored by normalized
 * hypervolume with one shared normalization. Used by the test that backs the claim "imcnas's search beats
 * random search" and by `npm run bench -- search`.
 */
import { Nsga2 } from '../nsga2';
import type { CrossoverScheme } from '../nsga2Operators';
import { RandomSearch } from '../randomSearch';
import { nonDominatedCandidates, runToBudget, searchSpaceSize, uniformGenome } from '../optimizer';
import type {
  EvaluatedCandidate,
  Evaluation,
  GeneSpec,
  Genome,
  Goal,
  ObjectiveSpec,
  RepairFn,
} from '../optimizer';
import { boundsOf, logScaleObjectives, normalizedHypervolume } from '../hypervolume';
import type { NormalizationBounds } from '../hypervolume';

export interface ComparableProblem {
  genes: GeneSpec[];
  blocks?: number[][];
  objectives: ObjectiveSpec[];
  repair?: RepairFn;
  evaluate(genome: Genome): Evaluation;
}

export interface ComparisonOptions {
  seeds: number[];
  populationSize: number;
  generations: number;
  crossover?: CrossoverScheme;
  /** Objectives scored on a log10 scale (see `logScaleObjectives`); default none. */
  logScaled?: boolean[];
  /**
   * Normalization bounds in the (log-scaled) objective space. Default: ideal and nadir of the non-dominated
   * set of everything both algorithms evaluated over all seeds, so neither algorithm sets its own yardstick.
   */
  bounds?: NormalizationBounds;
}

export interface ComparisonResult {
  /** Evaluations per run: populationSize × generations, the same for both algorithms. */
  budget: number;
  bounds: NormalizationBounds;
  nsga2: number[];
  random: number[];
  nsga2Mean: number;
  nsga2Std: number;
  randomMean: number;
  randomStd: number;
  /** Seeds on which NSGA-II's hypervolume is strictly larger. */
  nsga2Wins: number;
}

export function compareWithRandomSearch(
  problem: ComparableProblem,
  options: ComparisonOptions,
): ComparisonResult {
  const goals: Goal[] = problem.objectives.map((objective) => objective.goal);
  const logScaled = options.logScaled ?? goals.map(() => false);
  const budget = options.populationSize * options.generations;
  const hooks = problem.repair ? { repair: problem.repair } : {};
  const fronts = options.seeds.map((seed) => {
    const nsga2 = new Nsga2(
      {
        genes: problem.genes,
        objectives: problem.objectives,
        populationSize: options.populationSize,
        seed,
        blocks: problem.blocks,
        crossover: options.crossover ?? 'uniform',
      },
      hooks,
    );
    runToBudget(nsga2, (genome) => problem.evaluate(genome), budget, options.populationSize);
    const random = new RandomSearch({ genes: problem.genes, objectives: problem.objectives, seed }, hooks);
    runToBudget(random, (genome) => problem.evaluate(genome), budget, options.populationSize);
    const scaled = (front: EvaluatedCandidate[]): number[][] =>
      logScaleObjectives(
        front.map((candidate) => candidate.objectives),
        logScaled,
      );
    return { nsga2: scaled(nsga2.paretoFront()), random: scaled(random.paretoFront()) };
  });
  const bounds =
    options.bounds ??
    boundsOf(
      fronts.flatMap((front) => [...front.nsga2, ...front.random]),
      goals,
    );
  const nsga2 = fronts.map((front) => normalizedHypervolume(front.nsga2, goals, bounds));
  const random = fronts.map((front) => normalizedHypervolume(front.random, goals, bounds));
  return summarize(budget, bounds, nsga2, random);
}

/** One run's feasible evaluated objective vectors (raw units), for `scoreUnderOneNormalization`. */
export interface ScoredRun {
  algorithm: 'nsga2' | 'random';
  seed: number;
  objectives: number[][];
}

/**
 * Hypervolume of every run under ONE normalization: flagged objectives on a log10 scale, ideal and nadir
 * from the union of all runs' non-dominated sets (so neither algorithm sets its own yardstick), reference
 * point 1.1 per normalized objective. NSGA-II and random runs are paired by seed for `nsga2Wins`; every
 * seed must have one run of each.
 */
export function scoreUnderOneNormalization(
  runs: readonly ScoredRun[],
  goals: readonly Goal[],
  logScaled: readonly boolean[],
  budget: number,
): ComparisonResult {
  const scaled = runs.map((run) => ({
    ...run,
    front: logScaleObjectives(
      nonDominatedCandidates(
        run.objectives.map((objectives, i) => ({
          key: String(i),
          genome: [],
          objectives,
          constraintViolation: 0,
        })),
        goals,
      ).map((candidate) => candidate.objectives),
      logScaled,
    ),
  }));
  const bounds = boundsOf(
    scaled.flatMap((run) => run.front),
    goals,
  );
  const seeds = [...new Set(runs.map((run) => run.seed))];
  const of = (algorithm: ScoredRun['algorithm']) =>
    seeds.map((seed) => {
      const run = scaled.find((candidate) => candidate.algorithm === algorithm && candidate.seed === seed);
      if (!run) throw new RangeError(`scoreUnderOneNormalization: seed ${seed} has no ${algorithm} run`);
      return normalizedHypervolume(run.front, goals, bounds);
    });
  return summarize(budget, bounds, of('nsga2'), of('random'));
}

function summarize(
  budget: number,
  bounds: NormalizationBounds,
  nsga2: number[],
  random: number[],
): ComparisonResult {
  return {
    budget,
    bounds,
    nsga2,
    random,
    nsga2Mean: mean(nsga2),
    nsga2Std: standardDeviation(nsga2),
    randomMean: mean(random),
    randomStd: standardDeviation(random),
    nsga2Wins: nsga2.filter((value, i) => value > random[i]).length,
  };
}

/**
 * The exact Pareto front of a small integer-coded problem by enumerating every genome (after repair), for a
 * normalization and a "best possible" hypervolume that do not depend on any search run. Refuses spaces above
 * `limit` genomes.
 */
export function exhaustiveParetoFront(problem: ComparableProblem, limit = 1_000_000): EvaluatedCandidate[] {
  const size = searchSpaceSize(problem.genes);
  if (size > limit)
    throw new RangeError(`exhaustiveParetoFront: ${size} genomes exceed the limit of ${limit}`);
  const cardinalities = problem.genes.map((gene) => {
    if (gene.kind === 'real') throw new RangeError('exhaustiveParetoFront: real genes cannot be enumerated');
    return gene.cardinality;
  });
  const seen = new Set<string>();
  const candidates: EvaluatedCandidate[] = [];
  const genome = uniformGenome(problem.genes, () => 0);
  for (let index = 0; index < size; index++) {
    let rest = index;
    for (let i = 0; i < cardinalities.length; i++) {
      genome[i] = rest % cardinalities[i];
      rest = Math.floor(rest / cardinalities[i]);
    }
    const repaired = problem.repair ? problem.repair([...genome]) : [...genome];
    if (repaired === null) continue;
    const key = repaired.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const { objectives, constraintViolation } = problem.evaluate(repaired);
    candidates.push({ key, genome: repaired, objectives, constraintViolation });
  }
  return nonDominatedCandidates(
    candidates,
    problem.objectives.map((objective) => objective.goal),
  );
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const average = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1));
}
