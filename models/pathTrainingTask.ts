/**
 * Standalone training of one architecture, as a child-process task (tensor/childProcess.ts `runInChild`):
 * a fresh supernet trained on one fixed path only — which is the plain network of that path, since a
 * fixed path uses nothing but its own layers — with the same quantization-aware training, optimizer and
 * schedule as the supernet. Used to measure how well inherited (supernet) accuracy ranks architectures
 * (bench/supernet.ts) and as the retraining step of a chosen candidate.
 *
 * Runs inside a forked child: it reports progress, never talks to Temporal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadSplits, type DatasetSpec } from '../data/dataset';
import { resolveSearchSpace } from '../search/space/parse';
import type { SearchSpaceInput } from '../search/space/schema';
import { initTensorEngine, type BackendChoice } from '../tensor/backend';
import type { ChildContext } from '../tensor/childProcess';
import { Supernet, type PathSpec } from './supernet';
import {
  SupernetTrainer,
  batchForStep,
  calibrationBatches,
  splitAccuracy,
  type LearningRateSchedule,
} from './supernetTrainer';

export interface PathTrainingRequest {
  space: SearchSpaceInput;
  path: PathSpec;
  seed: number;
  dataset: DatasetSpec;
  /** Seed of the dataset split (the same as the supernet's, so validation images are the same). */
  datasetSeed: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  calibrationBatches: number;
  validationImages: number;
  /** SupernetOptions.lowBitRangeClipping for this path (absent: off, the running max as before). */
  lowBitRangeClipping?: boolean;
  backend?: BackendChoice;
}

export interface PathTrainingResult {
  validationAccuracy: number;
  steps: number;
  trainSeconds: number;
  imagesPerSecond: number;
  lastLoss: number | null;
  skippedSteps: number;
}

export async function run(request: PathTrainingRequest, context?: ChildContext): Promise<PathTrainingResult> {
  await initTensorEngine({ backend: request.backend ?? 'wasm' });
  const space = resolveSearchSpace(request.space);
  const splits = await loadSplits(request.dataset, request.datasetSeed);
  const supernet = new Supernet(space, {
    seed: request.seed,
    lowBitRangeClipping: request.lowBitRangeClipping ?? false,
  });
  supernet.fixedPath = request.path;
  const schedule: LearningRateSchedule = {
    peak: request.learningRate,
    totalSteps: request.steps,
    warmupSteps: request.warmupSteps,
    final: 0,
  };
  const trainer = new SupernetTrainer(supernet, schedule);
  const { height, width, channels } = splits.train;
  const started = Date.now();
  while (trainer.step < request.steps) {
    const batch = batchForStep(splits.train, request.batchSize, request.seed, trainer.step);
    const images = tf.tensor4d(batch.x, [batch.y.length, height, width, channels]);
    const labels = tf.tensor1d(batch.y, 'int32');
    trainer.trainStep(images, labels);
    tf.dispose([images, labels]);
    if (trainer.step % 10 === 0 || trainer.step === request.steps) {
      context?.report({
        step: trainer.step,
        total: request.steps,
        message: `loss ${trainer.lastLoss?.toFixed(4)}`,
      });
    }
  }
  const trainSeconds = (Date.now() - started) / 1000;
  const calibration = calibrationBatches(
    splits.train,
    request.batchSize,
    request.calibrationBatches,
    request.seed,
  );
  supernet.recalibrateBatchNorm(request.path, calibration);
  tf.dispose(calibration);
  const validationAccuracy = splitAccuracy(
    splits.validation,
    (images) => supernet.forwardPath(images, request.path, { training: false }),
    request.validationImages,
  );
  const result: PathTrainingResult = {
    validationAccuracy,
    steps: trainer.step,
    trainSeconds,
    imagesPerSecond: (trainer.step * request.batchSize) / trainSeconds,
    lastLoss: trainer.lastLoss,
    skippedSteps: trainer.skippedSteps,
  };
  trainer.dispose();
  supernet.dispose();
  return result;
}
