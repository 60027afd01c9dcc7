/**
 * Hypervolume: the Lebesgue measure of the region dominated by a set of points and bounded by a reference
 * point (Zitzler & Thiele 1998), the standard single-number quality of a Pareto front approximation. It is
 * the only unary indicator known to be strictly Pareto compliant, which is why imcnas uses it to compare
 * NSGA-II with random search.
 *
 * All functions here take minimization objectives. Points that do not strictly dominate the reference point
 * contribute nothing and are dropped.
 *
 * Algorithms:
 * - 2 objectives: one sweep over the points sorted by the first objective, O(n log n).
 * - 3 objectives: a sweep along the third objective that maintains the 2-D non-dominated staircase of the
 *   points seen so far and its area, O(n²) worst case (Hypervolume by Slicing Objectives, While et al. 2006,
 *   with the 2-D slice updated incrementally instead of recomputed).
 * - 4 or more: WFG (While, Bradstreet & Barone, IEEE TEVC 16(1) 2012): the hypervolume is the sum of each
 *   point's exclusive contribution with respect to the points after it, computed as its own box minus the
 *   hypervolume of the "limit set" (the later points clipped to its box). Points are sorted by the last
 *   objective in decreasing order, so every limit set shares the current point's last coordinate and the
 *   recursion drops one dimension per level, bottoming out in the exact 3-D sweep.
 */
import type { Goal } from './optimizer';

/** Hypervolume of `points` (minimization) with respect to `reference`; any number of objectives ≥ 1. */
export function hypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  const dims = reference.length;
  if (dims === 0) throw new RangeError('hypervolume: the reference point needs at least one coordinate');
  const inside: number[][] = [];
  for (const point of points) {
    if (point.length !== dims) {
      throw new RangeError(
        `hypervolume: point ${JSON.stringify(point)} has ${point.length} objectives, expected ${dims}`,
      );
    }
    if (!point.every((value) => Number.isFinite(value))) continue;
    if (point.every((value, i) => value < reference[i])) inside.push([...point]);
  }
  if (inside.length === 0) return 0;
  if (dims === 1) return reference[0] - Math.min(...inside.map((p) => p[0]));
  return hypervolumeOfFront(nonDominated(inside), reference);
}

/** Dispatches on dimension; `front` is non-dominated and strictly inside the reference box. */
function hypervolumeOfFront(front: number[][], reference: readonly number[]): number {
  if (front.length === 0) return 0;
  const dims = reference.length;
  if (dims === 2) return hypervolume2d(front, reference);
  if (dims === 3) return hypervolume3d(front, reference);
  return wfg(front, reference);
}

/** 2-D: sort by f1 ascending; each point adds the strip between it and the next lower f2 seen so far. */
function hypervolume2d(points: number[][], reference: readonly number[]): number {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let volume = 0;
  let lowestSecond = reference[1];
  for (const [first, second] of sorted) {
    if (second < lowestSecond) {
      volume += (reference[0] - first) * (lowestSecond - second);
      lowestSecond = second;
    }
  }
  return volume;
}

/**
 * 3-D: sweep the points by increasing f3. Between consecutive f3 values the dominated cross-section is the
 * area of the 2-D staircase of all points seen so far, kept sorted by f1 (hence decreasing f2).
 */
