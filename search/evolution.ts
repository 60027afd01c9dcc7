/**
 * The search as a sequence of generations over the joint genome: builds the configured optimizer on the
 * search space, restores it from its JSON state, and turns a candidate's measured accuracy and its
 * hardware cost into the metric set objectives and constraints are read from. Free of Temporal and tfjs;
 * activities persist the state between generations.
 */
import { evaluateNetwork } from '../hardware/cost';
import type { NetworkCost } from '../hardware/costTypes';
import type { HardwareLibrary } from '../hardware/library';
import { DEFAULT_LIBRARY } from '../hardware/library';
import { layerShapes } from './architecture';
import { Nsga2, type Nsga2State } from './nsga2';
import type { TournamentScheme } from './nsga2Operators';
import {
  constraintViolation,
  objectiveVector,
  type AskTellOptimizer,
  type ConstraintBudget,
  type ObjectiveMetric,
  type ObjectiveSpec,
  OBJECTIVE_METRICS,
} from './optimizer';
import { RandomSearch, type RandomSearchState } from './randomSearch';
import { crossoverBlocks, optimizerGenes, optimizerHooks, type AnchorChip } from './space/adapters';
import { decode, type Genome } from './space/codec';
import { buildLayout } from './space/layout';
import { hardwareRulesFor } from './space/rules';
import type { SearchSpace } from './space/schema';

export interface EvolutionSettings {
  algorithm: 'nsga2' | 'random';
  population: number;
  crossover: 'uniform' | 'block';
  /** NSGA-II parent selection; absent means Nsga2's default. */
  tournament?: TournamentScheme;
}

export interface ObjectiveSetting {
  metric: ObjectiveMetric;
}

export interface ConstraintSettings {
  areaMm2?: { max: number };
  latencyS?: { max: number };
  energyJ?: { max: number };
  accuracy?: { min: number };
  robustAccuracyMean?: { min: number };
  robustAccuracyP5?: { min: number };
  chipAccuracy?: { min: number };
}

/** The metrics stage 2 measures on noisy chips, only when an objective or a constraint names one. */
export const ROBUST_METRICS = ['robustAccuracyMean', 'robustAccuracyP5'] as const;

export function needsRobustMetrics(
  objectives: readonly ObjectiveSetting[],
  constraints: ConstraintSettings,
): boolean {
  return ROBUST_METRICS.some(
    (metric) =>
      objectives.some((objective) => objective.metric === metric) || constraints[metric] !== undefined,
  );
}

/**
 * True when an objective or a constraint names chipAccuracy: stage 2 then runs each candidate on one
 * noise-free simulated chip (tasks/searchRobustness.ts searchChipAccuracy).
 */
export function needsChipAccuracy(
  objectives: readonly ObjectiveSetting[],
  constraints: ConstraintSettings,
): boolean {
  return (
    objectives.some((objective) => objective.metric === 'chipAccuracy') ||
    constraints.chipAccuracy !== undefined
  );
}

export type OptimizerState =
  ({ algorithm: 'nsga2' } & Nsga2State) | ({ algorithm: 'random' } & RandomSearchState);

export function objectiveSpecs(objectives: readonly ObjectiveSetting[]): ObjectiveSpec[] {
  return objectives.map(({ metric }) => ({ name: metric, goal: OBJECTIVE_METRICS[metric] }));
}

export function createOptimizer(
  space: SearchSpace,
  objectives: readonly ObjectiveSetting[],
  evolution: EvolutionSettings,
  seed: number,
  library: HardwareLibrary = DEFAULT_LIBRARY,
  /** Chips the first generation's largest network is also placed on (search/space/adapters.ts). */
  anchorChips: readonly AnchorChip[] = [],
): AskTellOptimizer {
  const layout = buildLayout(space);
  const genes = optimizerGenes(layout);
  // The hardware library that costs the candidates also decides which ones are feasible.
  const hooks = optimizerHooks(space, hardwareRulesFor(library), anchorChips);
  if (evolution.algorithm === 'random') {
    return new RandomSearch({ genes, objectives: objectiveSpecs(objectives), seed }, hooks);
  }
  return new Nsga2(
    {
      genes,
      objectives: objectiveSpecs(objectives),
      populationSize: evolution.population,
      seed,
      blocks: crossoverBlocks(layout),
      crossover: evolution.crossover,
      tournament: evolution.tournament,
    },
    hooks,
  );
}

