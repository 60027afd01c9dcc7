import * as path from 'node:path';
import { BENCH_TASK_QUEUE_PREFIX, variationConfig } from '../../bench/variation';
import { loadConfigFile } from '../../config/load';

const QUICK = path.join(__dirname, '..', '..', 'examples', 'quick.yaml');

describe('variationConfig', () => {
  it('runs both searches on quick.yaml with the same seed and budget, NVM devices only, on queues and a root of their own', async () => {
    const base = await loadConfigFile(QUICK);
    const accuracyOnly = variationConfig(base, false, '/tmp/variation-root');
    const robust = variationConfig(base, true, '/tmp/variation-root');
    for (const config of [accuracyOnly, robust]) {
      expect(config.seed).toBe(base.seed);
      expect(config.dataset).toEqual(base.dataset);
      // quick.yaml's space with the non-volatile devices only (NACIM's space: no variation-free SRAM).
      expect(config.space).toEqual({
        ...base.space,
        hardware: { ...base.space.hardware, devices: ['rram', 'pcm', 'fefet'] },
      });
      expect(config.baseline).toBeUndefined();
      expect(config.supernet).toEqual(base.supernet);
      expect(config.evolution.population).toBe(8);
      expect(config.evolution.generations).toBe(8);
      expect(config.robustness.topK).toBe(1);
      expect(config.robustness.samples).toBe(10);
      expect(config.retrain.count).toBe(1);
      expect(config.retrain.epochs).toBe(base.retrain.epochs);
      expect(config.retrain.testImages).toBe(10_000);
      expect(config.temporal.taskQueuePrefix).toBe(BENCH_TASK_QUEUE_PREFIX);
      expect(config.temporal.taskQueuePrefix).not.toBe(base.temporal.taskQueuePrefix);
      expect(config.artifacts.root).toBe('/tmp/variation-root');
    }
    expect(accuracyOnly.objectives.map((objective) => objective.metric)).toEqual(['accuracy', 'edap']);
    expect(robust.objectives.map((objective) => objective.metric)).toEqual(['robustAccuracyMean', 'edap']);
    expect(robust.evolution.robustModel).toBe('chip');
    expect(accuracyOnly.name).not.toBe(robust.name);
  });
});
