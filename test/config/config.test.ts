import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile, validateConfig } from '../../config/load';
import { reportAtSeconds, searchDriftSeconds } from '../../config/schema';
import { ConfigError } from '../../common/validation';

function problemsOf(value: unknown): string[] {
  try {
    validateConfig(value);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('run configuration', () => {
  it('fills defaults for a minimal config', () => {
    const config = validateConfig({ name: 'quick' });
    expect(config.seed).toBe(1);
    expect(config.dataset.name).toBe('fashion-mnist');
    expect(config.supernet.batchSize).toBe(64);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
  });

  it('lists every problem with its path, the rule and the value given', () => {
    const problems = problemsOf({
      name: 'bad name!',
      seed: -3,
      supernet: { epoch: 3, batchSize: 0 },
      dataset: { name: 'cifar' },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: must be 1–60 letters/),
        'seed: must be ≥ 0, got -3',
        'supernet.epoch: unknown field (did you mean "epochs"?)',
        'supernet.batchSize: must be ≥ 1, got 0',
        expect.stringMatching(/^dataset\.name: must be one of "fashion-mnist", "idx"; got "cifar"/),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('validates the search space, objectives and stage budgets with their paths', () => {
    const problems = problemsOf({
      name: 'x',
      space: { hardware: { adcBits: [4, 16] } },
      objectives: [{ metric: 'edap', goal: 'max' }, { metric: 'speed' }],
      evolution: { population: -5 },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^space\.hardware\.adcBits\[1\]: .*16/),
        'objectives[0].goal: edap is always minimized; set goal: min or omit it',
        expect.stringMatching(/^objectives\[1\]\.metric: must be one of "accuracy"/),
        'evolution.population: must be ≥ 4, got -5',
      ]),
    );
  });

  it('checks chip-noise overrides field by field and names a misspelt one', () => {
    const problems = problemsOf({
      name: 'x',
      robustness: { noise: { programmingScale: -1, readNoisScale: 2, model: 'rram' } },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'robustness.noise.programmingScale: must be ≥ 0, got -1',
        'robustness.noise.readNoisScale: unknown field (did you mean "readNoiseScale"?)',
        expect.stringMatching(/^robustness\.noise\.model: must be one of "device"/),
      ]),
    );
    expect(problems).toHaveLength(3);
    const config = validateConfig({ name: 'x', robustness: { noise: { driftCompensation: false } } });
    expect(config.robustness.noise).toEqual({ driftCompensation: false });
    expect(config.retrain.noiseModel).toBe('device');
    expect(config.retrain.trainImages).toBeUndefined();
  });

  it('checks the robust-search settings and reportAt, and defaults reportAt to the longest drift time', () => {
    expect(
      problemsOf({
        name: 'x',
        robustness: { driftSeconds: [1, 3600], reportAt: 60 },
        evolution: { robustModel: 'spice', robustSamples: 0 },
        constraints: { robustAccuracyP5: { min: 1.5 } },
      }),
    ).toEqual(
      expect.arrayContaining([
        'robustness.reportAt: must be one of driftSeconds (1, 3600), got 60',
        expect.stringMatching(/^evolution\.robustModel: must be one of "chip", "weight"/),
        'evolution.robustSamples: must be ≥ 1, got 0',
        'constraints.robustAccuracyP5.min: must be ≤ 1, got 1.5',
      ]),
    );
    const config = validateConfig({ name: 'x', robustness: { driftSeconds: [3600, 1, 86400] } });
    expect(reportAtSeconds(config)).toBe(86400);
    expect(searchDriftSeconds(config)).toBe(86400);
    expect(config.evolution).toMatchObject({ robustSamples: 3, robustImages: 200, robustModel: 'chip' });
    const chosen = validateConfig({
      name: 'x',
      robustness: { driftSeconds: [1, 3600], reportAt: 1 },
      evolution: { robustDriftSeconds: 3600 },
    });
    expect(reportAtSeconds(chosen)).toBe(1);
    expect(searchDriftSeconds(chosen)).toBe(3600);
  });

  it('checks gradient shards and processes against the batch size, naming the fix', () => {
    const config = validateConfig({ name: 'q' });
    expect(config.supernet.gradientShards).toBeUndefined();
    expect(config.supernet.processes).toBeUndefined();
    expect(problemsOf({ name: 'q', supernet: { batchSize: 64, gradientShards: 2, processes: 2 } })).toEqual(
      [],
    );
    expect(
      problemsOf({ name: 'q', supernet: { batchSize: 64, gradientShards: 4, processes: 'auto' } }),
    ).toEqual([]);
    const problems = problemsOf({
      name: 'q',
      supernet: { batchSize: 64, gradientShards: 3 },
      retrain: { batchSize: 64, gradientShards: 2, processes: 4 },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^supernet\.gradientShards: batchSize 64 does not split into 3 .*multiple of gradientShards/,
        ),
        expect.stringMatching(
          /^retrain\.processes: 4 processes need at least as many gradient shards.*raise gradientShards/,
        ),
      ]),
    );
    expect(problemsOf({ name: 'q', supernet: { gradientShards: 0 } })).toEqual([
      expect.stringMatching(/^supernet\.gradientShards: must be ≥ 1/),
    ]);
  });

  it('requires dataset.dir for an IDX dataset', () => {
    expect(problemsOf({ name: 'x', dataset: { name: 'idx' } })).toEqual([
      expect.stringMatching(/^dataset\.dir: required when dataset\.name is "idx"/),
    ]);
  });

  it('accepts the smallest path in the sandwich only with in-place distillation', () => {
    expect(problemsOf({ name: 'x', supernet: { sandwichSmallestPath: true } })).toEqual([]);
    expect(
      problemsOf({ name: 'x', supernet: { sandwichSmallestPath: true, inPlaceDistillation: true } }),
    ).toEqual([]);
    expect(
      problemsOf({ name: 'x', supernet: { sandwichSmallestPath: true, inPlaceDistillation: false } }),
    ).toEqual([expect.stringMatching(/^supernet\.sandwichSmallestPath: .*needs inPlaceDistillation/)]);
  });

  it('reads YAML files and names unreadable or malformed ones', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-config-'));
    const good = path.join(dir, 'good.yaml');
    await fs.writeFile(good, 'name: demo\nsupernet:\n  epochs: 2\n');
    expect((await loadConfigFile(good)).supernet.epochs).toBe(2);
    const bad = path.join(dir, 'bad.yaml');
    await fs.writeFile(bad, 'name: [unclosed\n');
    await expect(loadConfigFile(bad)).rejects.toThrow(/bad\.yaml: not valid YAML/);
    await expect(loadConfigFile(path.join(dir, 'missing.yaml'))).rejects.toThrow(
      /missing\.yaml: cannot read \(ENOENT\)/,
    );
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('shipped example configurations', () => {
  it.each(['quick.yaml', 'medium.yaml', 'full.yaml'])('examples/%s validates', async (file) => {
    const config = await loadConfigFile(path.join(__dirname, '..', '..', 'examples', file));
    expect(config.name).toBe(file.replace('.yaml', ''));
  });
});
