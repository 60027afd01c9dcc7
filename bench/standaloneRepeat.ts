/**
 * `npm run bench -- standaloneRepeat`: how reproducible the `supernet` benchmark's ground truth is. Kendall's
 * τ between inherited and standalone accuracies can only be as high as the standalone ranking is stable, so
 * this trains every path of a finished `supernet` run standalone a second time (same recipe, data and
 * steps; another initialization and batch order) and reports Kendall's τ-b between the two standalone
 * rankings: the ceiling the supernet is measured against.
 *
 *   IMCNAS_BENCH_SUPERNET_STANDALONE_FROM (default bench/results/supernet.json): the run to repeat; the
 *   IMCNAS_BENCH_SUPERNET_* budget variables must match that run's (its `config` figure), else an error
 *   names the difference (bench/supernet.ts standaloneFromFile checks the recipe and the path names;
 *   IMCNAS_BENCH_SUPERNET_LOW_BIT_CLIPPING=1 repeats a run whose paths trained with clipped 2-bit ranges).
 *
 * Figures: standalone_repeat_tau (mean over seeds), standalone_repeat_tau_seed_<n>, the pairs per seed, and
 * standalone_repeat_abs_diff_mean (mean |first − second| accuracy over all paths).
 */
import * as path from 'node:path';
import { deriveSeed } from '../common/rng';
import { loadSplits } from '../data/dataset';
import type { PathTrainingRequest, PathTrainingResult } from '../models/pathTrainingTask';
import { stepsPerEpoch } from '../models/supernetTrainer';
import { describeCandidate } from '../search/space/keys';
import { resolveSearchSpace } from '../search/space/parse';
import { runInChild } from '../tensor/childProcess';
import type { BenchFigures } from './run';
import { benchConfig, kendallTauB, pool, SPACE, standaloneFromFile } from './supernet';
import { samplePaths } from './supernetSeed';

const round = (value: number) => Number(value.toFixed(4));

export async function run(): Promise<BenchFigures> {
  const config = benchConfig();
  const file =
    process.env.IMCNAS_BENCH_SUPERNET_STANDALONE_FROM ?? path.join(__dirname, 'results', 'supernet.json');
  const space = resolveSearchSpace(SPACE);
  const seeds = config.supernetSeeds.map((seed) => ({
    seed,
    sampled: samplePaths(space, seed, config.sampledPaths),
  }));
  const first = await standaloneFromFile(file, config, seeds);
  const splits = await loadSplits(config.dataset, config.datasetSeed);
  const steps = stepsPerEpoch(splits.train, config.batchSize) * config.standaloneEpochs;
  const jobs = seeds.flatMap(({ seed, sampled }) =>
    sampled.map((candidate, index) => ({ seed, index, candidate })),
  );
  const second = await pool(
    jobs.map(({ seed, index, candidate }) => async () => {
      const request: PathTrainingRequest = {
        space: SPACE,
        path: { architecture: candidate.architecture, quantization: candidate.quantization },
        // Another initialization and batch order than the recorded run's deriveSeed(seed, 'standalone', i).
        seed: deriveSeed(seed, 'standalone-repeat', index),
        dataset: config.dataset,
        datasetSeed: config.datasetSeed,
        steps,
        batchSize: config.batchSize,
        learningRate: config.learningRate,
        warmupSteps: Math.round(steps * config.warmupFraction),
        calibrationBatches: config.calibrationBatches,
        validationImages: splits.validation.count,
        lowBitRangeClipping: config.lowBitRangeClipping,
        backend: 'wasm',
      };
      const result = await runInChild<PathTrainingRequest, PathTrainingResult>({
        modulePath: path.join(__dirname, '..', 'models', 'pathTrainingTask.ts'),
        request,
        stallTimeoutMs: 900_000,
      });
      console.error(`[bench standaloneRepeat] seed ${seed} path ${index}: ${result.validationAccuracy}`);
      return result.validationAccuracy;
    }),
    config.concurrency,
  );
  const figures: BenchFigures = { from: path.relative(process.cwd(), file), standalone_steps: steps };
  const taus: number[] = [];
  const differences: number[] = [];
  let offset = 0;
  seeds.forEach(({ seed, sampled }, s) => {
    const again = second.slice(offset, offset + sampled.length);
    offset += sampled.length;
    const tau = kendallTauB(first[s]!, again);
    taus.push(tau);
    first[s]!.forEach((accuracy, i) => differences.push(Math.abs(accuracy - again[i]!)));
    figures[`standalone_repeat_tau_seed_${seed}`] = round(tau);
    figures[`pairs_first_second_seed_${seed}`] = JSON.stringify(
      sampled.map((candidate, i) => [
        describeCandidate(candidate).split(' | ')[0],
        first[s]![i],
        round(again[i]!),
      ]),
    );
  });
  figures.standalone_repeat_tau = round(taus.reduce((a, b) => a + b, 0) / taus.length);
  figures.standalone_repeat_abs_diff_mean = round(
    differences.reduce((a, b) => a + b, 0) / differences.length,
  );
  return figures;
}
