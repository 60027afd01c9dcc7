/**
 * Robust objectives end to end on the real dev server: a tiny search whose first objective is the mean
 * accuracy on noisy chips and whose constraint is a 5th-percentile budget runs all four stages; every
 * stage-2 candidate carries the robust metrics it was searched on; stages 3 and 4 headline the longest
 * drift time and keep every time's numbers; stage 4 tests on chips stage 3 never used.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SearchResult } from '../../contracts';
import type { StoredEvaluation } from '../../tasks/candidateEvaluation';
import { createHarness, startNasSearch, TINY, type Harness } from './harness';

jest.setTimeout(300_000);

describe('a search on robust objectives, on the real Temporal dev server', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness('robust');
    await harness.startWorkers();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('computes robustAccuracyMean/P5 in stage 2 and reports stages 3 and 4 at robustness.reportAt', async () => {
    const input = harness.input('robust-e2e', {
      ...TINY,
      objectives: [{ metric: 'robustAccuracyMean' }, { metric: 'edap' }],
      constraints: { robustAccuracyP5: { min: 0.05 } },
      evolution: { ...TINY.evolution, robustSamples: 2, robustImages: 100 },
      robustness: { ...TINY.robustness, driftSeconds: [1, 3600] },
    });
    const handle = await startNasSearch(harness, input);
    const result = (await handle.result()) as SearchResult;
    expect(result.objectives).toEqual(['robustAccuracyMean', 'edap']);
    expect(result.evaluations).toBe(4);
    expect(result.front.length).toBeGreaterThan(0);

    const evaluations = path.join(input.runDir, 'search', 'gen-0000', 'evaluations');
    const files = await fs.readdir(evaluations);
    expect(files).toHaveLength(4);
    for (const file of files) {
      const stored = JSON.parse(await fs.readFile(path.join(evaluations, file), 'utf8')) as StoredEvaluation;
      expect(stored.robust!.accuracies).toHaveLength(2);
      expect(stored.robust!.driftSeconds).toBe(3600);
      expect(stored.metrics.robustAccuracyMean).toBeGreaterThanOrEqual(0);
      expect(stored.metrics.robustAccuracyP5!).toBeLessThanOrEqual(stored.metrics.robustAccuracyMean!);
    }

    const [robust] = result.robust;
    expect(robust!.reportAtSeconds).toBe(3600);
    expect(robust!.drift.map((point) => point.seconds)).toEqual([1, 3600]);
    expect(robust!.accuracyMean).toBe(robust!.drift[1]!.accuracyMean);
    const [final] = result.finals;
    expect(final!.reportAtSeconds).toBe(3600);
    expect(final!.testDrift.map((point) => point.seconds)).toEqual([1, 3600]);
    expect(final!.testAccuracyMean).toBe(final!.testDrift[1]!.accuracyMean);

    // Stage 4's chips are not stage 3's.
    const seedsOf = async (file: string) =>
      (JSON.parse(await fs.readFile(file, 'utf8')) as { raw: { sampleSeeds: number[] } }).raw.sampleSeeds;
    expect(final!.key).toBe(robust!.key);
    const stage3 = await seedsOf(path.join(input.runDir, 'robust', `${robust!.key}.json`));
    const stage4 = await seedsOf(path.join(input.runDir, 'final', final!.key, 'final.json'));
    expect(stage3).toHaveLength(2);
    expect(stage4).toHaveLength(2);
    for (const seed of stage4) expect(stage3).not.toContain(seed);
  });
});
