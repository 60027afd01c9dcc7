/**
 * Each stage draws its own Monte-Carlo chips (stage 2's search chips, stage 3's selection chips, stage 4's
 * final test chips), and stages 3 and 4 headline the accuracy at robustness.reportAt while keeping every
 * drift time's numbers.
 */
import { validateConfig } from '../../config/load';
import { sampleSeed } from '../../evaluator/simulator';
import { accuracyStats } from '../../evaluator/statistics';
import type { RobustnessResult } from '../../evaluator/types';
import { chipSeed, summarize } from '../../tasks/chipEvaluation';
import { searchChipSeed } from '../../tasks/searchRobustness';

const config = validateConfig({ name: 'seeds', seed: 7, robustness: { driftSeconds: [1, 3600, 86400] } });

describe('noisy chips per stage', () => {
  it('stage 4 tests on chips drawn from seeds independent of stage 3 and of the search', () => {
    for (const key of ['2222020002001301', '0021322322120301']) {
      const chips = (seed: number) => Array.from({ length: 20 }, (_, i) => sampleSeed(seed, i));
      const robustness = chips(chipSeed(config, 'robustness', key));
      const final = chips(chipSeed(config, 'final', key));
      const search = chips(searchChipSeed(config, key));
      expect(new Set([...robustness, ...final, ...search]).size).toBe(60);
      // Still a pure function of (run seed, design): a rerun draws the same chips.
      expect(chipSeed(config, 'final', key)).toBe(chipSeed({ ...config }, 'final', key));
    }
    expect(chipSeed(config, 'final', 'a')).not.toBe(chipSeed({ ...config, seed: 8 }, 'final', 'a'));
  });

  it('headlines the accuracy at robustness.reportAt (default the longest drift time) and keeps every time', () => {
    const at = (timeS: number, accuracies: number[]) => ({
      timeS,
      accuracy: accuracyStats(accuracies),
      accuracies,
    });
    const result: RobustnessResult = {
      candidateId: 'k',
      evaluator: 'simulator',
      samples: 3,
      sampleSeeds: [1, 2, 3],
      noiseFreeAccuracy: 0.9,
      points: [at(1, [0.88, 0.87, 0.89]), at(3600, [0.8, 0.78, 0.82]), at(86400, [0.7, 0.6, 0.65])],
      metrics: { wallSeconds: 1, imagesEvaluated: 1, cells: 1, meanStuckCells: 0, calibrationImages: 1 },
    };
    const longest = summarize('k', 0.9, result, config);
    expect(longest.reportAtSeconds).toBe(86400);
    expect(longest.accuracyMean).toBeCloseTo(0.65, 10);
    expect(longest.accuracyMin).toBe(0.6);
    expect(longest.drift.map((d) => d.seconds)).toEqual([1, 3600, 86400]);
    expect(longest.drift[0]!.accuracyMean).toBeCloseTo(0.88, 10);

    const chosen = summarize('k', 0.9, result, {
      robustness: { ...config.robustness, reportAt: 3600 },
    });
    expect(chosen.reportAtSeconds).toBe(3600);
    expect(chosen.accuracyMean).toBeCloseTo(0.8, 10);
    expect(() => summarize('k', 0.9, { ...result, points: result.points.slice(0, 1) }, config)).toThrow(
      /no accuracy at robustness.reportAt = 86400 s/,
    );
  });
});
