/**
 * `npm run bench -- finalNoise`: a finished search's retrained design tested again as stage 4 tests it
 * (tasks/chipEvaluation.ts runFinal: all test images, the run's `robustness.samples` chips drawn from stage
 * 4's own seeds, read at `robustness.reportAt`), once with the run's noise settings and once under each
 * named override: what a mitigation would change on exactly the chips the search's final test used.
 *
 *   IMCNAS_BENCH_FINAL_RUN_DIR (required): the finished search's run directory;
 *   IMCNAS_BENCH_FINAL_KEY (required): the retrained design's genome key (a directory under final/);
 *   IMCNAS_BENCH_FINAL_NOISE (optional): a JSON object of named `robustness.noise` overrides, e.g.
 *   {"compensated":{"stuckCompensation":true}}.
 *
 * Figures: digital, and per setting (`nominal` and each name) <name>_noisy_mean, _noisy_std, _noisy_p5 and
 * _drop (digital − noisy mean), accuracies as fractions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile, validateConfig } from '../config/load';
import type { RunConfig } from '../config/schema';
import { parseGenomeKey } from '../search/space/keys';
import { designFiles, finalDir } from '../storage/runLayout';
import { runFinal } from '../tasks/chipEvaluation';
import { initTensorEngine } from '../tensor/backend';
import { noiseOverrides } from './designDrops';
import type { BenchFigures } from './run';
import { requiredEnv } from './jsonFromEnv';

export async function run(): Promise<BenchFigures> {
  const runDir = path.resolve(requiredEnv('IMCNAS_BENCH_FINAL_RUN_DIR', 'bench/finalNoise.ts'));
  const key = requiredEnv('IMCNAS_BENCH_FINAL_KEY', 'bench/finalNoise.ts');
  const trainDir = designFiles(finalDir(runDir, key)).train;
  if (!fs.existsSync(trainDir))
    throw new Error(`IMCNAS_BENCH_FINAL_KEY: ${runDir} has no retrained design ${key} (no ${trainDir})`);
  const base = await loadConfigFile(path.join(runDir, 'config.yaml'));
  // Every setting validated before any work starts.
  const settings: { name: string; config: RunConfig }[] = [
    { name: 'nominal', config: base },
    ...Object.entries(noiseOverrides('IMCNAS_BENCH_FINAL_NOISE')).map(([name, noise]) => ({
      name,
      config: validateConfig({
        ...base,
        robustness: { ...base.robustness, noise: { ...base.robustness.noise, ...noise } },
      }),
    })),
  ];
  await initTensorEngine({});
  const round = (value: number) => Number(value.toFixed(4));
  const figures: BenchFigures = { run_dir: runDir, key, chips: base.robustness.samples };
  for (const { name, config } of settings) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'imcnas-bench-final-noise-'));
    try {
      const result = await runFinal(
        { runDir, trainDir, dir: scratch, config, candidate: { key, genome: parseGenomeKey(key) } },
        { report: () => undefined },
      );
      Object.assign(figures, {
        digital: round(result.testAccuracyDigital),
        [`${name}_noisy_mean`]: round(result.testAccuracyMean),
        [`${name}_noisy_std`]: round(result.testAccuracyStd),
        [`${name}_noisy_p5`]: round(result.testAccuracyP5),
        [`${name}_drop`]: round(result.testAccuracyDigital - result.testAccuracyMean),
      });
      console.error(`[bench] finalNoise: ${key} ${name}: drop ${figures[`${name}_drop`]}`);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  return figures;
}
