/**
 * `npm run bench -- supernetQuick` (or `nice -n 10 npx tsx bench/run.ts supernetQuick`): a few-minute
 * diagnosis of a supernet recipe, in one process — the small version of bench/supernet.ts used to find
 * why inherited accuracies of sampled paths sat far below standalone ones (docs/supernet.md).
 *
 * It trains one supernet (the `supernet` benchmark's space and optimizer) on a small split, then:
 * - evaluates the largest path and the first IMCNAS_BENCH_QUICK_PATHS (6) of the `supernet` benchmark's
 *   paths of the seed with inherited weights, BatchNorm recalibrated, quantized (folded, as deployed) and
 *   unquantized;
 * - trains each of those paths standalone for one epoch of the same split (seed 1000 + index) unless
 *   IMCNAS_BENCH_QUICK_STANDALONE=0;
 * - with IMCNAS_BENCH_QUICK_ABLATION=1, changes one network or quantization gene of the largest path at a
 *   time and evaluates each such path the same two ways (which choices the shared layers cannot take).
 *
 * Variables (defaults): IMCNAS_BENCH_QUICK_TRAIN_IMAGES (1,500), IMCNAS_BENCH_QUICK_VALIDATION_IMAGES
 * (500), IMCNAS_BENCH_QUICK_EPOCHS (4), IMCNAS_BENCH_QUICK_SEED (8), IMCNAS_BENCH_QUICK_PATHS (6),
 * IMCNAS_BENCH_QUICK_LARGEST_PATH_SHARE (0), IMCNAS_BENCH_QUICK_DISTILLATION (1),
 * IMCNAS_BENCH_QUICK_SMALLEST_PATH (0; 1 = the smallest path in every step's sandwich,
 * SupernetOptions.sandwichSmallestPath), IMCNAS_BENCH_QUICK_LOW_BIT_CLIPPING (0; 1 = clipped ranges for
 * 2-bit activation grids, SupernetOptions.lowBitRangeClipping).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BenchFigures } from './run';
import { loadSplits } from '../data/dataset';
import { Supernet, type PathSpec } from '../models/supernet';
import {
  SupernetTrainer,
  batchForStep,
  calibrationBatches,
  splitAccuracy,
  stepsPerEpoch,
} from '../models/supernetTrainer';
import { largestNetworkGenome } from '../search/space/adapters';
import { decode, type Candidate } from '../search/space/codec';
import { describeCandidate } from '../search/space/keys';
import { buildLayout } from '../search/space/layout';
import { resolveSearchSpace } from '../search/space/parse';
import { initTensorEngine } from '../tensor/backend';
import { SPACE, booleanFromEnv, kendallTauB, positiveIntegerFromEnv, unitIntervalFromEnv } from './supernet';
import { samplePaths } from './supernetSeed';

export function quickConfig(env = process.env) {
  return {
    datasetSeed: 7,
    trainImages: positiveIntegerFromEnv('IMCNAS_BENCH_QUICK_TRAIN_IMAGES', 1500, env),
    validationImages: positiveIntegerFromEnv('IMCNAS_BENCH_QUICK_VALIDATION_IMAGES', 500, env),
    epochs: positiveIntegerFromEnv('IMCNAS_BENCH_QUICK_EPOCHS', 4, env),
    seed: positiveIntegerFromEnv('IMCNAS_BENCH_QUICK_SEED', 8, env),
    paths: positiveIntegerFromEnv('IMCNAS_BENCH_QUICK_PATHS', 6, env),
    largestPathShare: unitIntervalFromEnv('IMCNAS_BENCH_QUICK_LARGEST_PATH_SHARE', 0, env),
    inPlaceDistillation: booleanFromEnv('IMCNAS_BENCH_QUICK_DISTILLATION', true, env),
    sandwichSmallestPath: booleanFromEnv('IMCNAS_BENCH_QUICK_SMALLEST_PATH', false, env),
    lowBitRangeClipping: booleanFromEnv('IMCNAS_BENCH_QUICK_LOW_BIT_CLIPPING', false, env),
    standalone: booleanFromEnv('IMCNAS_BENCH_QUICK_STANDALONE', true, env),
    ablation: booleanFromEnv('IMCNAS_BENCH_QUICK_ABLATION', false, env),
    batchSize: 32,
    learningRate: 0.1,
    warmupFraction: 0.03,
    calibrationBatches: 10,
    calibrationBatchSize: 128,
  };
}

const round = (value: number) => Number(value.toFixed(4));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export async function run(): Promise<BenchFigures> {
  const config = quickConfig();
  await initTensorEngine({ backend: 'wasm' });
  const space = resolveSearchSpace(SPACE);
  const splits = await loadSplits(
    { name: 'fashion-mnist', trainSubset: config.trainImages, validation: config.validationImages },
    config.datasetSeed,
  );
  const { height, width, channels } = splits.train;
  const perEpoch = stepsPerEpoch(splits.train, config.batchSize);
  const train = (supernet: Supernet, steps: number, seed: number) => {
    const trainer = new SupernetTrainer(supernet, {
      peak: config.learningRate,
      totalSteps: steps,
      warmupSteps: Math.round(steps * config.warmupFraction),
      final: 0,
    });
    while (trainer.step < steps) {
      const batch = batchForStep(splits.train, config.batchSize, seed, trainer.step);
      const images = tf.tensor4d(batch.x, [batch.y.length, height, width, channels]);
      const labels = tf.tensor1d(batch.y, 'int32');
      trainer.trainStep(images, labels);
      tf.dispose([images, labels]);
    }
    trainer.dispose();
  };
  const calibration = calibrationBatches(
    splits.train,
    config.calibrationBatchSize,
    config.calibrationBatches,
    config.seed,
  );
  const accuracy = (supernet: Supernet, path: PathSpec, quantize: boolean) => {
    supernet.recalibrateBatchNorm(path, calibration, { quantize });
    return splitAccuracy(splits.validation, (images) =>
      supernet.forwardPath(
        images,
        path,
        quantize ? { training: false } : { training: false, quantize: false, evaluation: 'running' },
      ),
    );
  };
  const name = (path: Candidate) => describeCandidate(path);
  const log = (message: string) => console.error(`[bench supernetQuick] ${message}`);

  const started = Date.now();
  const supernet = new Supernet(space, {
    seed: config.seed,
    largestPathShare: config.largestPathShare,
    inPlaceDistillation: config.inPlaceDistillation,
    sandwichSmallestPath: config.sandwichSmallestPath,
    lowBitRangeClipping: config.lowBitRangeClipping,
  });
  train(supernet, perEpoch * config.epochs, config.seed);
  const trainSeconds = (Date.now() - started) / 1000;
  const largest = supernet.largestPath();
  const largestAccuracy = accuracy(supernet, largest, true);
  log(`trained ${perEpoch * config.epochs} steps in ${trainSeconds} s; largest path ${largestAccuracy}`);
  const paths = samplePaths(space, config.seed, config.paths);
  const inherited = paths.map((path) => accuracy(supernet, path, true));
  const unquantized = paths.map((path) => accuracy(supernet, path, false));

  const ablation: Array<[string, string, number, number]> = [];
  if (config.ablation) {
    const layout = buildLayout(space);
    const base = largestNetworkGenome(space, new Array<number>(layout.length).fill(0));
    for (const gene of layout.genes) {
      if (gene.domain === 'hardware') continue;
      for (let value = 0; value < gene.cardinality; value++) {
        if (value === base[gene.index]) continue;
        const genome = [...base];
        genome[gene.index] = value;
        const path = decode(space, genome);
        const change = `${gene.name}=${String(gene.values[value])}`;
        ablation.push([
          change,
          name(path).split(' | ')[0]!,
          accuracy(supernet, path, true),
          accuracy(supernet, path, false),
        ]);
        log(`${change}: ${ablation[ablation.length - 1]!.slice(2).join(' ')}`);
      }
    }
  }
  supernet.dispose();

  const standalone: number[] = [];
  if (config.standalone) {
    for (const [index, path] of paths.entries()) {
      const single = new Supernet(space, { seed: 1000 + index });
      single.fixedPath = path;
      train(single, perEpoch, 1000 + index);
      standalone.push(accuracy(single, path, true));
      single.dispose();
      log(`standalone ${index}: ${standalone[index]}`);
    }
  }
  tf.dispose(calibration);

  return {
    largest_path: name(largest).split(' | ')[0]!,
    largest_path_val_acc: round(largestAccuracy),
    sampled_inherited_mean: round(mean(inherited)),
    sampled_inherited_unquantized_mean: round(mean(unquantized)),
    sampled_standalone_mean: standalone.length ? round(mean(standalone)) : null,
    kendall_tau: standalone.length ? round(kendallTauB(inherited, standalone)) : null,
    pairs_path_inherited_unquantized_standalone: JSON.stringify(
      paths.map((path, i) => [
        name(path).split(' | ')[0],
        round(inherited[i]!),
        round(unquantized[i]!),
        standalone.length ? round(standalone[i]!) : null,
      ]),
    ),
    ablation_change_path_quantized_unquantized: JSON.stringify(
      ablation.map(([change, path, q, u]) => [change, path, round(q), round(u)]),
    ),
    supernet_steps: perEpoch * config.epochs,
    supernet_train_s: round(trainSeconds),
    total_s: round((Date.now() - started) / 1000),
    config: JSON.stringify({ ...config, space: SPACE }),
  };
}
