/**
 * Stage 1 as a child-process task: trains the weight-sharing supernet (SPOS: one uniformly sampled path
 * per step, quantization-aware, optionally noise-aware) until the end of this chunk's epochs. Checkpoints
 * atomically every N steps and at every epoch end, and resumes from the newest valid checkpoint when run
 * again (a retried activity, a restarted worker): steps already checkpointed are never redone. Each epoch
 * ends with the largest path's validation accuracy after BatchNorm recalibration.
 *
 * Also trains a single architecture from scratch (stage 4): the same loop with the path fixed.
 */
import { trainingLogFile } from '../storage/runLayout';
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { reportAtSeconds, type RunConfig } from '../config/schema';
import { deriveSeed } from '../common/rng';
import { baselineDesign, baselineKey, baselineNetworkNamed } from '../search/baseline';
import { decode } from '../search/space/codec';
import { pruneCheckpoints } from '../storage/checkpoints';
import type { TrainSupernetChunkResult } from '../contracts';
import { DataParallelGroup, trainingProcesses } from './dataParallel';
import type { ChildContext } from '../tensor/childProcess';
import type { PathSpec } from '../models/supernet';
import { SUPERNET_CHECKPOINT_PREFIX } from '../models/supernetTrainer';
import { deviceWeightNoiseHook } from '../hardware/noise/weightNoise';
import type { HardwareConfig } from '../hardware/types';
import type { WeightNoiseHook } from '../models/weightNoise';
import { reconcileStepLog, recordEpoch, recordEpochIfMissing } from '../models/trainingHistory';
import {
  batchAt,
  pathAccuracy,
  recalibrationSeed,
  scheduleFor,
  stageData,
  stageSpace,
  stepsPerEpochOf,
  supernetTrainer,
  weightNoiseFor,
} from './shared';

export interface TrainingRequest {
  /** Directory holding the checkpoints and the training log. */
  dir: string;
  config: RunConfig;
  /** Train until this many epochs are complete (the end of this chunk). */
  untilEpoch: number;
  attempt: number;
  /** Stage 4: train this genome alone (from scratch) instead of the supernet. */
  fixedGenome?: number[];
  /** Stage 4: train this hand-designed baseline network (config.baseline) alone, from scratch. */
  baseline?: string;
}

/** What a training chunk reports: the activity's result without its attempt, plus the checkpoints skipped. */
export type TrainingChunkResult = Omit<TrainSupernetChunkResult, 'attempt'> & {
  skippedCheckpoints: string[];
};

interface EpochRecord {
  epochsCompleted: number;
  validationAccuracy: number | null;
}

/** What a checkpoint carries beside the trainer: the epoch record and the log lines of its steps. */
interface CheckpointExtra extends EpochRecord {
  /** Training-log lines of the steps since the previous checkpoint (committed with the weights). */
  log?: string[];
}

const CHECKPOINTS_KEPT = 3;

/**
 * Noise-aware retraining for the design's own chip: the device model the noisy evaluations sample (its
 * device, bits per cell, stuck-at rates, the drift at robustness.reportAt), at the weight level,
 * drawn per step (hardware/noise/weightNoise.ts). A design is trained for the chip it will run on.
 */
function designNoiseHook(config: RunConfig, hardware: HardwareConfig, seed: number): WeightNoiseHook {
  return deviceWeightNoiseHook(hardware, {
    seed: deriveSeed(seed, 'device-noise-aware'),
    noise: config.robustness.noise,
    // Trained for the chip as it is read at the headline time (the winner is chosen and tested there).
    timeS: reportAtSeconds(config),
  });
}

/** The initialization seed of a stage-4 design (a baseline's from its key), or the supernet's. */
export function retrainSeed(config: RunConfig, request: Pick<TrainingRequest, 'fixedGenome' | 'baseline'>) {
  if (request.baseline !== undefined)
    return deriveSeed(config.seed, 'retrain', baselineKey(request.baseline));
  if (request.fixedGenome !== undefined)
    return deriveSeed(config.seed, 'retrain', request.fixedGenome.join('.'));
  return config.seed;
}

