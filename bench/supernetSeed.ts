/**
 * One seed of the `supernet` benchmark (bench/supernet.ts), as a child-process task
 * (tensor/childProcess.ts `runInChild`), so the two seeds' supernets train on the two cores at once: the
 * supernet trained with this seed (SPOS uniform sampling with the sandwich rule's largest-path share),
 * then this seed's own uniform sample of paths evaluated with inherited weights, BatchNorm recalibrated per
 * path (SPOS §3.4), folded (the deployed arithmetic), on the validation split.
 *
 * Runs inside a forked child: it reports progress, never talks to Temporal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, deriveSeed } from '../common/rng';
import { loadSplits, type DatasetSpec } from '../data/dataset';
import { decode, type Candidate } from '../search/space/codec';
import { resolveSearchSpace } from '../search/space/parse';
import { sampleGenome } from '../search/space/sampling';
import type { SearchSpace, SearchSpaceInput } from '../search/space/schema';
import { initTensorEngine, type BackendChoice } from '../tensor/backend';
import type { ChildContext } from '../tensor/childProcess';
import { Supernet, type PathSpec } from '../models/supernet';
import {
  SupernetTrainer,
  batchForStep,
  calibrationBatches,
  splitAccuracy,
  stepsPerEpoch,
} from '../models/supernetTrainer';

export interface SupernetSeedRequest {
  space: SearchSpaceInput;
  /** Seed of the supernet (initialization, path of each step, batch order) and of its path sample. */
  seed: number;
  dataset: DatasetSpec;
  /** Seed of the dataset split, shared by all seeds and all standalone trainings (same images). */
  datasetSeed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  largestPathShare: number;
  /** SupernetOptions.inPlaceDistillation (absent: off, as before it existed). */
  inPlaceDistillation?: boolean;
  /** SupernetOptions.sandwichSmallestPath (absent: off, as before it existed). */
  sandwichSmallestPath?: boolean;
  /** SupernetOptions.lowBitRangeClipping (absent: off, as before it existed). */
  lowBitRangeClipping?: boolean;
  warmupFraction: number;
  calibrationBatches: number;
  calibrationBatchSize: number;
  sampledPaths: number;
  backend?: BackendChoice;
}

export interface SupernetSeedResult {
  seed: number;
  largestPath: Candidate;
  largestAccuracy: number;
  /** The uniformly sampled paths, as the search would propose them (whole decoded genomes). */
  sampled: Candidate[];
  inherited: number[];
  steps: number;
  trainSeconds: number;
  evaluationSeconds: number;
  skippedSteps: number;
  parameters: number;
  lastLoss: number | null;
}

/** The path sample of `seed`: a stream of its own, independent of the supernet's per-step paths. */
export function samplePaths(space: SearchSpace, seed: number, count: number): Candidate[] {
  const rng = new Rng(deriveSeed(seed, 'bench-paths', 0));
  return Array.from({ length: count }, () => decode(space, sampleGenome(space, rng)));
}

export async function run(request: SupernetSeedRequest, context?: ChildContext): Promise<SupernetSeedResult> {
  await initTensorEngine({ backend: request.backend ?? 'wasm' });
  const space = resolveSearchSpace(request.space);
  const splits = await loadSplits(request.dataset, request.datasetSeed);
  const { height, width, channels } = splits.train;

  const supernet = new Supernet(space, {
    seed: request.seed,
    largestPathShare: request.largestPathShare,
    inPlaceDistillation: request.inPlaceDistillation ?? false,
    sandwichSmallestPath: request.sandwichSmallestPath ?? false,
    lowBitRangeClipping: request.lowBitRangeClipping ?? false,
  });
  const totalSteps = stepsPerEpoch(splits.train, request.batchSize) * request.epochs;
  const trainer = new SupernetTrainer(supernet, {
    peak: request.learningRate,
    totalSteps,
    warmupSteps: Math.round(totalSteps * request.warmupFraction),
    final: 0,
  });
  const trainStarted = Date.now();
  while (trainer.step < totalSteps) {
    const batch = batchForStep(splits.train, request.batchSize, request.seed, trainer.step);
    const images = tf.tensor4d(batch.x, [batch.y.length, height, width, channels]);
    const labels = tf.tensor1d(batch.y, 'int32');
    trainer.trainStep(images, labels);
    tf.dispose([images, labels]);
    if (trainer.step % 10 === 0 || trainer.step === totalSteps) {
      context?.report({
        step: trainer.step,
        total: totalSteps,
        message: `seed ${request.seed} supernet loss ${trainer.lastLoss?.toFixed(3)}`,
      });
    }
  }
  const trainSeconds = (Date.now() - trainStarted) / 1000;

  const evaluationStarted = Date.now();
  const calibration = calibrationBatches(
    splits.train,
    request.calibrationBatchSize,
    request.calibrationBatches,
    request.seed,
  );
  const inheritedAccuracy = (candidate: PathSpec, index: number): number => {
    supernet.recalibrateBatchNorm(candidate, calibration);
    const accuracy = splitAccuracy(splits.validation, (images) =>
      supernet.forwardPath(images, candidate, { training: false }),
    );
    // Steps continue past training so the parent's stall watchdog sees evaluation progress too.
    context?.report({ step: totalSteps + index + 1, message: `seed ${request.seed} path ${index}` });
    return accuracy;
  };
  const largestPath = supernet.largestPath();
  const largestAccuracy = inheritedAccuracy(largestPath, 0);
  const sampled = samplePaths(space, request.seed, request.sampledPaths);
  const inherited = sampled.map((candidate, index) => inheritedAccuracy(candidate, index + 1));
  tf.dispose(calibration);
  const result: SupernetSeedResult = {
    seed: request.seed,
    largestPath,
    largestAccuracy,
    sampled,
    inherited,
    steps: totalSteps,
    trainSeconds,
    evaluationSeconds: (Date.now() - evaluationStarted) / 1000,
    skippedSteps: trainer.skippedSteps,
    parameters: supernet.parameterCount(),
    lastLoss: trainer.lastLoss,
  };
  trainer.dispose();
  supernet.dispose();
  return result;
}
