/**
 * `npm run bench -- designDrops`: how much accuracy given designs lose on noisy chips with the weights they
 * inherit from a search's trained supernet: stage 3's measurement (tasks/chipEvaluation.ts runRobustness:
 * the same recalibration, chip seeds and drift time) for designs the search may not have proposed. Used by
 * docs/variation.md to ask which corner of the space can lose least at all: the same network on other
 * devices, cell bits, weight widths.
 *
 *   IMCNAS_BENCH_DROPS_RUN_DIR (required): a finished search's run directory (its config.yaml and supernet);
 *   IMCNAS_BENCH_DROPS_KEYS (required): comma-separated genome keys in that search's space;
 *   IMCNAS_BENCH_DROPS_CHIPS (default 5), IMCNAS_BENCH_DROPS_IMAGES (validation images, default 1000);
 *   IMCNAS_BENCH_DROPS_NOISE (optional): a JSON object of named noise overrides (`robustness.noise`, e.g.
 *   {"no_read":{"readNoiseScale":0},"ideal_adc":{"idealAdc":true}}): every key is measured once more under
 *   each, with the same chip seeds, to tell which noise source the drop comes from.
 *
 * Figures per key: <key>_design, <key>_digital, <key>_noisy_mean, <key>_noisy_std, <key>_drop (digital − noisy
 * mean, accuracy as a fraction); per named override, <key>_<name>_noisy_mean, _noisy_std and _drop.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile, validateConfig } from '../config/load';
import { describeCandidate, parseGenomeKey } from '../search/space/keys';
import { decode } from '../search/space/codec';
import { runRobustness } from '../tasks/chipEvaluation';
import { stageSpace } from '../tasks/shared';
import { initTensorEngine } from '../tensor/backend';
import { jsonObjectFromEnv, requiredEnv } from './jsonFromEnv';
import type { BenchFigures } from './run';
import { positiveIntegerFromEnv } from './supernet';

/** Named `robustness.noise` overrides from the JSON in environment variable `variable`. */
export function noiseOverrides(variable: string): Record<string, Record<string, unknown>> {
  return jsonObjectFromEnv(variable, '{"no_read":{"readNoiseScale":0}}') as Record<
    string,
    Record<string, unknown>
  >;
}

export async function run(): Promise<BenchFigures> {
  const runDir = path.resolve(requiredEnv('IMCNAS_BENCH_DROPS_RUN_DIR', 'bench/designDrops.ts'));
  const keys = requiredEnv('IMCNAS_BENCH_DROPS_KEYS', 'bench/designDrops.ts')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
  const chips = positiveIntegerFromEnv('IMCNAS_BENCH_DROPS_CHIPS', 5);
  const images = positiveIntegerFromEnv('IMCNAS_BENCH_DROPS_IMAGES', 1000);
  const base = await loadConfigFile(path.join(runDir, 'config.yaml'));
  const overrides = noiseOverrides('IMCNAS_BENCH_DROPS_NOISE');
  const config = { ...base, robustness: { ...base.robustness, samples: chips, images } };
  // Every named override validated before any work starts (an unknown field or bad value names itself).
  const variants = Object.entries(overrides).map(([name, noise]) => ({
    name,
    config: validateConfig({
      ...config,
      robustness: { ...config.robustness, noise: { ...config.robustness.noise, ...noise } },
    }),
  }));
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
      for (const { name, config: variantConfig } of variants) {
        const variant = await runRobustness(
          { runDir, dir: scratch, config: variantConfig, candidate: { key, genome } },
          { report: () => undefined },
        );
        Object.assign(figures, {
          [`${key}_${name}_noisy_mean`]: round(variant.accuracyMean),
          [`${key}_${name}_noisy_std`]: round(variant.accuracyStd),
          [`${key}_${name}_drop`]: round(variant.digitalAccuracy - variant.accuracyMean),
        });
        console.error(`[bench] designDrops: ${key} with ${name}: drop ${figures[`${key}_${name}_drop`]}`);
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return figures;
}
