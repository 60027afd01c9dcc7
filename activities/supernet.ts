/**
 * Stage 1 activity: trains the supernet for one chunk of epochs in a forked child, relaying heartbeats
 * while the child makes progress. Idempotent: a chunk that already finished returns its stored result; an
 * interrupted one resumes from the newest valid checkpoint.
 */
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import type { TrainingChunkResult, TrainingRequest } from '../models/trainingTask';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';
import { runInChild } from '../tensor/childProcess';
import type { TrainSupernetChunkInput, TrainSupernetChunkResult } from './contracts';
import { toActivityFailure } from './failures';

const TRAINING_TASK = path.join(__dirname, '..', 'models', `trainingTask${path.extname(__filename)}`);

/** Kill a child that reports nothing for this long: far above any single training step. */
const STALL_TIMEOUT_MS = Number(process.env.IMCNAS_STALL_TIMEOUT_MS ?? 10 * 60_000);

export async function trainSupernetChunk(input: TrainSupernetChunkInput): Promise<TrainSupernetChunkResult> {
  const context = Context.current();
  const dir = path.join(input.runDir, 'supernet');
  const resultFile = path.join(dir, `chunk-until-epoch-${String(input.untilEpoch).padStart(4, '0')}.json`);
  const stored = await readJsonIfExists<TrainSupernetChunkResult>(resultFile);
  if (stored) return stored;

  const request: TrainingRequest = {
    dir,
    seed: input.seed,
    dataset: input.dataset,
    training: input.supernet,
    untilEpoch: input.untilEpoch,
    attempt: context.info.attempt,
  };
  let result: TrainingChunkResult;
  try {
    result = await runInChild<TrainingRequest, TrainingChunkResult>({
      modulePath: TRAINING_TASK,
      request,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      signal: context.cancellationSignal,
      env: {
        IMCNAS_ACTIVITY: `${context.info.workflowExecution?.workflowId ?? 'standalone'}/${context.info.activityId}`,
      },
      onSpawn: (child) =>
        context.log.info('training child started', { pid: child.pid, attempt: context.info.attempt }),
      // Heartbeat details are a pointer (the step), never weights: the checkpoint on disk is the truth.
      onProgress: (progress) =>
        context.heartbeat({ step: progress.step, total: progress.total, message: progress.message }),
    });
  } catch (error) {
    throw toActivityFailure(error);
  }
  const final: TrainSupernetChunkResult = {
    epochsCompleted: result.epochsCompleted,
    globalStep: result.globalStep,
    resumedFromStep: result.resumedFromStep,
    stepsRun: result.stepsRun,
    validationAccuracy: result.validationAccuracy,
    lastLoss: result.lastLoss,
    checkpoint: path.relative(input.runDir, result.checkpoint),
    attempt: context.info.attempt,
  };
  await writeJsonAtomic(resultFile, final);
  return final;
}
