/**
 * NSGA-II's ranking (Deb, Pratap, Agarwal & Meyarivan, IEEE TEVC 6(2), 2002): fast non-dominated sorting
 * with constraint domination (§VI), crowding distance, and (μ+λ) survivor selection. Pure functions over
 * minimization objectives, used by search/nsga2.ts, the tests and the reports.
 */
/** What ranking needs to know about a candidate: minimization objectives and total constraint violation. */
export interface RankedInput {
  objectives: readonly number[];
  violation: number;
}

/**
 * Constraint domination (Deb et al. 2002, §VI-A): a dominates b when a is feasible and b is not, or both are
 * infeasible and a violates less, or both are feasible and a Pareto-dominates b.
 */
export function constrainedDominates(a: RankedInput, b: RankedInput): boolean {
  const aFeasible = a.violation <= 0;
  const bFeasible = b.violation <= 0;
  if (aFeasible !== bFeasible) return aFeasible;
  if (!aFeasible) return a.violation < b.violation;
  let strictlyBetter = false;
  for (let i = 0; i < a.objectives.length; i++) {
    if (a.objectives[i] > b.objectives[i]) return false;
    if (a.objectives[i] < b.objectives[i]) strictlyBetter = true;
  }
  return strictlyBetter;
}

/**
 * Fast non-dominated sorting (Deb et al. 2002, §III-A), O(M·N²): for each candidate, count who dominates it
 * and list whom it dominates; front 1 is the zero-count candidates, peeling it off yields front 2, and so on.
 * Returns fronts as lists of indices into `items`, each in increasing index order.
 */
export function fastNonDominatedSort(items: readonly RankedInput[]): number[][] {
  const count = items.length;
  const dominatedBy = new Array<number>(count).fill(0);
  const dominatesList: number[][] = Array.from({ length: count }, () => []);
  for (let p = 0; p < count; p++) {
    for (let q = p + 1; q < count; q++) {
      if (constrainedDominates(items[p], items[q])) {
        dominatesList[p].push(q);
        dominatedBy[q]++;
      } else if (constrainedDominates(items[q], items[p])) {
        dominatesList[q].push(p);
        dominatedBy[p]++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let p = 0; p < count; p++) if (dominatedBy[p] === 0) current.push(p);
  while (current.length > 0) {
    fronts.push(current);
    const next: number[] = [];
    for (const p of current) {
      for (const q of dominatesList[p]) {
        if (--dominatedBy[q] === 0) next.push(q);
      }
    }
    current = next.sort((a, b) => a - b);
  }
  return fronts;
}

/**
 * Crowding distance of the members of one front (Deb et al. 2002, §III-B): per objective, sort the front,
 * give the two extremes infinite distance, and add to every interior member the normalized gap between its
 * two neighbours. Returned in the order of `front`. Objectives that are constant over the front, or not
 * finite (an infeasible candidate that was never measured), add nothing.
 */
export function crowdingDistances(front: readonly RankedInput[]): number[] {
  const size = front.length;
  const distances = new Array<number>(size).fill(0);
  if (size === 0) return distances;
  const objectiveCount = front[0].objectives.length;
  for (let m = 0; m < objectiveCount; m++) {
    const order = Array.from({ length: size }, (_, i) => i).filter((i) =>
      Number.isFinite(front[i].objectives[m]),
    );
    if (order.length === 0) continue;
    // Ties broken by position so the result never depends on the sort implementation.
    order.sort((a, b) => front[a].objectives[m] - front[b].objectives[m] || a - b);
    const low = front[order[0]].objectives[m];
    const high = front[order[order.length - 1]].objectives[m];
    distances[order[0]] = Infinity;
    distances[order[order.length - 1]] = Infinity;
    const span = high - low;
    if (span === 0) continue;
    for (let k = 1; k < order.length - 1; k++) {
      distances[order[k]] += (front[order[k + 1]].objectives[m] - front[order[k - 1]].objectives[m]) / span;
    }
  }
  return distances;
}

/** Rank (0 = first front) and crowding distance of every item. */
export function rankAndCrowd(items: readonly RankedInput[]): { rank: number[]; crowding: number[] } {
  const rank = new Array<number>(items.length).fill(0);
  const crowding = new Array<number>(items.length).fill(0);
  fastNonDominatedSort(items).forEach((front, frontIndex) => {
    const distances = crowdingDistances(front.map((i) => items[i]));
    front.forEach((itemIndex, k) => {
      rank[itemIndex] = frontIndex;
      crowding[itemIndex] = distances[k];
    });
  });
  return { rank, crowding };
}

/**
 * Elitist survival (Deb et al. 2002, §III-C): fill the next population front by front; the front that does
 * not fit is truncated by decreasing crowding distance (ties by position). Returns the survivors' indices.
 */
export function selectSurvivors(items: readonly RankedInput[], survivorCount: number): number[] {
  const survivors: number[] = [];
  for (const front of fastNonDominatedSort(items)) {
    if (survivors.length + front.length <= survivorCount) {
      survivors.push(...front);
      if (survivors.length === survivorCount) break;
      continue;
    }
    const distances = crowdingDistances(front.map((i) => items[i]));
    const byCrowding = front.map((itemIndex, k) => ({ itemIndex, distance: distances[k], k }));
    byCrowding.sort((a, b) => compareDistanceDescending(a.distance, b.distance) || a.k - b.k);
    for (const { itemIndex } of byCrowding.slice(0, survivorCount - survivors.length))
      survivors.push(itemIndex);
    break;
  }
  return survivors;
}

function compareDistanceDescending(a: number, b: number): number {
  if (a === b) return 0;
  return a > b ? -1 : 1;
}
