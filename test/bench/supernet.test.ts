import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  benchConfig,
  booleanFromEnv,
  kendallTauB,
  positiveIntegerFromEnv,
  standaloneFromFile,
  unitIntervalFromEnv,
} from '../../bench/supernet';
import { samplePaths } from '../../bench/supernetSeed';
import { pathKey } from '../../models/supernet';
import { describeCandidate } from '../../search/space/keys';
import { resolveSearchSpace } from '../../search/space/parse';

describe('kendallTauB', () => {
  it('is 1 for the same order, -1 for the reverse, and ignores the scale', () => {
    expect(kendallTauB([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTauB([1, 2, 3, 4], [0.4, 0.3, 0.2, 0.1])).toBe(-1);
  });

  it('counts one swapped pair of four as (5 - 1) / 6', () => {
    expect(kendallTauB([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 12);
  });

  it('corrects for ties (τ-b)', () => {
    // Pairs: (0,1) tie in a only, (0,2) (1,2) concordant: 2 / √(3 · 2).
    expect(kendallTauB([1, 1, 2], [1, 2, 3])).toBeCloseTo(2 / Math.sqrt(6), 12);
  });
});

describe('positiveIntegerFromEnv', () => {
  it('takes the fallback when unset or empty and the value when set', () => {
    expect(positiveIntegerFromEnv('X', 5, {})).toBe(5);
    expect(positiveIntegerFromEnv('X', 5, { X: '' })).toBe(5);
    expect(positiveIntegerFromEnv('X', 5, { X: '12' })).toBe(12);
  });

  it('rejects anything but a positive integer, naming the variable', () => {
    for (const bad of ['0', '-3', '2.5', 'ten']) {
      expect(() =>
        positiveIntegerFromEnv('IMCNAS_BENCH_SUPERNET_PATHS', 20, { IMCNAS_BENCH_SUPERNET_PATHS: bad }),
      ).toThrow(/IMCNAS_BENCH_SUPERNET_PATHS must be a positive integer/);
    }
  });
});

describe('benchConfig', () => {
  it('defaults to 20 paths, 2 seeds and one standalone epoch', () => {
    const config = benchConfig({});
    expect(config.sampledPaths).toBe(20);
    expect(config.supernetSeeds).toEqual([7, 8]);
    expect(config.standaloneEpochs).toBe(1);
    // The recipe: in-place distillation, no extra largest-path steps (the largest path trains every step).
    expect(config.inPlaceDistillation).toBe(true);
    expect(config.largestPathShare).toBe(0);
    expect(config.sandwichSmallestPath).toBe(false);
    expect(config.lowBitRangeClipping).toBe(false);
    const variant = benchConfig({
      IMCNAS_BENCH_SUPERNET_SMALLEST_PATH: '1',
      IMCNAS_BENCH_SUPERNET_LOW_BIT_CLIPPING: '1',
    });
    expect(variant.sandwichSmallestPath).toBe(true);
    expect(variant.lowBitRangeClipping).toBe(true);
  });

  it('reads the budgets from the environment', () => {
    const config = benchConfig({
      IMCNAS_BENCH_SUPERNET_SEEDS: '3',
      IMCNAS_BENCH_SUPERNET_TRAIN_IMAGES: '1000',
      IMCNAS_BENCH_SUPERNET_EPOCHS: '2',
    });
    expect(config.supernetSeeds).toEqual([7, 8, 9]);
    expect(config.dataset.trainSubset).toBe(1000);
    expect(config.epochs).toBe(2);
  });
});

describe('samplePaths', () => {
  const space = resolveSearchSpace({ network: { stem: { stride: 2 } } });

  it('is a pure function of the seed', () => {
    expect(samplePaths(space, 7, 5).map(pathKey)).toEqual(samplePaths(space, 7, 5).map(pathKey));
  });

  it('gives each seed its own sample of distinct paths', () => {
    const a = samplePaths(space, 7, 20).map(pathKey);
    const b = samplePaths(space, 8, 20).map(pathKey);
    expect(new Set(a).size).toBe(20);
    expect(a.filter((key) => b.includes(key))).toEqual([]);
  });
});

describe('unitIntervalFromEnv', () => {
  it('accepts [0, 1] and names the variable otherwise', () => {
    expect(unitIntervalFromEnv('S', 0.6, {})).toBe(0.6);
    expect(unitIntervalFromEnv('S', 0.6, { S: '0' })).toBe(0);
    expect(() => unitIntervalFromEnv('S', 0.6, { S: '1.5' })).toThrow(/S must be a number in \[0, 1\]/);
  });
});

describe('booleanFromEnv', () => {
  it('accepts 1/0 and true/false and names the variable otherwise', () => {
    expect(booleanFromEnv('D', true, {})).toBe(true);
    expect(booleanFromEnv('D', true, { D: '0' })).toBe(false);
    expect(booleanFromEnv('D', false, { D: 'true' })).toBe(true);
    expect(() => booleanFromEnv('D', true, { D: 'yes' })).toThrow(/D must be 1 or 0/);
  });
});

describe('standaloneFromFile', () => {
  const space = resolveSearchSpace({ network: { stem: { stride: 2 } } });
  const config = benchConfig({});
  const seeds = config.supernetSeeds.map((seed) => ({ seed, sampled: samplePaths(space, seed, 3) }));
  const write = async (results: Record<string, unknown>) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-supernet-bench-'));
    const file = path.join(dir, 'supernet.json');
    await fs.writeFile(file, JSON.stringify(results));
    return file;
  };
  const previous = (overrides: Record<string, unknown> = {}) => ({
    config: JSON.stringify({ ...config, ...overrides }),
    ...Object.fromEntries(
      seeds.map(({ seed, sampled }) => [
        `pairs_inherited_standalone_seed_${seed}`,
        JSON.stringify(
          sampled.map((candidate, i) => [describeCandidate(candidate).split(' | ')[0], 0.1, seed + i / 10]),
        ),
      ]),
    ),
  });

  it("returns a previous run's standalone accuracies of the same paths, per seed", async () => {
    const file = await write(previous({ largestPathShare: 0 }));
    expect(await standaloneFromFile(file, config, seeds)).toEqual([
      [7, 7.1, 7.2],
      [8, 8.1, 8.2],
    ]);
  });

  it('refuses trainings of another recipe or another path sample', async () => {
    const otherEpochs = await write(previous({ standaloneEpochs: 2 }));
    await expect(standaloneFromFile(otherEpochs, config, seeds)).rejects.toThrow(/standaloneEpochs 2/);
    const otherPaths = await write(previous());
    const shifted = seeds.map(({ seed, sampled }) => ({ seed, sampled: [...sampled].reverse() }));
    await expect(standaloneFromFile(otherPaths, config, shifted)).rejects.toThrow(/seed 7 path 0/);
  });

  it('refuses standalone trainings of another activation-range rule (files before it: the running max)', async () => {
    const clipping = benchConfig({ IMCNAS_BENCH_SUPERNET_LOW_BIT_CLIPPING: '1' });
    const { lowBitRangeClipping: _absent, ...withoutField } = config;
    const old = await write({ ...previous(), config: JSON.stringify(withoutField) });
    expect(await standaloneFromFile(old, config, seeds)).toHaveLength(2);
    await expect(standaloneFromFile(old, clipping, seeds)).rejects.toThrow(/lowBitRangeClipping false/);
  });
});