function hypervolume3d(points: number[][], reference: readonly number[]): number {
  const sorted = [...points].sort((a, b) => a[2] - b[2] || a[0] - b[0] || a[1] - b[1]);
  const staircase: Array<[number, number]> = []; // f1 ascending, f2 strictly descending
  let area = 0;
  let volume = 0;
  for (let k = 0; k < sorted.length; k++) {
    const [x, y] = sorted[k];
    // start = first step with f1 ≥ x. Steps before it have f1 < x, and the last of them has the lowest f2
    // among them, so it alone decides whether an earlier step dominates the new point.
    let lo = 0;
    let hi = staircase.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (staircase[mid][0] < x) lo = mid + 1;
      else hi = mid;
    }
    const start = lo;
    const dominatedBefore = start > 0 && staircase[start - 1][1] <= y;
    const dominatedAtSameF1 =
      start < staircase.length && staircase[start][0] === x && staircase[start][1] <= y;
    if (!dominatedBefore && !dominatedAtSameF1) {
      // The staircase area is Σ_i (r1 − f1_i)·(f2_{i−1} − f2_i) with f2_{−1} = r2: one horizontal strip per
      // step. The new point replaces the strips of the steps it covers (f1 ≥ x, f2 ≥ y), adds its own, and
      // lowers the top of the first surviving step's strip to y.
      const upperF2 = start > 0 ? staircase[start - 1][1] : reference[1];
      let end = start;
      let removedArea = 0;
      let previousF2 = upperF2;
      while (end < staircase.length && staircase[end][1] >= y) {
        const [stepX, stepY] = staircase[end];
        removedArea += (reference[0] - stepX) * (previousF2 - stepY);
        previousF2 = stepY;
        end++;
      }
      const survivorLoss = end < staircase.length ? (reference[0] - staircase[end][0]) * (previousF2 - y) : 0;
      area += (reference[0] - x) * (upperF2 - y) - removedArea - survivorLoss;
      staircase.splice(start, end - start, [x, y]);
    }
    const nextThird = k + 1 < sorted.length ? sorted[k + 1][2] : reference[2];
    volume += area * (nextThird - sorted[k][2]);
  }
  return volume;
}

/** WFG for ≥ 4 objectives (see the file comment). `front` is non-dominated and inside the reference box. */
function wfg(front: number[][], reference: readonly number[]): number {
  const dims = reference.length;
  const last = dims - 1;
  // Decreasing last objective: later points never exceed the current one in it.
  const sorted = [...front].sort((a, b) => b[last] - a[last]);
  const lowerReference = reference.slice(0, last);
  let volume = 0;
  for (let i = 0; i < sorted.length; i++) {
    const point = sorted[i];
    const height = reference[last] - point[last];
    if (height <= 0) continue;
    const projected = point.slice(0, last);
    let box = 1;
    for (let d = 0; d < last; d++) box *= reference[d] - projected[d];
    // Limit set: later points clipped to this point's box, projected to the first dims-1 objectives.
    const limited: number[][] = [];
    for (let j = i + 1; j < sorted.length; j++) {
      const other = sorted[j];
      const clipped = new Array<number>(last);
      for (let d = 0; d < last; d++) clipped[d] = Math.max(projected[d], other[d]);
      limited.push(clipped);
    }
    const covered = limited.length === 0 ? 0 : hypervolumeOfFront(nonDominated(limited), lowerReference);
    volume += height * (box - covered);
  }
  return volume;
}

/** Mutually non-dominated subset (minimization), duplicates kept once; order of first appearance. */
export function nonDominated(points: readonly (readonly number[])[]): number[][] {
  // Sorting lexicographically means a point can only be dominated by an earlier one.
  const order = points
    .map((point, index) => ({ point, index }))
    .sort((a, b) => lexicographic(a.point, b.point) || a.index - b.index);
  const kept: Array<{ point: readonly number[]; index: number }> = [];
  for (const candidate of order) {
    let dominatedOrEqual = false;
    for (const keeper of kept) {
      if (weaklyDominates(keeper.point, candidate.point)) {
        dominatedOrEqual = true;
        break;
      }
    }
    if (!dominatedOrEqual) kept.push(candidate);
  }
  return kept.sort((a, b) => a.index - b.index).map(({ point }) => [...point]);
}

