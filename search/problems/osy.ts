/**
 * OSY (Osyczka & Kundu, "A new method to solve generalized multicriteria optimization problems using the
 * simple genetic algorithm", Structural Optimization 10(2), 1995; as stated in Deb, "Multi-Objective
 * Optimization using Evolutionary Algorithms", Wiley 2001, and Deb et al. 2002 §VI): two minimized objectives
 * over six bounded real variables with six inequality constraints. Its Pareto front is five pieces that lie
 * on different constraint boundaries, so a search must move along constraint surfaces to cover it. imcnas
 * uses it as the constrained check of NSGA-II against pymoo (bench/nsga2.ts).
 *
 * Constraint violation is scaled as pymoo/problems/multi/osy.py scales it (each g_i divided by its constant,
 * summed over violated constraints, pymoo/core/individual.py `calc_cv`), so both implementations compare the
 * same numbers in their tournaments.
 */
import { nonDominated } from '../hypervolume';
import type { TestProblem } from './zdt';

const LOWER = [0, 0, 1, 0, 1, 0];
const UPPER = [10, 10, 5, 6, 5, 10];

function objectives(x: readonly number[]): number[] {
  const f1 = -(25 * (x[0] - 2) ** 2 + (x[1] - 2) ** 2 + (x[2] - 1) ** 2 + (x[3] - 4) ** 2 + (x[4] - 1) ** 2);
  const f2 = x.reduce((sum, value) => sum + value * value, 0);
  return [f1, f2];
}

/** Constraints in "≥ 0 is satisfied" form, each divided by its constant. */
function constraints(x: readonly number[]): number[] {
  return [
    (x[0] + x[1] - 2) / 2,
    (6 - x[0] - x[1]) / 6,
    (2 - x[1] + x[0]) / 2,
    (2 - x[0] + 3 * x[1]) / 2,
    (4 - (x[2] - 3) ** 2 - x[3]) / 4,
    ((x[4] - 3) ** 2 + x[5] - 4) / 4,
  ];
}

export function osy(): TestProblem {
  return {
    name: 'osy',
    genes: LOWER.map((min, i) => ({ kind: 'real', min, max: UPPER[i], name: `x${i + 1}` })),
    objectives: [
      { name: 'f1', goal: 'min' },
      { name: 'f2', goal: 'min' },
    ],
    evaluate(x) {
      const violation = constraints(x).reduce((sum, value) => sum + Math.max(0, -value), 0);
      return { objectives: objectives(x), constraintViolation: violation };
    },
    trueFront(points) {
      // The five pieces of the front (Deb 2001, §8.3, Table for OSY): x4 = x6 = 0 throughout.
      const per = Math.max(2, Math.ceil(points / 5));
      const along = (from: number, to: number): number[] =>
        Array.from({ length: per }, (_, i) => from + ((to - from) * i) / (per - 1));
      const candidates: number[][] = [
        ...along(1, 5).map((x3) => [5, 1, x3, 0, 5, 0]),
        ...along(1, 5).map((x3) => [5, 1, x3, 0, 1, 0]),
        ...along(4.056, 5).map((x1) => [x1, (x1 - 2) / 3, 1, 0, 1, 0]),
        ...along(1, 3.732).map((x3) => [0, 2, x3, 0, 1, 0]),
        ...along(0, 1).map((x1) => [x1, 2 - x1, 1, 0, 1, 0]),
      ];
      return nonDominated(candidates.map(objectives));
    },
  };
}

/**
 * Ideal and nadir of OSY's front (f1 from −274 at x = (5, 1, 5, 0, 5, 0) to −42 at (1, 1, 1, 0, 1, 0) … see
 * `trueFront`), for a normalized hypervolume that does not depend on any run.
 */
export const OSY_BOUNDS = { ideal: [-274, 4], nadir: [-42, 76] };