/**
 * Everything a training chunk builds before its first step: the data, the trainer (fresh weights of the
 * run's or the design's seed) and the settings. A pure function of the request, so the data-parallel peers
 * (tasks/dataParallel.ts) build exactly the leader's replica.
 */
export async function prepareTraining(request: TrainingRequest) {
  const { config } = request;
  const baseline =
    request.baseline !== undefined
      ? baselineDesign(
          baselineNetworkNamed(config.baseline, request.baseline),
          config.baseline!.chip,
          config.space.network,
        )
      : null;
  const fixed = request.fixedGenome !== undefined || baseline !== null;
  const settings = fixed
    ? {
        ...config.retrain,
        checkpointEverySteps: config.supernet.checkpointEverySteps,
        stepsPerEpoch: config.supernet.stepsPerEpoch,
        noiseSigma: config.supernet.noiseSigma,
      }
    : config.supernet;
  const totalEpochs = fixed ? config.retrain.epochs : config.supernet.epochs;
  const splits = await stageData(config, fixed ? 'retrain' : 'search');
  const space = baseline?.space ?? stageSpace(config);
  // A retrained design starts from fresh weights of its own seed: "from scratch", not from the supernet.
  const seed = retrainSeed(config, request);
  const design = baseline?.candidate ?? (request.fixedGenome ? decode(space, request.fixedGenome) : null);
  const perEpoch = stepsPerEpochOf(splits.train, settings.batchSize, settings.stepsPerEpoch);
  const { supernet, trainer } = supernetTrainer(
    space,
    seed,
    scheduleFor(settings.learningRate, perEpoch, totalEpochs),
    design && config.retrain.noiseAware && config.retrain.noiseModel === 'device'
      ? designNoiseHook(config, design.hardware, seed)
      : weightNoiseFor(settings.noiseAware, settings.noiseSigma, seed),
    fixed ? 0 : config.supernet.largestPathShare,
    // Absent in configs written before the option: on (docs/supernet.md says why).
    fixed ? false : (config.supernet.inPlaceDistillation ?? true),
    {
      gradientShards: settings.gradientShards ?? 1,
      // Absent in configs written before the option: off, as those runs trained.
      sandwichSmallestPath: fixed ? false : (config.supernet.sandwichSmallestPath ?? false),
      // The range rule of 2-bit grids is part of the network: a retrained design keeps the search's.
      lowBitRangeClipping: config.supernet.lowBitRangeClipping ?? false,
    },
  );
  if (design) supernet.fixedPath = design;
  return { fixed, settings, totalEpochs, splits, seed, design, perEpoch, supernet, trainer };
}

