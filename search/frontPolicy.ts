/**
 * Which designs move on after the search: the front members that get the noisy-chip evaluation (stage 3)
 * and the ones retrained (stage 4). Pure and deterministic: the workflow calls it directly.
 */
import { isAccuracyMetric, OBJECTIVE_METRICS, type ObjectiveMetric } from './optimizer';

export interface FrontEntry {
  key: string;
  genome: number[];
  /** Objective values in the order of the search's objectives. */
  objectives: number[];
}

export interface ObjectiveChoice {
  metric: ObjectiveMetric;
  goal?: 'min' | 'max';
}

/**
 * Up to `topK` front members: the best by the first objective (in its configured or natural direction),
 * then evenly spaced along the front sorted by it, so the robustness stage sees the whole trade-off.
 */
export function frontForRobustness(
  front: readonly FrontEntry[],
  objectives: readonly ObjectiveChoice[],
  topK: number,
): Array<{ key: string; genome: number[] }> {
  if (front.length <= topK) return front.map(({ key, genome }) => ({ key, genome }));
  const first = objectives[0];
  const maximize = first ? (first.goal ?? OBJECTIVE_METRICS[first.metric]) === 'max' : true;
  const sorted = [...front].sort((a, b) =>
    maximize ? b.objectives[0]! - a.objectives[0]! : a.objectives[0]! - b.objectives[0]!,
  );
  const picked = new Map<string, { key: string; genome: number[] }>();
  for (let i = 0; i < topK; i++) {
    const { key, genome } = sorted[Math.round((i * (sorted.length - 1)) / Math.max(1, topK - 1))]!;
    picked.set(key, { key, genome });
  }
  return [...picked.values()];
}

/** How stage 4 picks the designs it retrains among those stage 3 tested on noisy chips. */
export type WinnerChoice = 'most-accurate' | 'cheapest-near-best';

export interface WinnerPolicy {
  choose: WinnerChoice;
  /** cheapest-near-best: how far (accuracy as a fraction) below the best noisy mean a design may be. */
  accuracyTolerance: number;
  /** cheapest-near-best: each design's value on the first hardware objective, lower is better. */
  costOf?: (key: string) => number | undefined;
}

/**
 * The first hardware objective as "lower is better" for each front member (a maximized one, such as
 * TOPS/W, negated), or undefined when every objective measures accuracy.
 */
export function hardwareCostOf(
  front: readonly FrontEntry[],
  objectives: readonly ObjectiveChoice[],
): ((key: string) => number | undefined) | undefined {
  const index = objectives.findIndex((objective) => !isAccuracyMetric(objective.metric));
  if (index < 0) return undefined;
  const objective = objectives[index]!;
  const sign = (objective.goal ?? OBJECTIVE_METRICS[objective.metric]) === 'max' ? -1 : 1;
  const byKey = new Map(front.map((member) => [member.key, sign * member.objectives[index]!]));
  return (key) => byKey.get(key);
}

/**
 * The `count` designs stage 4 retrains. most-accurate: the highest noisy accuracy first (stable for ties:
 * the earlier evaluation wins). cheapest-near-best: first the designs within `accuracyTolerance` of the best
 * noisy mean, cheapest first on the first hardware objective — a design a point less accurate at a tenth of
 * the EDAP is what a chip designer would build (CIMNAS, Krestinskaya et al. 2025, report the found design
 * against a baseline at equal accuracy) — then, if `count` asks for more, the rest by noisy accuracy.
 */
export function winnersForRetraining<T extends { key: string; accuracyMean: number }>(
  robust: readonly T[],
  count: number,
  policy: WinnerPolicy = { choose: 'most-accurate', accuracyTolerance: 0 },
): T[] {
  const byAccuracy = [...robust].sort((a, b) => b.accuracyMean - a.accuracyMean);
  const { costOf } = policy;
  if (policy.choose === 'most-accurate' || costOf === undefined || byAccuracy.length === 0) {
    return byAccuracy.slice(0, count);
  }
  const floor = byAccuracy[0]!.accuracyMean - policy.accuracyTolerance;
  const cost = (design: T) => costOf(design.key) ?? Number.POSITIVE_INFINITY;
  const near = byAccuracy.filter((design) => design.accuracyMean >= floor);
  // Stable sort: equal costs keep the accuracy order.
  const cheapestFirst = [...near].sort((a, b) => cost(a) - cost(b));
  const rest = byAccuracy.filter((design) => design.accuracyMean < floor);
  return [...cheapestFirst, ...rest].slice(0, count);
}

/** The retraining settings the winner choice reads (config.retrain; older recorded configs lack `choose`). */
export interface RetrainChoice {
  count: number;
  choose?: WinnerChoice;
  accuracyTolerance?: number;
}

/**
 * The keys stage 4 retrains, in order: winnersForRetraining with the first hardware objective as the cost.
 * Configs recorded before `retrain.choose` existed have neither field and keep most-accurate.
 */
export function retrainingOrder(
  robust: ReadonlyArray<{ key: string; accuracyMean: number }>,
  front: readonly FrontEntry[],
  objectives: readonly ObjectiveChoice[],
  retrain: RetrainChoice,
): string[] {
  return winnersForRetraining(robust, retrain.count, {
    choose: retrain.choose ?? 'most-accurate',
    accuracyTolerance: retrain.accuracyTolerance ?? 0.01,
    costOf: hardwareCostOf(front, objectives),
  }).map(({ key }) => key);
}
