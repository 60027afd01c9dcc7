import { Rng } from '../../common/rng';
import {
  NORMALIZED_REFERENCE,
  boundsOf,
  logScaleObjectives,
  hypervolume,
  nonDominated,
  normalizeObjectives,
  normalizedHypervolume,
} from '../../search/hypervolume';
import { ZDT1_TRUE_HYPERVOLUME, zdt1 } from '../../search/problems/zdt';

/**
 * Exact hypervolume by inclusion–exclusion over every subset of points: the volume of a union of boxes
 * anchored at the reference point is Σ over non-empty subsets of (−1)^(|S|+1) · volume(∩S), and the
 * intersection of such boxes is the box of their component-wise maximum. Exponential, but independent of
 * the algorithms under test, hence a trustworthy oracle for small sets.
 */
function inclusionExclusion(points: number[][], reference: number[]): number {
  const inside = points.filter((p) => p.every((v, i) => v < reference[i]));
  let total = 0;
  for (let mask = 1; mask < 1 << inside.length; mask++) {
    const corner = reference.map(() => -Infinity);
    let members = 0;
    inside.forEach((point, i) => {
      if (mask & (1 << i)) {
        members++;
        point.forEach((v, d) => (corner[d] = Math.max(corner[d], v)));
      }
    });
    const volume = corner.reduce((product, v, d) => product * (reference[d] - v), 1);
    total += members % 2 === 1 ? volume : -volume;
  }
  return total;
}

describe('hypervolume, hand-built fronts', () => {
  it('2 objectives: a three-step staircase is 3 + 2 + 1', () => {
    // Strips: (4−1)·(4−3) + (4−2)·(3−2) + (4−3)·(2−1) = 6.
    expect(
      hypervolume(
        [
          [1, 3],
          [2, 2],
          [3, 1],
        ],
        [4, 4],
      ),
    ).toBeCloseTo(6, 12);
    // A dominated point, a duplicate and a point beyond the reference change nothing.
    expect(
      hypervolume(
        [
          [1, 3],
          [2, 2],
          [3, 1],
          [3, 3],
          [2, 2],
          [5, 0],
        ],
        [4, 4],
      ),
    ).toBeCloseTo(6, 12);
    // A point on the reference boundary bounds no volume.
    expect(hypervolume([[4, 1]], [4, 4])).toBe(0);
    expect(hypervolume([], [4, 4])).toBe(0);
  });

  it('3 objectives: three cyclic points give 18 − 6 + 1 = 13', () => {
    // Boxes of volume 6 each; each pairwise intersection 2; the triple intersection (3,3,3) is 1.
    expect(
      hypervolume(
        [
          [1, 2, 3],
          [2, 3, 1],
          [3, 1, 2],
        ],
        [4, 4, 4],
      ),
    ).toBeCloseTo(13, 12);
    expect(hypervolume([[0, 0, 0]], [1, 2, 3])).toBeCloseTo(6, 12);
    // Two points that tie in the third objective and one that dominates part of the sweep.
    expect(
      hypervolume(
        [
          [1, 1, 2],
          [2, 0, 2],
          [0, 3, 1],
        ],
        [3, 4, 3],
      ),
    ).toBeCloseTo(
      inclusionExclusion(
        [
          [1, 1, 2],
          [2, 0, 2],
          [0, 3, 1],
        ],
        [3, 4, 3],
      ),
      12,
    );
  });

  it('4 objectives: four cyclic points give 96 − 32 + 8 − 1 = 71', () => {
    // Each box has volume 4·3·2·1 = 24. Pairwise intersections: neighbours in the cycle 6 (four pairs),
    // opposite points 4 (two pairs) → 32; every triple 2 → 8; all four: the box of (4,4,4,4) = 1.
    const front = [
      [1, 2, 3, 4],
      [2, 3, 4, 1],
      [3, 4, 1, 2],
      [4, 1, 2, 3],
    ];
    expect(hypervolume(front, [5, 5, 5, 5])).toBeCloseTo(71, 12);
  });

  it('1 objective is the distance from the best point to the reference', () => {
    expect(hypervolume([[3], [1], [2]], [5])).toBe(4);
  });

  it('rejects points of the wrong dimension', () => {
    expect(() => hypervolume([[1, 2, 3]], [4, 4])).toThrow(/3 objectives, expected 2/);
  });
});

