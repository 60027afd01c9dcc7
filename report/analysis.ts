/**
 * The numbers behind the report's plots, computed from results files: objective vectors, feasibility,
 * hypervolume and best objectives per generation (for one run or runs compared on one yardstick), and the
 * cost model's per-layer / per-component breakdown of chosen designs.
 */
import { evaluateNetwork, type NetworkCost } from '../hardware/cost';
import { DEFAULT_LIBRARY } from '../hardware/library';
import { layerShapes } from '../search/architecture';
import { judge, objectiveSpecs } from '../search/evolution';
import { boundsOf, logScaleObjectives, nonDominated, normalizedHypervolume } from '../search/hypervolume';
import { objectiveVector, toMinimization, type Goal } from '../search/optimizer';
import type { RunConfig } from '../config/schema';
import type { ResultsCandidate, SearchResultsFile } from './runData';

/** Metrics that hypervolume scores on a log10 scale (costs spanning orders of magnitude; see logScaleObjectives). */
const LOG_SCALED_METRICS = new Set(['energy', 'latency', 'area', 'edap', 'edp', 'topsPerWatt', 'topsPerMm2']);

export function isLogScaled(metric: string): boolean {
  return LOG_SCALED_METRICS.has(metric);
}

export function objectiveNames(results: SearchResultsFile): string[] {
  return results.objectives.map((objective) => objective.metric);
}

export function goalsOf(results: SearchResultsFile): Goal[] {
  return objectiveSpecs(results.objectives).map((spec) => spec.goal);
}

/** The candidate's objective vector in the run's objective order (raw units, as the search saw them). */
export function objectiveValues(results: SearchResultsFile, candidate: ResultsCandidate): number[] {
  return objectiveVector(candidate.metrics, objectiveSpecs(results.objectives));
}

/** Whether the search counted the candidate feasible (constraints and tile capacity, as judge() does). */
export function isFeasible(results: SearchResultsFile, candidate: ResultsCandidate): boolean {
  return judge(candidate.metrics, results.objectives, results.constraints).constraintViolation === 0;
}

export function algorithmLabel(config: RunConfig): string {
  return config.evolution.algorithm === 'random' ? 'random search' : 'NSGA-II';
}

export interface ComparedRun {
  label: string;
  results: SearchResultsFile;
}

export interface HypervolumePoint {
  run: string;
  generation: number;
  evaluations: number;
  hypervolume: number;
}

/**
 * Normalized hypervolume of everything evaluated up to each generation (1-based), for every run on one
 * yardstick, the way search/problems/comparison.ts scores NSGA-II against random search: hardware costs on a
 * log10 scale, ideal and nadir of the non-dominated set of all runs' feasible candidates, reference point 1.1
 * per normalized objective. Empty when no run has a feasible candidate.
 */
export function hypervolumeCurves(runs: readonly ComparedRun[]): HypervolumePoint[] {
  const first = runs[0];
  if (!first) return [];
  const names = objectiveNames(first.results);
  const logScaled = names.map(isLogScaled);
  const goals = goalsOf(first.results);
  const minimizationGoals: Goal[] = goals.map(() => 'min');
  const prepared = runs.map(({ label, results }) => ({
    label,
    points: results.candidates
      .filter((candidate) => isFeasible(results, candidate))
      .map((candidate) => ({
        generation: candidate.generation,
        point: toMinimization(logScaleObjectives([objectiveValues(results, candidate)], logScaled)[0], goals),
      })),
    generations: Math.max(0, ...results.candidates.map((candidate) => candidate.generation + 1)),
    evaluationsUpTo: (generation: number) =>
      results.candidates.filter((candidate) => candidate.generation < generation).length,
  }));
  const everything = prepared.flatMap((run) => run.points.map((p) => p.point));
  if (everything.length === 0) return [];
  const bounds = boundsOf(nonDominated(everything), minimizationGoals);
  const curves: HypervolumePoint[] = [];
  for (const run of prepared) {
    for (let generation = 1; generation <= run.generations; generation++) {
      const seen = run.points.filter((p) => p.generation < generation).map((p) => p.point);
      curves.push({
        run: run.label,
        generation,
        evaluations: run.evaluationsUpTo(generation),
        hypervolume: seen.length ? normalizedHypervolume(seen, minimizationGoals, bounds) : 0,
      });
    }
  }
  return curves;
}

export interface BestObjectivePoint {
  run: string;
  objective: string;
  generation: number;
  best: number;
}

/** Best feasible value of each objective among the candidates evaluated up to each generation. */
export function bestObjectiveCurves(runs: readonly ComparedRun[]): BestObjectivePoint[] {
  const points: BestObjectivePoint[] = [];
  for (const { label, results } of runs) {
    const names = objectiveNames(results);
    const goals = goalsOf(results);
    const feasible = results.candidates.filter((candidate) => isFeasible(results, candidate));
    const generations = Math.max(0, ...results.candidates.map((candidate) => candidate.generation + 1));
    for (let generation = 1; generation <= generations; generation++) {
      const seen = feasible.filter((c) => c.generation < generation).map((c) => objectiveValues(results, c));
      if (seen.length === 0) continue;
      names.forEach((objective, i) => {
        const values = seen.map((vector) => vector[i]);
        const best = goals[i] === 'max' ? Math.max(...values) : Math.min(...values);
        points.push({ run: label, objective, generation, best });
      });
    }
  }
  return points;
}

export interface DesignBreakdown {
  key: string;
  cost: NetworkCost;
  /** Largest relative difference between the recomputed totals and the metrics the search stored. */
  mismatch: number;
}

/**
 * The cost model's breakdown of a design (results.json keeps only totals): recomputed from its decoded
 * architecture, quantization and chip with the default hardware library, as the search computed them.
 */
export function breakdownOf(candidate: ResultsCandidate): DesignBreakdown {
  const cost = evaluateNetwork(
    layerShapes(candidate.architecture, candidate.quantization),
    candidate.hardware,
    DEFAULT_LIBRARY,
    { perLayer: true },
  );
  const pairs: Array<[number, number]> = [
    [cost.energyJ, candidate.metrics.energy],
    [cost.latencyS, candidate.metrics.latency],
    [cost.areaMm2, candidate.metrics.area],
  ];
  const mismatch = Math.max(...pairs.map(([a, b]) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)));
  return { key: candidate.key, cost, mismatch };
}
