/**
 * `npm run bench -- supernet` (or `nice npx tsx bench/run.ts supernet`): the SPOS supernet on Fashion-MNIST.
 *
 * - Trains the supernet (SPOS uniform single-path sampling, quantization-aware, aligned initialization of
 *   same-family operators) on a training subset for a few epochs, with the largest path trained on a
 *   stated share of the steps (the sandwich rule; see SupernetOptions.largestPathShare — measured with pure
 *   SPOS, bits {4, 6, 8}, 3,000 steps of 32 images: largest path 76 %, sampled paths 77 %); `train_img_s`
 *   is training images per second of the loop (batch assembly included).
 * - `largest_path_val_acc`: the largest path (widest, most bits, most MACs per slot) with inherited
 *   weights, BatchNorm recalibrated, evaluated folded (the deployed arithmetic) on the validation split.
 * - `random_paths_val_acc_mean`: the same for uniformly sampled paths.
 * - `kendall_tau`: Kendall's τ-b between the inherited validation accuracies of those sampled paths and
 *   their accuracies when trained standalone from scratch at an equal small budget (same recipe, same
 *   validation images), the standalone trainings running in parallel child processes. This is the
 *   ranking quality a weight-sharing search rests on (Guo et al. 2020 §4; Yu et al., "Evaluating the
 *   Search Phase of Neural Architecture Search", ICLR 2020).
 *
 * The configuration is stated in the results (`config`). IMCNAS_BENCH_SUPERNET_SCALE (default 1) scales
 * every budget down for a smoke run.
 *
 * Measured on this configuration (2 shared cores, wasm, 2026-11-23; 5 epochs at share 0.5 before: largest
 * path 81.1 %, τ 0.6): 7 epochs at share 0.6 give largest path 85.6 %, sampled paths 45–69 % (mean 58 %),
 * τ 0.6 over 10 paths, 202 training img/s, 20 min in all. One standalone path (w2a2 in two stages)
 * diverges at learning rate 0.1 (validation 5 %; 49 % at 0.05): ternary weights with 2-bit activations
 * want a lower rate; it ranks last either way, so τ is unchanged.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BenchFigures } from './run';
import { Rng } from '../common/rng';
import { loadSplits, type DatasetSpec } from '../data/dataset';
import { decode } from '../search/space/codec';
import { describeCandidate } from '../search/space/keys';
import { resolveSearchSpace } from '../search/space/parse';
import { sampleGenome } from '../search/space/sampling';
import type { SearchSpaceInput } from '../search/space/schema';
import { initTensorEngine } from '../tensor/backend';
import { runInChild } from '../tensor/childProcess';
import { Supernet, type PathSpec } from '../models/supernet';
import {
  SupernetTrainer,
  batchForStep,
  calibrationBatches,
  splitAccuracy,
  stepsPerEpoch,
} from '../models/supernetTrainer';
import type { PathTrainingRequest, PathTrainingResult } from '../models/pathTrainingTask';

const scale = Number(process.env.IMCNAS_BENCH_SUPERNET_SCALE ?? 1);
const scaled = (value: number, minimum = 1) => Math.max(minimum, Math.round(value * scale));

/**
 * The benchmark's search space: the default space (stem 16, stages [16, 24, 32] and [32, 48, 64] of two
 * blocks, conv3 / conv5 / mbconv3_e3 / mbconv5_e3 / skip, weight and activation bits {2, 4, 6, 8} per
 * stage) with one change for a 20-minute budget on two shared cores: a stride-2 stem (14×14 feature maps,
 * ~4× fewer MACs than 28×28).
 */
const SPACE: SearchSpaceInput = { network: { stem: { stride: 2 } } };

const CONFIG = {
  seed: 7,
  dataset: {
    name: 'fashion-mnist',
    trainSubset: scaled(20000, 500),
    validation: scaled(5000, 200),
  } as DatasetSpec,
  batchSize: 32,
  epochs: 7,
  learningRate: 0.1,
  largestPathShare: 0.6,
  warmupFraction: 0.03,
  calibrationBatches: 10,
  calibrationBatchSize: 128,
  sampledPaths: scaled(10, 3),
  standaloneSteps: scaled(400, 10),
  standaloneConcurrency: 2,
};

/** Kendall's τ-b (ties in either list counted as neither concordant nor discordant). */
export function kendallTauB(a: readonly number[], b: readonly number[]): number {
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i]! - a[j]!);
      const db = Math.sign(b[i]! - b[j]!);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denominator === 0 ? 0 : (concordant - discordant) / denominator;
}

/** Runs `tasks` with at most `limit` in flight; results in task order. */
async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

