/**
 * DTLZ2 (Deb, Thiele, Laumanns & Zitzler, "Scalable test problems for evolutionary multiobjective
 * optimization", in Evolutionary Multiobjective Optimization, Springer 2005): M minimized objectives over
 * n = M + k − 1 real variables in [0, 1]; the Pareto front is the positive octant of the unit sphere,
 * reached when the last k variables are 0.5 (g = 0). imcnas uses it as its three-objective check of NSGA-II
 * against pymoo (bench/nsga2.ts). The objective order follows pymoo/problems/many/dtlz.py (`obj_func`), so
 * fronts from both can be scored with one reference point.
 */
import type { TestProblem } from './zdt';

/**
 * DTLZ2 with `objectives` objectives and `variables` variables (default 3 and 12: k = 10, as in the paper).
 * Hypervolume of the true front w.r.t. (r, …, r) for r ≥ 1: r^M − (volume of the unit ball's octant), e.g.
 * 1.1³ − π/6 for M = 3.
 */
export function dtlz2(objectives = 3, variables = objectives + 9): TestProblem {
  if (!Number.isInteger(objectives) || objectives < 2) throw new RangeError('dtlz2: needs ≥ 2 objectives');
  if (!Number.isInteger(variables) || variables < objectives)
    throw new RangeError(`dtlz2: needs ≥ ${objectives} variables`);
  const positionCount = objectives - 1;
  const spherePoint = (angles: readonly number[], radius: number): number[] =>
    Array.from({ length: objectives }, (_, i) => {
      // f_i = r · Π_{j < M−1−i} cos(θ_j) · (i > 0 ? sin(θ_{M−1−i}) : 1), θ_j = x_j·π/2
      let value = radius;
      for (let j = 0; j < positionCount - i; j++) value *= Math.cos((angles[j] * Math.PI) / 2);
      if (i > 0) value *= Math.sin((angles[positionCount - i] * Math.PI) / 2);
      return value;
    });
  return {
    name: 'dtlz2',
    genes: Array.from({ length: variables }, (_, i) => ({ kind: 'real', min: 0, max: 1, name: `x${i + 1}` })),
    objectives: Array.from({ length: objectives }, (_, i) => ({ name: `f${i + 1}`, goal: 'min' })),
    evaluate(x) {
      let g = 0;
      for (let i = positionCount; i < x.length; i++) g += (x[i] - 0.5) ** 2;
      return { objectives: spherePoint(x, 1 + g), constraintViolation: 0 };
    },
    trueFront(points) {
      // A grid over the position variables (points per axis = ⌈points^(1/(M−1))⌉).
      const perAxis = Math.max(2, Math.ceil(Math.pow(points, 1 / positionCount)));
      const front: number[][] = [];
      const angles = new Array<number>(positionCount).fill(0);
      const visit = (axis: number): void => {
        if (axis === positionCount) {
          front.push(spherePoint(angles, 1));
          return;
        }
        for (let step = 0; step < perAxis; step++) {
          angles[axis] = step / (perAxis - 1);
          visit(axis + 1);
        }
      };
      visit(0);
      return front;
    },
  };
}
