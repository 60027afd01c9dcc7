import { frontForRobustness, type FrontEntry } from '../../search/frontPolicy';

// Five designs on a front, first objective 10…50.
const front: FrontEntry[] = [10, 20, 30, 40, 50].map((value) => ({
  key: `d${value}`,
  genome: [value],
  objectives: [value, -value],
}));

describe('frontForRobustness direction', () => {
  it('takes the first objective’s natural direction from OBJECTIVE_METRICS, not from its name', () => {
    // topsPerWatt is maximized and energy minimized; neither name says so.
    expect(frontForRobustness(front, [{ metric: 'topsPerWatt' }], 1)).toEqual([{ key: 'd50', genome: [50] }]);
    expect(frontForRobustness(front, [{ metric: 'energy' }], 1)).toEqual([{ key: 'd10', genome: [10] }]);
  });

  it('lets a configured goal override the natural direction', () => {
    expect(frontForRobustness(front, [{ metric: 'energy', goal: 'max' }], 1)).toEqual([
      { key: 'd50', genome: [50] },
    ]);
  });

  it('spreads the picks along the front from the best end', () => {
    expect(frontForRobustness(front, [{ metric: 'latency' }], 3).map((d) => d.key)).toEqual([
      'd10',
      'd30',
      'd50',
    ]);
  });
});