function lexicographic(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function weaklyDominates(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] > b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Normalized hypervolume

/**
 * Normalization bounds in raw metric units, per objective: `ideal` is the best value (the largest for a
 * maximized objective), `nadir` the worst value that still counts.
 */
export interface NormalizationBounds {
  ideal: number[];
  nadir: number[];
}

/**
 * The reference point imcnas states for normalized hypervolume: 1.1 in every normalized objective, i.e. 10 %
 * beyond the nadir, so the extreme points of a front still contribute (the common choice, e.g. for ZDT with
 * (1.1, 1.1)). With it the largest possible normalized hypervolume is 1.1^m.
 */
export const NORMALIZED_REFERENCE = 1.1;

/** Ideal and nadir of a set of raw objective vectors (e.g. the union of every run being compared). */
export function boundsOf(
  points: readonly (readonly number[])[],
  goals: readonly Goal[],
): NormalizationBounds {
  if (points.length === 0) throw new RangeError('boundsOf: no points');
  const ideal = goals.map((goal) => (goal === 'min' ? Infinity : -Infinity));
  const nadir = goals.map((goal) => (goal === 'min' ? -Infinity : Infinity));
  for (const point of points) {
    goals.forEach((goal, i) => {
      const value = point[i];
      if (!Number.isFinite(value)) return;
      if (goal === 'min') {
        ideal[i] = Math.min(ideal[i], value);
        nadir[i] = Math.max(nadir[i], value);
      } else {
        ideal[i] = Math.max(ideal[i], value);
        nadir[i] = Math.min(nadir[i], value);
      }
    });
  }
  return { ideal, nadir };
}

/**
 * Raw objectives → normalized minimization: 0 at the ideal, 1 at the nadir, whatever each objective's
 * direction and unit. Objectives whose ideal equals their nadir map to 0.
 */
export function normalizeObjectives(
  points: readonly (readonly number[])[],
  goals: readonly Goal[],
  bounds: NormalizationBounds,
): number[][] {
  goals.forEach((goal, i) => {
    const { ideal, nadir } = { ideal: bounds.ideal[i], nadir: bounds.nadir[i] };
    if (
      !Number.isFinite(ideal) ||
      !Number.isFinite(nadir) ||
      (goal === 'min' ? ideal > nadir : ideal < nadir)
    ) {
      throw new RangeError(
        `normalization of objective ${i} (${goal}): ideal ${ideal} is not better than nadir ${nadir}`,
      );
    }
  });
  return points.map((point) =>
    goals.map((_goal, i) => {
      const span = bounds.nadir[i] - bounds.ideal[i];
      if (span === 0) return 0;
      // Dividing by the signed span handles both directions: for a maximized objective ideal > nadir.
      const normalized = (point[i] - bounds.ideal[i]) / span;
      return normalized === 0 ? 0 : normalized; // no −0 in reports
    }),
  );
}

/**
 * Hypervolume of raw objective vectors in the normalized space of `normalizeObjectives`, with the reference
 * point `referencePoint` in that space (default 1.1 per objective, `NORMALIZED_REFERENCE`). Comparable
 * across algorithms only when they share `bounds` — pass bounds fixed in advance (the problem's known
 * ranges, or the union of every compared run), never each run's own.
 */
export function normalizedHypervolume(
  points: readonly (readonly number[])[],
  goals: readonly Goal[],
  bounds: NormalizationBounds,
  referencePoint: readonly number[] = goals.map(() => NORMALIZED_REFERENCE),
): number {
  if (referencePoint.length !== goals.length) {
    throw new RangeError(
      `normalizedHypervolume: reference has ${referencePoint.length} coordinates, expected ${goals.length}`,
    );
  }
  return hypervolume(normalizeObjectives(points, goals, bounds), referencePoint);
}

/**
 * Replaces the flagged objectives by their base-10 logarithm. Hardware costs (energy, latency, area, EDAP)
 * span orders of magnitude and improve multiplicatively; normalized linearly, one extreme design squeezes
 * the rest of the front against the ideal and the hypervolume stops discriminating. On a log scale, halving
 * the energy counts the same wherever it happens. Compute the normalization bounds on the transformed
 * points too. Flagged values must be positive.
 */
export function logScaleObjectives(
  points: readonly (readonly number[])[],
  logScaled: readonly boolean[],
): number[][] {
  return points.map((point) =>
    point.map((value, i) => {
      if (!logScaled[i]) return value;
      if (!(value > 0))
        throw new RangeError(`logScaleObjectives: objective ${i} must be positive, got ${value}`);
      return Math.log10(value);
    }),
  );
}
