/** The found design against the hand-designed baselines: ratios, differences and the printed lines. */
import type { BaselineResult, FinalModelResult } from '../../contracts';
import { describeBaselines, resultsBaselines } from '../../report/baselines';

const hardware = (edap: number) => ({
  accuracy: 0.9,
  energy: 1e-6,
  latency: 1e-3,
  area: 1,
  edap,
  edp: 1e-9,
  topsPerWatt: 10,
  topsPerMm2: 1,
  capacityExcess: 0,
});
const final: FinalModelResult = {
  key: '2222020002001301',
  testAccuracyDigital: 0.91,
  testAccuracyMean: 0.9,
  testAccuracyStd: 0.003,
  testAccuracyP5: 0.895,
  reportAtSeconds: 3600,
  testDrift: [],
  samples: 5,
  exportDir: 'final/2222020002001301/model',
  hardware: hardware(2e-9),
};
const vgg: BaselineResult = {
  ...final,
  key: 'baseline-vgg',
  name: 'vgg',
  description: 'vgg: conv3/32@w8a8 … | rram 22nm 128×128',
  testAccuracyDigital: 0.92,
  testAccuracyMean: 0.885,
  exportDir: 'baseline/vgg/model',
  hardware: hardware(3e-8),
};

describe('baseline comparison', () => {
  it('compares every baseline with stage 4 first retrained design: EDAP baseline / found, accuracy found − baseline', () => {
    const [entry] = resultsBaselines([final], [vgg]);
    expect(entry!.name).toBe('vgg');
    expect(entry!.versus!.searchedKey).toBe('2222020002001301');
    expect(entry!.versus!.edapRatio).toBeCloseTo(15, 12);
    expect(entry!.versus!.noisyAccuracyDifference).toBeCloseTo(0.015, 12);
    expect(entry!.versus!.digitalAccuracyDifference).toBeCloseTo(-0.01, 12);
    // No retrained design (a search stopped before stage 4): the baseline stands alone.
    expect(resultsBaselines([], [vgg])[0]!.versus).toBeNull();
  });

  it('prints the comparison for the CLI and the demo', () => {
    const lines = describeBaselines([final], [vgg]);
    expect(lines[0]).toMatch(/Hand-designed baselines/);
    expect(lines.join('\n')).toContain('found design 2222020002001301: EDAP 15.0× lower');
    expect(lines.join('\n')).toContain('noisy mean +1.50 points');
    const costlier = describeBaselines([{ ...final, hardware: hardware(6e-7) }], [vgg]).join('\n');
    expect(costlier).toContain('EDAP 20.0× higher (baseline / found = 0.0500)');
    expect(describeBaselines([final], [])).toEqual([]);
  });
});
