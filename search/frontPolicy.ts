/**
 * Which designs move on after the search: the front members that get the noisy-chip evaluation (stage 3)
 * and the ones retrained (stage 4). Pure and deterministic: the workflow calls it directly.
 */
import { OBJECTIVE_METRICS, type ObjectiveMetric } from './optimizer';

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

/** The `count` designs with the highest noisy accuracy (stable for ties: the earlier evaluation wins). */
export function winnersForRetraining<T extends { key: string; accuracyMean: number }>(
  robust: readonly T[],
  count: number,
): T[] {
  return [...robust].sort((a, b) => b.accuracyMean - a.accuracyMean).slice(0, count);
}
