/**
 * The ZDT test problems (Zitzler, Deb & Thiele, "Comparison of multiobjective evolutionary algorithms:
 * empirical results", Evolutionary Computation 8(2), 2000): two minimized objectives over n real variables
 * in [0, 1], with analytically known Pareto fronts (reached when x2..xn = 0, so g = 1). imcnas uses them to
 * check that its NSGA-II really converges and spreads before trusting it on chip design.
 */
import type { Evaluation, GeneSpec, ObjectiveSpec } from '../optimizer';

export interface TestProblem {
  name: string;
  genes: GeneSpec[];
  objectives: ObjectiveSpec[];
  evaluate(genome: readonly number[]): Evaluation;
  /** A dense sample of the true Pareto front (minimization objectives). */
  trueFront(points: number): number[][];
}

const MINIMIZE_BOTH: ObjectiveSpec[] = [
  { name: 'f1', goal: 'min' },
  { name: 'f2', goal: 'min' },
];

function realGenes(variables: number): GeneSpec[] {
  return Array.from({ length: variables }, (_, i) => ({ kind: 'real', min: 0, max: 1, name: `x${i + 1}` }));
}

/** g(x) = 1 + 9·Σ_{i≥2} x_i / (n − 1), shared by ZDT1–3. */
function zdtG(x: readonly number[]): number {
  let sum = 0;
  for (let i = 1; i < x.length; i++) sum += x[i];
  return 1 + (9 * sum) / (x.length - 1);
}

function zdt(
  name: string,
  variables: number,
  h: (f1: number, g: number) => number,
  front: (f1: number) => number,
  frontF1: (t: number) => number,
): TestProblem {
  if (!Number.isInteger(variables) || variables < 2) throw new RangeError(`${name}: needs ≥ 2 variables`);
  return {
    name,
    genes: realGenes(variables),
    objectives: MINIMIZE_BOTH,
    evaluate(x) {
      const f1 = x[0];
      const g = zdtG(x);
      return { objectives: [f1, g * h(f1, g)], constraintViolation: 0 };
    },
    trueFront(points) {
      return Array.from({ length: points }, (_, i) => {
        const f1 = frontF1(points === 1 ? 0 : i / (points - 1));
        return [f1, front(f1)];
      });
    },
  };
}

/** ZDT1: convex front f2 = 1 − √f1. Hypervolume of the true front w.r.t. (1.1, 1.1): 0.1 + 2/3 + 0.11. */
export function zdt1(variables = 30): TestProblem {
  return zdt(
    'zdt1',
    variables,
    (f1, g) => 1 - Math.sqrt(f1 / g),
    (f1) => 1 - Math.sqrt(f1),
    (t) => t,
  );
}

/** ZDT2: non-convex front f2 = 1 − f1². */
export function zdt2(variables = 30): TestProblem {
  return zdt(
    'zdt2',
    variables,
    (f1, g) => 1 - (f1 / g) ** 2,
    (f1) => 1 - f1 * f1,
    (t) => t,
  );
}

/**
 * ZDT3: disconnected front f2 = 1 − √f1 − f1·sin(10πf1), restricted to the non-dominated pieces; `trueFront`
 * samples the curve densely and keeps its non-dominated points.
 */
export function zdt3(variables = 30): TestProblem {
  const curve = (f1: number): number => 1 - Math.sqrt(f1) - f1 * Math.sin(10 * Math.PI * f1);
  const problem = zdt(
    'zdt3',
    variables,
    (f1, g) => 1 - Math.sqrt(f1 / g) - (f1 / g) * Math.sin(10 * Math.PI * f1),
    curve,
    (t) => t,
  );
  return {
    ...problem,
    trueFront(points) {
      const dense = problem.trueFront(points * 20);
      const kept: number[][] = [];
      let lowest = Infinity;
      for (const point of dense) {
        if (point[1] < lowest) {
          kept.push(point);
          lowest = point[1];
        }
      }
      return kept;
    },
  };
}

/** Exact hypervolume of the ZDT1 true front with respect to (1.1, 1.1): ∫₀¹ (0.1 + √f1) df1 + 0.1 · 1.1. */
export const ZDT1_TRUE_HYPERVOLUME = 0.1 + 2 / 3 + 0.11;

/**
 * The f1 ranges of ZDT3's five Pareto-optimal pieces: the non-dominated parts of its curve, as `trueFront`
 * finds them by dense sampling, to the digits pymoo/problems/multi/zdt.py (`ZDT3._calc_pareto_front`) lists.
 * The last piece, f1 ∈ [0.8233, 0.8518], holds the lowest f2 and is the one a search loses first when
 * its population drifts off it.
 */
export const ZDT3_PIECES: ReadonlyArray<readonly [number, number]> = [
  [0, 0.0830015349],
  [0.182228728, 0.2577623634],
  [0.4093136748, 0.4538821041],
  [0.6183967944, 0.6525117038],
  [0.8233317983, 0.8518328654],
];

/**
 * Which of ZDT3's pieces a set of objective vectors reaches: piece k counts as reached when some point has
 * f1 within `ZDT3_PIECES[k]` widened by `tolerance` on both sides (a point not quite on the front, g > 1,
 * sits just beyond a piece's end; the gaps between pieces are ≥ 0.1 wide).
 */
export function zdt3PiecesReached(points: readonly (readonly number[])[], tolerance = 0.01): boolean[] {
  return ZDT3_PIECES.map(([low, high]) =>
    points.some((point) => point[0] >= low - tolerance && point[0] <= high + tolerance),
  );
}
