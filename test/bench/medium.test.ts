import * as path from 'node:path';
import { MEDIUM_TASK_QUEUE_PREFIX, mediumConfig } from '../../bench/medium';
import { loadConfigFile } from '../../config/load';

const MEDIUM = path.join(__dirname, '..', '..', 'examples', 'medium.yaml');

describe('mediumConfig', () => {
  it("runs examples/medium.yaml as written, on the bench's own queues and artifact root", async () => {
    const base = await loadConfigFile(MEDIUM);
    const config = mediumConfig(base, '/tmp/medium-root');
    expect({ ...config, artifacts: base.artifacts, temporal: base.temporal }).toEqual(base);
    expect(config.temporal.taskQueuePrefix).toBe(MEDIUM_TASK_QUEUE_PREFIX);
    expect(config.temporal.taskQueuePrefix).not.toBe(base.temporal.taskQueuePrefix);
    expect(config.artifacts.root).toBe('/tmp/medium-root');
  });

  it('is the search issue #16 asks for: a stride-1 stem, the whole test set', async () => {
    const config = await loadConfigFile(MEDIUM);
    expect(config.space.network.stem.stride).toBe(1);
    expect(config.retrain.testImages).toBe(10_000);
    expect(config.retrain.trainImages).toBeUndefined();
  });
});
