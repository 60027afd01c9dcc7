/**
 * Stage-1 training as a child-process task: trains the model for the epochs of one chunk, checkpointing
 * atomically every N steps and at every epoch end, and resumes from the newest valid checkpoint when it is
 * run again (a retried activity, a restarted worker). Steps already checkpointed are never redone.
 *
 * Runs inside a forked child (see tensor/childProcess.ts): it reports progress, never talks to Temporal.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { deriveSeed } from '../common/rng';
import { epochBatches, gatherBatch, loadSplits, type DatasetSpec } from '../data/dataset';
import { loadLatestCheckpoint, pruneCheckpoints, saveCheckpoint } from '../storage/checkpoints';
import type { ChildContext } from '../tensor/childProcess';
import { Mlp } from './mlp';
import { accuracy, restoreVariables, snapshotVariables, type TrainableModel } from './trainable';

export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  checkpointEverySteps: number;
  stepsPerEpoch?: number;
}

export interface TrainingRequest {
  /** Directory holding this model's checkpoints and training log. */
  dir: string;
  seed: number;
  dataset: DatasetSpec;
  training: TrainingSettings;
  /** Train until this many epochs are complete (the end of this chunk). */
  untilEpoch: number;
  attempt: number;
}

export interface TrainingState {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  epochsCompleted: number;
  lastLoss: number | null;
  validationAccuracy: number | null;
}

export interface TrainingChunkResult {
  epochsCompleted: number;
  globalStep: number;
  resumedFromStep: number;
  stepsRun: number;
  validationAccuracy: number | null;
  lastLoss: number | null;
  checkpoint: string;
  skippedCheckpoints: string[];
}

const CHECKPOINT_PREFIX = 'step';
const CHECKPOINTS_KEPT = 3;

export async function run(request: TrainingRequest, context: ChildContext): Promise<TrainingChunkResult> {
  await tf.setBackend('cpu');
  const { dir, training } = request;
  await fs.mkdir(dir, { recursive: true });
  const splits = await loadSplits(request.dataset, request.seed);
  const imageShape: [number, number, number] = [
    splits.train.height,
    splits.train.width,
    splits.train.channels,
  ];
  const model: TrainableModel = new Mlp(
    imageShape[0] * imageShape[1] * imageShape[2],
    64,
    splits.train.numClasses,
    deriveSeed(request.seed, 'init'),
  );
  const optimizer = tf.train.sgd(training.learningRate);

  let state: TrainingState = {
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    epochsCompleted: 0,
    lastLoss: null,
    validationAccuracy: null,
  };
  const latest = await loadLatestCheckpoint<TrainingState>(dir, CHECKPOINT_PREFIX);
  if (latest) {
    restoreVariables(model.variables, latest.tensors);
    state = latest.state;
  }
  const resumedFromStep = state.globalStep;
  const stepsPerEpoch = Math.min(
    training.stepsPerEpoch ?? Infinity,
    Math.ceil(splits.train.count / training.batchSize),
  );
  const totalSteps = stepsPerEpoch * request.untilEpoch;
  let stepsRun = 0;
  let checkpointDir = latest?.dir ?? '';
  const logFile = path.join(dir, 'train-log.jsonl');
  let pendingLog: string[] = [];

  const checkpoint = async () => {
    checkpointDir = await saveCheckpoint(
      dir,
      CHECKPOINT_PREFIX,
      state.globalStep,
      snapshotVariables(model.variables),
      state,
    );
    // The log is written after the checkpoint: a step appears in it only once it can never be redone.
    if (pendingLog.length) await fs.appendFile(logFile, pendingLog.join(''));
    pendingLog = [];
    await pruneCheckpoints(dir, CHECKPOINT_PREFIX, CHECKPOINTS_KEPT);
  };

  context.report({
    step: state.globalStep,
    total: totalSteps,
    message: `resuming at step ${state.globalStep}`,
  });
  while (state.epochsCompleted < request.untilEpoch) {
    const batches = epochBatches(splits.train.count, training.batchSize, request.seed, state.epoch).slice(
      0,
      stepsPerEpoch,
    );
    while (state.stepInEpoch < batches.length) {
      const batch = gatherBatch(splits.train, batches[state.stepInEpoch]);
      const step = state.globalStep;
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, [batch.y.length, ...imageShape]);
        const y = tf.tensor1d(batch.y, 'int32');
        return optimizer.minimize(() => model.loss(x, y, step), true, [...model.variables.values()])!;
      });
      const lossValue = (await loss.data())[0];
      loss.dispose();
      state = {
        ...state,
        stepInEpoch: state.stepInEpoch + 1,
        globalStep: state.globalStep + 1,
        lastLoss: lossValue,
      };
      stepsRun++;
      pendingLog.push(
        `${JSON.stringify({ globalStep: state.globalStep, epoch: state.epoch, loss: lossValue, attempt: request.attempt, pid: process.pid })}\n`,
      );
      if (state.globalStep % training.checkpointEverySteps === 0) await checkpoint();
      context.report({
        step: state.globalStep,
        total: totalSteps,
        message: `epoch ${state.epoch + 1}/${request.untilEpoch} step ${state.stepInEpoch}/${batches.length} loss ${lossValue.toFixed(4)}`,
      });
    }
    const validationAccuracy = accuracy(model, splits.validation.x, splits.validation.y, imageShape);
    state = {
      ...state,
      epoch: state.epoch + 1,
      stepInEpoch: 0,
      epochsCompleted: state.epochsCompleted + 1,
      validationAccuracy,
    };
    await checkpoint();
    context.report({
      step: state.globalStep,
      total: totalSteps,
      message: `epoch ${state.epochsCompleted} done: validation accuracy ${(validationAccuracy * 100).toFixed(2)} %`,
      details: { epoch: state.epochsCompleted, validationAccuracy },
    });
  }
  optimizer.dispose();
  return {
    epochsCompleted: state.epochsCompleted,
    globalStep: state.globalStep,
    resumedFromStep,
    stepsRun,
    validationAccuracy: state.validationAccuracy,
    lastLoss: state.lastLoss,
    checkpoint: checkpointDir,
    skippedCheckpoints: latest?.skipped.map((s) => s.reason) ?? [],
  };
}
