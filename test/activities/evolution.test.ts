/**
 * Stage-2 bookkeeping over several generations on a real objective (the hardware cost model: EDAP and
 * area): state round-trips through the run directory, every step is idempotent, and a failed candidate is
 * told back as infeasible.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { proposeGeneration, tellGeneration } from '../../activities/evolution';
import type { CandidateResult } from '../../contracts';
import { validateConfig } from '../../config/load';
import { hardwareMetrics, judge, needsRobustMetrics } from '../../search/evolution';
import { parseGenomeKey } from '../../search/space/keys';
import { resolveSearchSpace } from '../../search/space/parse';

const config = validateConfig({
  name: 'evo',
  seed: 11,
  objectives: [{ metric: 'edap' }, { metric: 'area' }],
  evolution: { population: 8, generations: 3 },
});

function measure(keys: string[]): CandidateResult[] {
  const space = resolveSearchSpace(config.space);
  return keys.map((key) => ({
    key,
    metrics: { accuracy: 0, ...hardwareMetrics(space, parseGenomeKey(key)) },
  }));
}

describe('generation bookkeeping', () => {
  let runDir: string;
  beforeEach(async () => {
    runDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-evo-'));
  });
  afterEach(async () => {
    await fs.rm(runDir, { recursive: true, force: true });
  });

  it('proposes, is told, and continues from the stored state; repeated calls return stored results', async () => {
    const seen = new Set<string>();
    let lastFrontEdap = Infinity;
    for (let generation = 0; generation < 3; generation++) {
      const proposal = await proposeGeneration({ runDir, generation, config });
      expect(await proposeGeneration({ runDir, generation, config })).toEqual(proposal);
      expect(proposal.candidates).toHaveLength(8);
      for (const { key } of proposal.candidates) {
        expect(seen.has(key)).toBe(false); // never evaluated twice
        seen.add(key);
      }
      const results = measure(proposal.candidates.map((c) => c.key));
      const summary = await tellGeneration({ runDir, generation, config, results });
      expect(await tellGeneration({ runDir, generation, config, results: [] })).toEqual(summary);
      expect(summary.evaluations).toBe(8 * (generation + 1));
      expect(summary.front.length).toBeGreaterThan(0);
      for (const member of summary.front) {
        expect(member.description?.network).toMatch(/\//);
        expect(member.description?.chip).toMatch(/ nm, \d+×\d+, /);
      }
      expect(summary.bestEdap!).toBeLessThanOrEqual(lastFrontEdap); // elitism: the best never gets worse
      lastFrontEdap = summary.bestEdap!;
    }
  });

  it('tells a candidate without results back as infeasible', async () => {
    const proposal = await proposeGeneration({ runDir, generation: 0, config });
    const results = measure(proposal.candidates.slice(1).map((c) => c.key));
    const summary = await tellGeneration({ runDir, generation: 0, config, results });
    expect(summary.failed).toBe(1);
    expect(summary.front.map((m) => m.key)).not.toContain(proposal.candidates[0].key);
  });

  it('keeps a candidate below a robust-accuracy budget off the front, and counts a missing one as a violation', async () => {
    const robustConfig = validateConfig({
      name: 'evo-robust',
      seed: 11,
      objectives: [{ metric: 'robustAccuracyMean' }, { metric: 'edap' }],
      constraints: { robustAccuracyP5: { min: 0.8 } },
      evolution: { population: 8 },
    });
    expect(needsRobustMetrics(robustConfig.objectives, robustConfig.constraints)).toBe(true);
    expect(needsRobustMetrics(config.objectives, { robustAccuracyMean: { min: 0.5 } })).toBe(true);
    expect(needsRobustMetrics(config.objectives, config.constraints)).toBe(false);
    const proposal = await proposeGeneration({ runDir, generation: 0, config: robustConfig });
    const measured = measure(proposal.candidates.map((c) => c.key));
    // Every candidate is more robust on average than the first, but only the first clears the P5 budget.
    const results = measured.map((result, i) => ({
      ...result,
      metrics: {
        ...result.metrics,
        robustAccuracyMean: i === 0 ? 0.82 : 0.9,
        robustAccuracyP5: i === 0 ? 0.81 : 0.6,
      },
    }));
    const summary = await tellGeneration({ runDir, generation: 0, config: robustConfig, results });
    expect(summary.front.map((m) => m.key)).toEqual([proposal.candidates[0]!.key]);

    const judged = judge(results[1]!.metrics, robustConfig.objectives, robustConfig.constraints);
    expect(judged.constraintViolation).toBeCloseTo(1 - 0.6 / 0.8, 10);
    expect(judged.objectives[0]).toBe(0.9);
    const { robustAccuracyP5: _missing, ...withoutP5 } = results[1]!.metrics;
    expect(judge(withoutP5, robustConfig.objectives, robustConfig.constraints).constraintViolation).toBe(1);
  });

  it('searches on chipAccuracy: its constraint keeps ADC-ruined designs off the front, its best is reported', async () => {
    const chipConfig = validateConfig({
      name: 'evo-chip',
      seed: 12,
      objectives: [{ metric: 'chipAccuracy' }, { metric: 'edap' }],
      constraints: { chipAccuracy: { min: 0.7 } },
      evolution: { population: 8 },
    });
    const proposal = await proposeGeneration({ runDir, generation: 0, config: chipConfig });
    // Only the first two clear the budget on the noise-free chip, whatever their digital accuracy.
    const results = measure(proposal.candidates.map((c) => c.key)).map((result, i) => ({
      ...result,
      metrics: { ...result.metrics, accuracy: 0.9, chipAccuracy: i === 0 ? 0.8 : i === 1 ? 0.75 : 0.4 },
    }));
    const summary = await tellGeneration({ runDir, generation: 0, config: chipConfig, results });
    const feasible = [proposal.candidates[0]!.key, proposal.candidates[1]!.key];
    expect(summary.front.length).toBeGreaterThan(0);
    for (const member of summary.front) expect(feasible).toContain(member.key);
    expect(summary.bestAccuracy).toBe(0.8);
  });

  it('produces the same proposals from the same seed', async () => {
    const other = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-evo-'));
    const a = await proposeGeneration({ runDir, generation: 0, config });
    const b = await proposeGeneration({ runDir: other, generation: 0, config });
    expect(b).toEqual(a);
    await fs.rm(other, { recursive: true, force: true });
  });
});
