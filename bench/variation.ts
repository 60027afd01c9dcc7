/**
 * `npm run bench -- variation`: NACIM's experiment (Jiang et al., "Device-circuit-architecture co-exploration
 * for computing-in-memory neural accelerators", IEEE TC 2020) on Fashion-MNIST. Two searches on
 * examples/quick.yaml with the same seed and budget, run through the whole product (real dev server,
 * in-process workers, all four stages):
 *
 * - accuracy-only: objectives [accuracy, edap], blind to device variation;
 * - robust: objectives [robustAccuracyMean, edap], every candidate read on its own noisy chips in stage 2
 *   (evolution.robustModel, default 'chip': the same simulator as stages 3 and 4).
 *
 * Each search hands exactly one design to stages 3 and 4 (robustness.topK 1: the front's best by its first
 * objective), so the winner is what the search itself preferred, not what a noisy stage 3 rescued. The
 * winner is retrained (the same recipe for both) and tested on `chips` fresh noisy chips (seeds no earlier
 * stage used) on all 10,000 test images, at robustness.reportAt.
 *
 * Figures: acc_only_digital, acc_only_noisy_mean, acc_only_noisy_p5, acc_only_drop (digital − noisy mean,
 * in accuracy points as a fraction), the same for robust_*, each winner's design and EDAP. NACIM's claim, the
 * target here: the robust winner loses ≤ 0.005 while the accuracy-only winner loses more.
 *
 *   IMCNAS_BENCH_VARIATION_CHIPS (default 10), IMCNAS_BENCH_VARIATION_TEST_IMAGES (default 10000),
 *   IMCNAS_BENCH_VARIATION_ROBUST_MODEL (chip | weight, default chip).
 */
import * as path from 'node:path';
import type { SearchResult } from '../contracts';
import { loadConfigFile, validateConfig } from '../config/load';
import type { RunConfig } from '../config/schema';
import { clientSettingsFor, connectClient, startSearch } from '../client/searches';
import { installJsonLogging } from '../client/logging';
import { setup } from '../scripts/setup';
import { runInProcessWorkers } from '../worker';
import type { BenchFigures } from './run';

const CHIPS = Number(process.env.IMCNAS_BENCH_VARIATION_CHIPS ?? 10);
const TEST_IMAGES = Number(process.env.IMCNAS_BENCH_VARIATION_TEST_IMAGES ?? 10_000);
const ROBUST_MODEL = process.env.IMCNAS_BENCH_VARIATION_ROBUST_MODEL ?? 'chip';

const round = (value: number | null | undefined, digits = 4) =>
  value === null || value === undefined ? null : Number(value.toFixed(digits));

/** quick.yaml with the experiment's settings; `robust` puts the noisy accuracy first among the objectives. */
export function variationConfig(base: RunConfig, robust: boolean): RunConfig {
  return validateConfig({
    ...base,
    name: robust ? 'variation-robust' : 'variation-accuracy',
    objectives: [{ metric: robust ? 'robustAccuracyMean' : 'accuracy' }, { metric: 'edap' }],
    evolution: { ...base.evolution, ...(robust ? { robustModel: ROBUST_MODEL } : {}) },
    robustness: { ...base.robustness, topK: 1, samples: CHIPS },
    retrain: { ...base.retrain, count: 1, testImages: TEST_IMAGES },
  });
}

function figures(prefix: string, result: SearchResult): BenchFigures {
  const final = result.finals[0];
  const front = new Map(result.front.map((member) => [member.key, member.description]));
  const description = final ? front.get(final.key) : undefined;
  return {
    [`${prefix}_search_id`]: result.searchId,
    [`${prefix}_design`]: final?.key ?? null,
    [`${prefix}_network`]: description?.network ?? null,
    [`${prefix}_chip`]: description?.chip ?? null,
    [`${prefix}_digital`]: round(final?.testAccuracyDigital),
    [`${prefix}_noisy_mean`]: round(final?.testAccuracyMean),
    [`${prefix}_noisy_std`]: round(final?.testAccuracyStd),
    [`${prefix}_noisy_p5`]: round(final?.testAccuracyP5),
    [`${prefix}_drop`]: final ? round(final.testAccuracyDigital - final.testAccuracyMean) : null,
    [`${prefix}_chips`]: final?.samples ?? null,
    [`${prefix}_edap`]: final?.hardware.edap ?? null,
  };
}

export async function run(): Promise<BenchFigures> {
  installJsonLogging('WARN');
  const base = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const configs = { acc_only: variationConfig(base, false), robust: variationConfig(base, true) };
  const settings = clientSettingsFor(base);
  await setup({ address: settings.address });
  const workers = await runInProcessWorkers(settings, base.temporal.taskQueuePrefix);
  const client = await connectClient(settings);
  const out: BenchFigures = {
    config: 'examples/quick.yaml',
    robust_model: ROBUST_MODEL,
    test_images: TEST_IMAGES,
  };
  try {
    const tag = Date.now().toString(36);
    for (const [prefix, config] of Object.entries(configs)) {
      const started = Date.now();
      const search = await startSearch(client, config, { searchId: `bench-${config.name}-${tag}` });
      const result = (await client.workflow.getHandle(search.workflowId).result()) as SearchResult;
      Object.assign(out, figures(prefix, result), { [`${prefix}_wall_s`]: (Date.now() - started) / 1000 });
      console.error(`[bench] variation: ${prefix} done: ${JSON.stringify(figures(prefix, result))}`);
    }
  } finally {
    await workers.stop();
    await client.connection.close();
  }
  const accDrop = out.acc_only_drop;
  const robustDrop = out.robust_drop;
  out.robust_loses_at_most_half_point = typeof robustDrop === 'number' ? robustDrop <= 0.005 : null;
  out.robust_loses_less =
    typeof robustDrop === 'number' && typeof accDrop === 'number' ? robustDrop < accDrop : null;
  return out;
}
