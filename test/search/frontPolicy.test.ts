import { validateConfig } from '../../config/load';
import { hardwareCostOf, winnersForRetraining, type FrontEntry } from '../../search/frontPolicy';

const front: FrontEntry[] = [
  { key: 'big', genome: [0], objectives: [0.9, 5e-7, 2] },
  { key: 'mid', genome: [1], objectives: [0.88, 3e-9, 9] },
  { key: 'small', genome: [2], objectives: [0.8, 1e-10, 12] },
];
const robust = [
  { key: 'big', accuracyMean: 0.903 },
  { key: 'mid', accuracyMean: 0.895 },
  { key: 'small', accuracyMean: 0.41 },
];

describe('winnersForRetraining', () => {
  const costOf = hardwareCostOf(front, [{ metric: 'accuracy' }, { metric: 'edap' }]);

  it('takes the highest noisy accuracy by default', () => {
    expect(winnersForRetraining(robust, 2).map((d) => d.key)).toEqual(['big', 'mid']);
  });

  it('cheapest-near-best takes the cheapest design within the tolerance, then the rest by accuracy', () => {
    const policy = { choose: 'cheapest-near-best' as const, accuracyTolerance: 0.01, costOf };
    expect(winnersForRetraining(robust, 1, policy).map((d) => d.key)).toEqual(['mid']);
    expect(winnersForRetraining(robust, 3, policy).map((d) => d.key)).toEqual(['mid', 'big', 'small']);
    // A tolerance too tight for 'mid' (0.8 points below) leaves the most accurate one.
    const tight = { ...policy, accuracyTolerance: 0.005 };
    expect(winnersForRetraining(robust, 1, tight).map((d) => d.key)).toEqual(['big']);
  });

  it('ranks on the first hardware objective, negating a maximized one', () => {
    const withTops = front.map((m) => ({
      ...m,
      objectives: [m.objectives[0]!, m.objectives[2]!, m.objectives[1]!],
    }));
    const costs = hardwareCostOf(withTops, [{ metric: 'robustAccuracyMean' }, { metric: 'topsPerWatt' }]);
    // TOPS/W is maximized: the cost is its negative, so the most efficient design is the cheapest.
    expect(costs?.('mid')).toBe(-9);
    expect(costs?.('small')).toBe(-12);
    expect(hardwareCostOf(front, [{ metric: 'accuracy' }, { metric: 'robustAccuracyP5' }])).toBeUndefined();
  });
});

describe('retrain.choose in the configuration', () => {
  it('refuses cheapest-near-best when no objective measures hardware, naming the field and the fix', () => {
    expect(() =>
      validateConfig({
        name: 'x',
        objectives: [{ metric: 'accuracy' }, { metric: 'robustAccuracyMean' }],
        retrain: { choose: 'cheapest-near-best' },
      }),
    ).toThrow(
      /retrain\.choose: cheapest-near-best .* add one \(e\.g\. \{ metric: edap \}\) or use most-accurate/,
    );
  });

  it('keeps older configurations unchanged (no choose: most-accurate)', () => {
    expect(validateConfig({ name: 'x' }).retrain.choose).toBeUndefined();
  });
});