export function saveOptimizer(optimizer: AskTellOptimizer): OptimizerState {
  const algorithm = optimizer instanceof RandomSearch ? 'random' : 'nsga2';
  return { algorithm, ...(optimizer.toJSON() as object) } as OptimizerState;
}

export function restoreOptimizer(
  space: SearchSpace,
  state: OptimizerState,
  library: HardwareLibrary = DEFAULT_LIBRARY,
): AskTellOptimizer {
  const hooks = optimizerHooks(space, hardwareRulesFor(library));
  const { algorithm, ...rest } = state;
  return algorithm === 'random'
    ? RandomSearch.fromJSON(rest as RandomSearchState, hooks)
    : Nsga2.fromJSON(rest as Nsga2State, hooks);
}

/** The metrics a candidate is judged by, in the names objectives and constraints use. */
export interface CandidateMetrics {
  accuracy: number;
  energy: number;
  latency: number;
  area: number;
  edap: number;
  edp: number;
  topsPerWatt: number;
  topsPerMm2: number;
  robustAccuracyMean?: number;
  robustAccuracyP5?: number;
  /** Accuracy on one noise-free simulated chip (ADC/DAC quantization, bit slicing), when asked for. */
  chipAccuracy?: number;
  /** Tiles the weights need beyond the tile budget (0 when they fit or no budget is set). */
  capacityExcess: number;
}

export type HardwareMetrics = Omit<
  CandidateMetrics,
  'accuracy' | 'robustAccuracyMean' | 'robustAccuracyP5' | 'chipAccuracy'
>;

/** The search's names for the cost model's figures (per image: J, s, mm²; EDAP in J·s·mm², EDP in J·s). */
export function costMetrics(cost: NetworkCost): Omit<HardwareMetrics, 'capacityExcess'> {
  return {
    energy: cost.energyJ,
    latency: cost.latencyS,
    area: cost.areaMm2,
    edap: cost.edap,
    edp: cost.edp,
    topsPerWatt: cost.topsPerW,
    topsPerMm2: cost.topsPerMm2,
  };
}

export function hardwareMetrics(
  space: SearchSpace,
  genome: Genome,
  library: HardwareLibrary = DEFAULT_LIBRARY,
): HardwareMetrics {
  const candidate = decode(space, genome);
  const cost = evaluateNetwork(
    layerShapes(candidate.architecture, candidate.quantization),
    candidate.hardware,
    library,
  );
  return {
    ...costMetrics(cost),
    capacityExcess: cost.fitsCapacity
      ? 0
      : Math.max(0, cost.requiredTiles - (cost.availableTiles ?? cost.requiredTiles)),
  };
}

export function constraintBudgets(constraints: ConstraintSettings): ConstraintBudget[] {
  const budgets: ConstraintBudget[] = [];
  if (constraints.areaMm2) budgets.push({ metric: 'area', max: constraints.areaMm2.max });
  if (constraints.latencyS) budgets.push({ metric: 'latency', max: constraints.latencyS.max });
  if (constraints.energyJ) budgets.push({ metric: 'energy', max: constraints.energyJ.max });
  if (constraints.accuracy) budgets.push({ metric: 'accuracy', min: constraints.accuracy.min });
  for (const metric of ROBUST_METRICS) {
    const budget = constraints[metric];
    if (budget) budgets.push({ metric, min: budget.min });
  }
  if (constraints.chipAccuracy) budgets.push({ metric: 'chipAccuracy', min: constraints.chipAccuracy.min });
  return budgets;
}

/** Objective vector and total constraint violation (capacity counts one unit per missing tile ratio). */
export function judge(
  metrics: CandidateMetrics,
  objectives: readonly ObjectiveSetting[],
  constraints: ConstraintSettings,
): { objectives: number[]; constraintViolation: number } {
  const violation =
    constraintViolation(metrics, constraintBudgets(constraints)) + (metrics.capacityExcess > 0 ? 1 : 0);
  return { objectives: objectiveVector(metrics, objectiveSpecs(objectives)), constraintViolation: violation };
}