describe('hypervolume agrees with inclusion–exclusion on random sets', () => {
  it.each([2, 3, 4, 5, 6])('%i objectives', (dims) => {
    const rng = new Rng(1000 + dims);
    for (let trial = 0; trial < 40; trial++) {
      const count = 1 + rng.int(9);
      // Coarse values create ties in every coordinate, the cases sweeps most often get wrong.
      const coarse = trial % 2 === 0;
      const points = Array.from({ length: count }, () =>
        Array.from({ length: dims }, () => (coarse ? rng.int(5) : rng.next() * 4)),
      );
      const reference = Array.from({ length: dims }, () => 4.5);
      const exact = inclusionExclusion(points, reference);
      expect(hypervolume(points, reference)).toBeCloseTo(exact, 9);
    }
  });

  it('points on a simplex (all mutually non-dominated) in 3, 4 and 5 objectives', () => {
    const rng = new Rng(77);
    for (const dims of [3, 4, 5]) {
      const points = Array.from({ length: 10 }, () => {
        const raw = Array.from({ length: dims }, () => rng.next());
        const sum = raw.reduce((a, b) => a + b, 0);
        return raw.map((v) => v / sum);
      });
      const reference = Array.from({ length: dims }, () => 1);
      expect(nonDominated(points)).toHaveLength(10);
      expect(hypervolume(points, reference)).toBeCloseTo(inclusionExclusion(points, reference), 9);
    }
  });
});

describe('hypervolume is consistent across dimensions on large sets', () => {
  // A constant extra objective multiplies the volume by its distance to the reference: this checks the
  // 3-D sweep against the 2-D one and WFG against the 3-D sweep on sets too large for inclusion–exclusion.
  it.each([2, 3, 4])('%i objectives plus a constant one', (dims) => {
    const rng = new Rng(500 + dims);
    const points = Array.from({ length: 300 }, () => Array.from({ length: dims }, () => rng.next()));
    const reference = Array.from({ length: dims }, () => 1.1);
    const lower = hypervolume(points, reference);
    const lifted = hypervolume(
      points.map((p) => [...p, 0.25]),
      [...reference, 2],
    );
    expect(lower).toBeGreaterThan(0);
    expect(lifted).toBeCloseTo(lower * 1.75, 9);
  });
});

describe('hypervolume of the ZDT1 front', () => {
  it('converges to 0.1 + 2/3 + 0.11 for a dense sample of the true front', () => {
    const front = zdt1().trueFront(20001);
    const value = hypervolume(front, [1.1, 1.1]);
    expect(ZDT1_TRUE_HYPERVOLUME).toBeCloseTo(0.876667, 6);
    // A staircase through n front points undershoots the curve by O(1/n).
    expect(value).toBeLessThan(ZDT1_TRUE_HYPERVOLUME);
    expect(value).toBeGreaterThan(ZDT1_TRUE_HYPERVOLUME - 1e-4);
  });
});

describe('nonDominated', () => {
  it('keeps mutually non-dominated points once, in input order', () => {
    expect(
      nonDominated([
        [2, 2],
        [1, 3],
        [2, 2],
        [3, 3],
        [3, 1],
      ]),
    ).toEqual([
      [2, 2],
      [1, 3],
      [3, 1],
    ]);
  });
});

describe('normalized hypervolume', () => {
  const goals = ['max', 'min'] as const;
  const bounds = { ideal: [1.0, 1], nadir: [0.5, 3] }; // accuracy (max), energy (min)

  it('maps the ideal to 0 and the nadir to 1 whatever the direction', () => {
    expect(
      normalizeObjectives(
        [
          [1.0, 1],
          [0.5, 3],
          [0.75, 2],
        ],
        [...goals],
        bounds,
      ),
    ).toEqual([
      [0, 0],
      [1, 1],
      [0.5, 0.5],
    ]);
  });

  it('is 1.1^m for the ideal point and 0.1^m for the nadir with the stated reference point', () => {
    expect(NORMALIZED_REFERENCE).toBe(1.1);
    expect(normalizedHypervolume([[1.0, 1]], [...goals], bounds)).toBeCloseTo(1.21, 12);
    expect(normalizedHypervolume([[0.5, 3]], [...goals], bounds)).toBeCloseTo(0.01, 12);
    // An explicit reference point.
    expect(normalizedHypervolume([[0.75, 2]], [...goals], bounds, [1, 1])).toBeCloseTo(0.25, 12);
  });

  it('boundsOf takes the best and worst value per objective', () => {
    expect(
      boundsOf(
        [
          [0.9, 2],
          [0.6, 1.5],
          [0.8, 4],
        ],
        [...goals],
      ),
    ).toEqual({ ideal: [0.9, 1.5], nadir: [0.6, 4] });
  });
});

describe('logScaleObjectives', () => {
  it('takes log10 of the flagged objectives only', () => {
    expect(logScaleObjectives([[0.9, 1e-6, 100]], [false, true, true])).toEqual([[0.9, -6, 2]]);
    expect(() => logScaleObjectives([[0.9, 0]], [false, true])).toThrow(/positive/);
  });
});
