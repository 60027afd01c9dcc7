/** Summary statistics of Monte-Carlo accuracies. */
import type { AccuracyStats } from './types';

/** Linear-interpolation percentile of sorted values (numpy's default method). */
export function percentileOfSorted(sorted: readonly number[], percentile: number): number {
  if (sorted.length === 0) return NaN;
  const h = ((sorted.length - 1) * percentile) / 100;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function accuracyStats(accuracies: readonly number[]): AccuracyStats {
  const n = accuracies.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, p5: NaN, count: 0 };
  const mean = accuracies.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? accuracies.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const sorted = [...accuracies].sort((a, b) => a - b);
  return {
    mean,
    std: Math.sqrt(variance),
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p5: percentileOfSorted(sorted, 5),
    count: n,
  };
}
