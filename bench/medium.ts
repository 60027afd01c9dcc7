/**
 * `npm run bench -- medium` (issue #16): examples/medium.yaml — the search a researcher runs overnight on a
 * laptop — end to end through the whole product (real dev server, in-process workers, all four stages),
 * timed from start to result.
 *
 * Figures: `wall_s` (target ≤ 3,600 on the 2-core reference machine), each stage's seconds (`<stage>_s`,
 * from the progress query polled every 10 s), the retrained winner's `final_test_acc_digital`,
 * `final_test_acc_mean` (target ≥ 0.92), `final_test_acc_p5` and `final_test_acc_std` over `chips` noisy
 * chips, `test_images` (10,000: the whole test set), the winner's design, and `targets_met`.
 *
 * The search runs on task queues of its own (`temporal.taskQueuePrefix` bench-medium) and writes under an
 * artifact root of its own (IMCNAS_BENCH_MEDIUM_ROOT, default a new directory under os.tmpdir(), printed),
 * so other workers on the same dev server never take its tasks. Run it on an otherwise idle machine: the
 * wall time is the figure.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SearchProgress, SearchResult } from '../contracts';
import { loadConfigFile, validateConfig } from '../config/load';
import type { RunConfig } from '../config/schema';
import { startSearch } from '../client/searches';
import { stageTimer, withInProcessWorkers } from './inProcessSearch';
import type { BenchFigures } from './run';

export const MEDIUM_TASK_QUEUE_PREFIX = 'bench-medium';
const TARGET_WALL_S = 3600;
const TARGET_NOISY_MEAN = 0.92;

const round = (value: number | undefined) => (value === undefined ? null : Number(value.toFixed(4)));

/** medium.yaml on the bench's own queues and artifact root. */
export function mediumConfig(base: RunConfig, artifactsRoot: string): RunConfig {
  return validateConfig({
    ...base,
    artifacts: { ...base.artifacts, root: artifactsRoot },
    temporal: { ...base.temporal, taskQueuePrefix: MEDIUM_TASK_QUEUE_PREFIX },
  });
}

export async function run(): Promise<BenchFigures> {
  const base = await loadConfigFile(path.join(__dirname, '..', 'examples', 'medium.yaml'));
  const artifactsRoot =
    process.env.IMCNAS_BENCH_MEDIUM_ROOT ??
    (await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-bench-medium-')));
  const config = mediumConfig(base, artifactsRoot);
  console.error(
    `[bench] medium: artifacts under ${artifactsRoot}, task queues ${MEDIUM_TASK_QUEUE_PREFIX}-*`,
  );
  return withInProcessWorkers(config, MEDIUM_TASK_QUEUE_PREFIX, async (client) => {
    const started = Date.now();
    const search = await startSearch(client, config, { searchId: `bench-medium-${started.toString(36)}` });
    const handle = client.workflow.getHandle(search.workflowId);
    const timer = stageTimer(() => handle.query<SearchProgress>('progress'));
    let result: SearchResult;
    let stageSeconds: Record<string, number>;
    try {
      result = (await handle.result()) as SearchResult;
    } finally {
      stageSeconds = timer.stop();
    }
    const wall = (Date.now() - started) / 1000;
    const final = result.finals[0];
    const description = final
      ? result.front.find((member) => member.key === final.key)?.description
      : undefined;
    const figures: BenchFigures = {
      config: 'examples/medium.yaml',
      search_id: result.searchId,
      artifacts_root: artifactsRoot,
      wall_s: wall,
      design: final?.key ?? null,
      network: description?.network ?? null,
      chip: description?.chip ?? null,
      final_test_acc_digital: round(final?.testAccuracyDigital),
      final_test_acc_mean: round(final?.testAccuracyMean),
      final_test_acc_std: round(final?.testAccuracyStd),
      final_test_acc_p5: round(final?.testAccuracyP5),
      chips: final?.samples ?? null,
      test_images: config.retrain.testImages,
      edap: final?.hardware.edap ?? null,
    };
    for (const [stage, seconds] of Object.entries(stageSeconds)) figures[`${stage}_s`] = seconds;
    figures.targets_met =
      wall <= TARGET_WALL_S &&
      final !== undefined &&
      final.testAccuracyMean >= TARGET_NOISY_MEAN &&
      config.retrain.testImages === 10_000;
    return figures;
  });
}
