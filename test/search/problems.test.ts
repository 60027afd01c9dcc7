import { hypervolume, normalizedHypervolume } from '../../search/hypervolume';
import { dtlz2 } from '../../search/problems/dtlz';
import { OSY_BOUNDS, osy } from '../../search/problems/osy';
import { ZDT3_PIECES, zdt3, zdt3PiecesReached } from '../../search/problems/zdt';

describe('ZDT3 pieces', () => {
  it('are the f1 ranges of the non-dominated parts of the curve', () => {
    const front = zdt3(30).trueFront(5000);
    // Split the dense front where f1 jumps (the gaps between pieces are ≥ 0.1 wide).
    const pieces: Array<[number, number]> = [];
    let start = front[0][0];
    for (let i = 1; i <= front.length; i++) {
      if (i === front.length || front[i][0] - front[i - 1][0] > 0.01) {
        pieces.push([start, front[i - 1][0]]);
        if (i < front.length) start = front[i][0];
      }
    }
    expect(pieces).toHaveLength(5);
    pieces.forEach(([low, high], k) => {
      expect(Math.abs(low - ZDT3_PIECES[k][0])).toBeLessThan(1e-4);
      expect(Math.abs(high - ZDT3_PIECES[k][1])).toBeLessThan(1e-4);
    });
  });

  it('counts a piece as reached only by a point within its f1 range ± the tolerance', () => {
    expect(zdt3PiecesReached(zdt3(30).trueFront(200))).toEqual([true, true, true, true, true]);
    // Just beyond the last piece's end (a point with g > 1) counts; a point in the gap does not.
    expect(zdt3PiecesReached([[0.86, -0.7]])).toEqual([false, false, false, false, true]);
    expect(zdt3PiecesReached([[0.7, 0]])).toEqual([false, false, false, false, false]);
  });
});

describe('DTLZ2', () => {
  it('matches pymoo/problems/many/dtlz.py on a point and puts g = 0 points on the unit sphere', () => {
    const problem = dtlz2(3, 12);
    expect(problem.genes).toHaveLength(12);
    // pymoo 0.6.2: DTLZ2(n_var=12, n_obj=3).evaluate([0.3, 0.8] + [0.6] * 10)
    const { objectives } = problem.evaluate([0.3, 0.8, ...new Array<number>(10).fill(0.6)]);
    [0.30286977388047415, 0.9321373169799267, 0.49938954971350136].forEach((value, i) =>
      expect(objectives[i]).toBeCloseTo(value, 12),
    );
    for (const point of problem.trueFront(100)) {
      expect(Math.hypot(...point)).toBeCloseTo(1, 12);
    }
    // The dense front's hypervolume approaches the exact 1.1³ − π/6 from below.
    const value = hypervolume(problem.trueFront(10_000), [1.1, 1.1, 1.1]);
    expect(value).toBeLessThan(1.1 ** 3 - Math.PI / 6);
    expect(value).toBeGreaterThan(1.1 ** 3 - Math.PI / 6 - 0.01);
  });
});

describe('OSY', () => {
  it('matches pymoo/problems/multi/osy.py on objectives and scaled constraint violation', () => {
    const problem = osy();
    // pymoo 0.6.2: F = (−32, 59), CV = 1/6 + 1/2 + 1/2 (g2, g5 and g6 violated).
    const infeasible = problem.evaluate([3, 4, 2, 5, 2, 1]);
    expect(infeasible.objectives).toEqual([-32, 59]);
    expect(infeasible.constraintViolation).toBeCloseTo(7 / 6, 12);
    expect(problem.evaluate([1, 1, 1, 0, 1, 0])).toEqual({ objectives: [-42, 4], constraintViolation: 0 });
    expect(problem.evaluate([5, 1, 5, 0, 5, 0])).toEqual({ objectives: [-274, 76], constraintViolation: 0 });
  });

  it('has a front spanning its stated bounds', () => {
    const problem = osy();
    const front = problem.trueFront(500);
    expect(Math.min(...front.map((p) => p[0]))).toBe(OSY_BOUNDS.ideal[0]);
    expect(Math.max(...front.map((p) => p[0]))).toBe(OSY_BOUNDS.nadir[0]);
    expect(Math.min(...front.map((p) => p[1]))).toBe(OSY_BOUNDS.ideal[1]);
    expect(Math.max(...front.map((p) => p[1]))).toBe(OSY_BOUNDS.nadir[1]);
    const value = normalizedHypervolume(front, ['min', 'min'], OSY_BOUNDS);
    expect(value).toBeGreaterThan(0.9);
    expect(value).toBeLessThan(1.21);
  });
});