const round = (value: number, digits = 4) => Number(value.toFixed(digits));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export async function run(): Promise<BenchFigures> {
  const started = Date.now();
  const backend = await initTensorEngine({ backend: 'wasm' });
  const space = resolveSearchSpace(SPACE);
  const splits = await loadSplits(CONFIG.dataset, CONFIG.seed);
  const { height, width, channels } = splits.train;

  // Supernet training.
  const supernet = new Supernet(space, { seed: CONFIG.seed, largestPathShare: CONFIG.largestPathShare });
  const totalSteps = stepsPerEpoch(splits.train, CONFIG.batchSize) * scaled(CONFIG.epochs);
  const trainer = new SupernetTrainer(supernet, {
    peak: CONFIG.learningRate,
    totalSteps,
    warmupSteps: Math.round(totalSteps * CONFIG.warmupFraction),
    final: 0,
  });
  const trainStarted = Date.now();
  while (trainer.step < totalSteps) {
    const batch = batchForStep(splits.train, CONFIG.batchSize, CONFIG.seed, trainer.step);
    const images = tf.tensor4d(batch.x, [batch.y.length, height, width, channels]);
    const labels = tf.tensor1d(batch.y, 'int32');
    trainer.trainStep(images, labels);
    tf.dispose([images, labels]);
    if (trainer.step % 100 === 0) {
      const seconds = (Date.now() - trainStarted) / 1000;
      console.error(
        `[bench supernet] step ${trainer.step}/${totalSteps} loss ${trainer.lastLoss?.toFixed(3)} ${((trainer.step * CONFIG.batchSize) / seconds).toFixed(1)} img/s`,
      );
    }
  }
  const trainSeconds = (Date.now() - trainStarted) / 1000;

  // Inherited accuracies, BatchNorm recalibrated per path (SPOS §3.4).
  const evaluationStarted = Date.now();
  const calibration = calibrationBatches(
    splits.train,
    CONFIG.calibrationBatchSize,
    CONFIG.calibrationBatches,
    CONFIG.seed,
  );
  const inheritedAccuracy = (candidate: PathSpec): number => {
    supernet.recalibrateBatchNorm(candidate, calibration);
    return splitAccuracy(splits.validation, (images) =>
      supernet.forwardPath(images, candidate, { training: false }),
    );
  };
  const largest = supernet.largestPath();
  const largestAccuracy = inheritedAccuracy(largest);
  const rng = new Rng(CONFIG.seed + 1000);
  const sampled = Array.from({ length: CONFIG.sampledPaths }, () => decode(space, sampleGenome(space, rng)));
  const inherited = sampled.map(inheritedAccuracy);
  tf.dispose(calibration);
  const evaluationSeconds = (Date.now() - evaluationStarted) / 1000;
  const parameters = supernet.parameterCount();
  trainer.dispose();
  supernet.dispose();

  // Standalone training of the same paths at an equal budget, two child processes at a time.
  const standaloneStarted = Date.now();
  const modulePath = path.join(__dirname, '..', 'models', 'pathTrainingTask.ts');
  const standalone = await pool(
    sampled.map((candidate, index) => () => {
      const request: PathTrainingRequest = {
        space: SPACE,
        path: { architecture: candidate.architecture, quantization: candidate.quantization },
        seed: CONFIG.seed + index,
        dataset: CONFIG.dataset,
        datasetSeed: CONFIG.seed,
        steps: CONFIG.standaloneSteps,
        batchSize: CONFIG.batchSize,
        learningRate: CONFIG.learningRate,
        warmupSteps: Math.round(CONFIG.standaloneSteps * CONFIG.warmupFraction),
        calibrationBatches: CONFIG.calibrationBatches,
        validationImages: splits.validation.count,
        backend: 'wasm',
      };
      return runInChild<PathTrainingRequest, PathTrainingResult>({
        modulePath,
        request,
        stallTimeoutMs: 600_000,
      });
    }),
    CONFIG.standaloneConcurrency,
  );
  const standaloneSeconds = (Date.now() - standaloneStarted) / 1000;
  const standaloneAccuracy = standalone.map((result) => result.validationAccuracy);

  return {
    largest_path_val_acc: round(largestAccuracy),
    largest_path: describeCandidate(largest).split(' | ')[0]!,
    random_paths_val_acc_mean: round(mean(inherited)),
    random_paths_val_acc_min: round(Math.min(...inherited)),
    random_paths_val_acc_max: round(Math.max(...inherited)),
    train_img_s: round((totalSteps * CONFIG.batchSize) / trainSeconds, 1),
    kendall_tau: round(kendallTauB(inherited, standaloneAccuracy)),
    kendall_paths: sampled.length,
    standalone_val_acc_mean: round(mean(standaloneAccuracy)),
    standalone_steps: CONFIG.standaloneSteps,
    standalone_img_s_mean: round(mean(standalone.map((result) => result.imagesPerSecond)), 1),
    pairs_inherited_standalone: JSON.stringify(
      sampled.map((candidate, i) => [
        describeCandidate(candidate).split(' | ')[0],
        inherited[i],
        standaloneAccuracy[i],
      ]),
    ),
    supernet_epochs: scaled(CONFIG.epochs),
    largest_path_share: CONFIG.largestPathShare,
    supernet_steps: totalSteps,
    supernet_train_images: totalSteps * CONFIG.batchSize,
    supernet_train_s: round(trainSeconds, 1),
    supernet_skipped_steps: trainer.skippedSteps,
    supernet_parameters: parameters,
    evaluation_s: round(evaluationSeconds, 1),
    standalone_s: round(standaloneSeconds, 1),
    total_s: round((Date.now() - started) / 1000, 1),
    backend: backend.backend,
    simd: backend.simd,
    config: JSON.stringify({ ...CONFIG, space: SPACE, scale }),
  };
}
