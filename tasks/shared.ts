/**
 * What every stage's child task needs: the tensor engine, the dataset splits, the search space and the
 * trained supernet, each loaded once per child process.
 */
import { supernetDir } from '../storage/runLayout';
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../config/schema';
import { deriveSeed } from '../common/rng';
import { epochBatches, gatherBatch, loadSplits, type Split, type Splits } from '../data/dataset';
import { resolveSearchSpace } from '../search/space/parse';
import type { SearchSpace } from '../search/space/schema';
import { initTensorEngine } from '../tensor/backend';
import { Supernet, type PathSpec } from '../models/supernet';
import {
  SupernetTrainer,
  calibrationBatches,
  splitAccuracy,
  type LearningRateSchedule,
} from '../models/supernetTrainer';
import { gaussianWeightNoise, type WeightNoiseHook } from '../models/weightNoise';

let splitsCache: { key: string; splits: Promise<Splits> } | undefined;

/**
 * The dataset splits of a stage. The search (supernet, candidates, robustness) trains on
 * dataset.trainSubset; retraining uses retrain.trainImages (default: every training image), because the
 * final models are what users deploy and publish. Validation and test are the same images either way.
 */
export async function stageData(config: RunConfig, stage: 'search' | 'retrain' = 'search'): Promise<Splits> {
  await initTensorEngine();
  const spec =
    stage === 'retrain' ? { ...config.dataset, trainSubset: config.retrain.trainImages } : config.dataset;
  const key = JSON.stringify([spec, config.seed]);
  if (splitsCache?.key !== key) splitsCache = { key, splits: loadSplits(spec, config.seed) };
  return splitsCache.splits;
}

export function stageSpace(config: RunConfig): SearchSpace {
  return resolveSearchSpace(config.space);
}

export { supernetDir };

/** Steps in one epoch of stage-1 training (full batches only; capped by supernet.stepsPerEpoch). */
export function stepsPerEpochOf(train: Split, batchSize: number, cap?: number): number {
  const full = Math.floor(train.count / batchSize);
  if (full < 1)
    throw new Error(`a batch of ${batchSize} needs at least that many training images, got ${train.count}`);
  return Math.min(full, cap ?? Infinity);
}

/** The training batch of global step `step` under a per-epoch cap (seeded permutation per epoch). */
export function batchAt(train: Split, batchSize: number, seed: number, step: number, perEpoch: number) {
  const epoch = Math.floor(step / perEpoch);
  const indices = epochBatches(train.count, batchSize, seed, epoch)[step % perEpoch]!;
  const batch = gatherBatch(train, indices);
  return { ...batch, epoch, count: indices.length };
}

export function weightNoiseFor(enabled: boolean, sigma: number, seed: number): WeightNoiseHook | null {
  return enabled && sigma > 0
    ? gaussianWeightNoise({ relativeSigma: sigma, seed: deriveSeed(seed, 'noise-aware') })
    : null;
}

export interface TrainerSetup {
  supernet: Supernet;
  trainer: SupernetTrainer;
}

export function supernetTrainer(
  space: SearchSpace,
  seed: number,
  schedule: LearningRateSchedule,
  weightNoise: WeightNoiseHook | null,
  largestPathShare = 0,
  inPlaceDistillation = false,
  /** The rest of SupernetOptions and SupernetTrainerOptions (each default: off, one shard). */
  options: { gradientShards?: number; sandwichSmallestPath?: boolean; lowBitRangeClipping?: boolean } = {},
): TrainerSetup {
  const supernet = new Supernet(space, {
    seed,
    weightNoise,
    largestPathShare,
    inPlaceDistillation,
    sandwichSmallestPath: options.sandwichSmallestPath ?? false,
    lowBitRangeClipping: options.lowBitRangeClipping ?? false,
  });
  return {
    supernet,
    trainer: new SupernetTrainer(supernet, schedule, { gradientShards: options.gradientShards ?? 1 }),
  };
}

/** Cosine schedule with one epoch (at most 10 % of training) of linear warm-up. */
export function scheduleFor(learningRate: number, perEpoch: number, epochs: number): LearningRateSchedule {
  const totalSteps = perEpoch * epochs;
  return {
    peak: learningRate,
    totalSteps,
    warmupSteps: Math.max(1, Math.min(perEpoch, Math.floor(totalSteps / 10))),
    final: 0,
  };
}

/** Loads the newest stage-1 checkpoint into a fresh supernet (for evaluation: no optimizer step runs). */
export async function loadTrainedSupernet(runDir: string, config: RunConfig): Promise<Supernet> {
  const space = stageSpace(config);
  // The clipped low-bit ranges are variables of their own: the supernet must have them to load and use them.
  const { supernet, trainer } = supernetTrainer(space, config.seed, scheduleFor(1, 1, 1), null, 0, false, {
    lowBitRangeClipping: config.supernet.lowBitRangeClipping ?? false,
  });
  const loaded = await trainer.resume(supernetDir(runDir));
  trainer.dispose();
  if (!loaded) throw new Error(`no supernet checkpoint under ${supernetDir(runDir)}: stage 1 has not run`);
  return supernet;
}

/**
 * Seed of the BatchNorm-recalibration batches of every path accuracy of a run: the trainer's per-epoch
 * validation and every stage-2 candidate draw the same training images, so one path scores the same in both.
 */
export function recalibrationSeed(config: RunConfig): number {
  return deriveSeed(config.seed, 'bn-recalibration');
}

/** BatchNorm recalibration on training batches, then top-1 accuracy on the first `images` of `split`. */
export function pathAccuracy(
  supernet: Supernet,
  path: PathSpec,
  train: Split,
  split: Split,
  options: { calibrationBatches: number; batchSize: number; images: number; seed: number },
  /** Progress within the measurement (after the recalibration, and after every validation batch). */
  onProgress?: (message: string, fraction: number) => void,
): number {
  const batches = calibrationBatches(train, options.batchSize, options.calibrationBatches, options.seed);
  try {
    supernet.recalibrateBatchNorm(path, batches);
  } finally {
    tf.dispose(batches);
  }
  onProgress?.('BatchNorm recalibrated', 0.1);
  return splitAccuracy(
    split,
    (x) => supernet.forwardPath(x, path, { training: false }),
    options.images,
    undefined,
    onProgress &&
      ((done, total) => onProgress(`validation images ${done}/${total}`, 0.1 + (0.8 * done) / total)),
  );
}