export async function run(request: TrainingRequest, context: ChildContext): Promise<TrainingChunkResult> {
  const { config, dir } = request;
  await fs.mkdir(dir, { recursive: true });
  const { fixed, settings, totalEpochs, splits, seed, design, perEpoch, supernet, trainer } =
    await prepareTraining(request);
  const evaluationPath: PathSpec = design ?? supernet.largestPath();

  const latest = await trainer.resume(dir);
  const extra = latest?.state.extra as CheckpointExtra | null | undefined;
  let record: EpochRecord = {
    epochsCompleted: extra?.epochsCompleted ?? 0,
    validationAccuracy: extra?.validationAccuracy ?? null,
  };
  // Repair what a kill between the checkpoint and the files written after it left behind: the step log
  // and the epoch's history entry are derived from the checkpoint, which is the truth.
  await reconcileStepLog(dir, trainer.step, extra?.log ?? []);
  if (record.validationAccuracy !== null && trainer.step === record.epochsCompleted * perEpoch)
    await recordEpochIfMissing(dir, record.epochsCompleted - 1, trainer.step, record.validationAccuracy);
  const resumedFromStep = trainer.step;
  const untilStep = perEpoch * request.untilEpoch;
  let stepsRun = 0;
  let checkpointDir = latest?.dir ?? '';
  const logFile = trainingLogFile(dir);
  let pendingLog: string[] = [];

  const checkpoint = async () => {
    checkpointDir = await trainer.save(dir, { ...record, log: pendingLog } satisfies CheckpointExtra);
    // The log is appended after the checkpoint, so a step appears in it only once it can never be redone;
    // the checkpoint holds the same lines, so a kill between the two is repaired on resume.
    if (pendingLog.length) await fs.appendFile(logFile, pendingLog.join(''));
    pendingLog = [];
    await pruneCheckpoints(dir, SUPERNET_CHECKPOINT_PREFIX, CHECKPOINTS_KEPT);
  };

  context.report({ step: trainer.step, total: untilStep, message: `resuming at step ${trainer.step}` });
  // Gradient shards on several processes (tasks/dataParallel.ts): the weights are the same as with one.
  const processes = trainingProcesses(settings, fixed);
  const group =
    processes > 1 && trainer.step < untilStep
      ? await DataParallelGroup.start({
          trainer,
          request,
          checkpoint: latest?.dir ?? null,
          processes,
          untilStep,
        })
      : null;
  try {
    while (trainer.step < untilStep) {
      const batch = batchAt(splits.train, settings.batchSize, seed, trainer.step, perEpoch);
      const x = tf.tensor4d(batch.x, [
        batch.count,
        splits.train.height,
        splits.train.width,
        splits.train.channels,
      ]);
      const y = tf.tensor1d(batch.y, 'int32');
      const next = trainer.step + 1;
      // Replicas are compared whenever a checkpoint is written: a checkpoint never holds diverged weights.
      const checkpoints = next % perEpoch === 0 || next % settings.checkpointEverySteps === 0;
      let loss: number;
      try {
        loss = group ? await group.step(x, y, checkpoints) : tf.tidy(() => trainer.trainStep(x, y));
      } finally {
        tf.dispose([x, y]);
      }
      stepsRun++;
      pendingLog.push(
        `${JSON.stringify({ globalStep: trainer.step, epoch: batch.epoch, loss, attempt: request.attempt, pid: process.pid })}\n`,
      );
      const epochEnds = trainer.step % perEpoch === 0;
      if (epochEnds) {
        const validationAccuracy = pathAccuracy(supernet, evaluationPath, splits.train, splits.validation, {
          calibrationBatches: config.evolution.bnRecalBatches,
          batchSize: settings.batchSize,
          images: config.evolution.validationImages,
          seed: recalibrationSeed(config),
        });
        record = { epochsCompleted: trainer.step / perEpoch, validationAccuracy };
        await checkpoint();
        // After the checkpoint, so the epoch's every step is in the log its mean loss is read from.
        await recordEpoch(dir, record.epochsCompleted - 1, trainer.step, validationAccuracy);
        context.report({
          step: trainer.step,
          total: untilStep,
          message: `epoch ${record.epochsCompleted} done: ${fixed ? '' : 'largest path '}validation accuracy ${(validationAccuracy * 100).toFixed(2)} %`,
          details: { ...record, ...(group ? { dataParallel: { processes, ...group.timings } } : {}) },
        });
      } else {
        if (trainer.step % settings.checkpointEverySteps === 0) await checkpoint();
        context.report({
          step: trainer.step,
          total: untilStep,
          message: `epoch ${batch.epoch + 1}/${totalEpochs} step ${trainer.step % perEpoch || perEpoch}/${perEpoch} loss ${loss.toFixed(4)}`,
        });
      }
    }
  } finally {
    await group?.close();
  }
  trainer.dispose();
  supernet.dispose();
  return {
    epochsCompleted: record.epochsCompleted,
    globalStep: trainer.step,
    resumedFromStep,
    stepsRun,
    validationAccuracy: record.validationAccuracy,
    lastLoss: trainer.lastLoss,
    checkpoint: checkpointDir,
    skippedCheckpoints: latest?.skipped.map((s) => s.reason) ?? [],
  };
}
