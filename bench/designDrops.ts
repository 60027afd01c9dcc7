/**
 * `npm run bench -- designDrops`: how much accuracy given designs lose on noisy chips with the weights they
 * inherit from a search's trained supernet: stage 3's measurement (tasks/chipEvaluation.ts runRobustness:
 * the same recalibration, chip seeds and drift time) for designs the search may not have proposed. Used by
 * docs/variation.md to ask which corner of the space can lose least at all: the same network on other
 * devices, cell bits, weight widths.
 *
 *   IMCNAS_BENCH_DROPS_RUN_DIR (required): a finished search's run directory (its config.yaml and supernet);
 *   IMCNAS_BENCH_DROPS_KEYS (required): comma-separated genome keys in that search's space;
 *   IMCNAS_BENCH_DROPS_CHIPS (default 5), IMCNAS_BENCH_DROPS_IMAGES (validation images, default 1000).
 *
 * Figures per key: <key>_design, <key>_digital, <key>_noisy_mean, <key>_noisy_std, <key>_drop (digital − noisy
 * mean, accuracy as a fraction).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile } from '../config/load';
import { describeCandidate, parseGenomeKey } from '../search/space/keys';
import { decode } from '../search/space/codec';
import { runRobustness } from '../tasks/chipEvaluation';
import { stageSpace } from '../tasks/shared';
import { initTensorEngine } from '../tensor/backend';
import type { BenchFigures } from './run';
import { positiveIntegerFromEnv } from './supernet';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: see bench/designDrops.ts for what it names`);
  return value;
}

export async function run(): Promise<BenchFigures> {
  const runDir = path.resolve(required('IMCNAS_BENCH_DROPS_RUN_DIR'));
  const keys = required('IMCNAS_BENCH_DROPS_KEYS')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
  const chips = positiveIntegerFromEnv('IMCNAS_BENCH_DROPS_CHIPS', 5);
  const images = positiveIntegerFromEnv('IMCNAS_BENCH_DROPS_IMAGES', 1000);
  const base = await loadConfigFile(path.join(runDir, 'config.yaml'));
  const config = { ...base, robustness: { ...base.robustness, samples: chips, images } };
  const space = stageSpace(config);
  // Check every key before any work starts.
  const designs = keys.map((key) => {
    try {
      return {
        key,
        genome: parseGenomeKey(key),
        text: describeCandidate(decode(space, parseGenomeKey(key))),
      };
    } catch (error) {
      throw new Error(
        `IMCNAS_BENCH_DROPS_KEYS: ${key} is not a design of ${runDir}'s space: ${String(error)}`,
        { cause: error },
      );
    }
  });
  await initTensorEngine({});
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'imcnas-bench-drops-'));
  const figures: BenchFigures = { run_dir: runDir, chips, images };
  try {
    for (const { key, genome, text } of designs) {
      const result = await runRobustness(
        { runDir, dir: scratch, config, candidate: { key, genome } },
        { report: () => undefined },
      );
      const round = (value: number) => Number(value.toFixed(4));
      Object.assign(figures, {
        [`${key}_design`]: text,
        [`${key}_digital`]: round(result.digitalAccuracy),
        [`${key}_noisy_mean`]: round(result.accuracyMean),
        [`${key}_noisy_std`]: round(result.accuracyStd),
        [`${key}_drop`]: round(result.digitalAccuracy - result.accuracyMean),
      });
      console.error(`[bench] designDrops: ${key} ${text}: drop ${figures[`${key}_drop`]}`);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return figures;
}
