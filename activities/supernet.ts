/**
 * Training activities (training queue): stage 1's supernet chunks and stage 4's retraining chunks. Each
 * is idempotent: a finished chunk returns its stored result; an interrupted one resumes from the newest
 * valid checkpoint inside the child task.
 */
import { chunkFile, designFiles, finalDir, supernetDir } from '../storage/runLayout';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import type { TrainingChunkResult, TrainingRequest } from '../tasks/supernetTraining';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';
import { timeStage } from '../storage/stageTiming';
import { runChildTask } from './childTask';
import type {
  RetrainChunkResult,
  RetrainInput,
  TrainSupernetChunkInput,
  TrainSupernetChunkResult,
} from '../contracts';

export async function trainSupernetChunk(input: TrainSupernetChunkInput): Promise<TrainSupernetChunkResult> {
  const dir = supernetDir(input.runDir);
  const stored = await readJsonIfExists<TrainSupernetChunkResult>(chunkFile(dir, input.untilEpoch));
  if (stored) return stored;
  const attempt = Context.current().info.attempt;
  const result = await timeStage(input.runDir, 'supernet', `until-epoch-${input.untilEpoch}`, () =>
    runChildTask<TrainingRequest, TrainingChunkResult>('supernetTraining', 'run', {
      dir,
      config: input.config,
      untilEpoch: input.untilEpoch,
      attempt,
    }),
  );
  const final: TrainSupernetChunkResult = {
    epochsCompleted: result.epochsCompleted,
    globalStep: result.globalStep,
    resumedFromStep: result.resumedFromStep,
    stepsRun: result.stepsRun,
    validationAccuracy: result.validationAccuracy,
    lastLoss: result.lastLoss,
    checkpoint: path.relative(input.runDir, result.checkpoint),
    attempt,
  };
  await writeJsonAtomic(chunkFile(dir, input.untilEpoch), final);
  return final;
}

export async function retrainCandidate(input: RetrainInput): Promise<RetrainChunkResult> {
  const dir = designFiles(finalDir(input.runDir, input.candidate.key)).train;
  const stored = await readJsonIfExists<RetrainChunkResult>(chunkFile(dir, input.untilEpoch));
  if (stored) return stored;
  const result = await timeStage(
    input.runDir,
    'retraining',
    `${input.candidate.key}-until-epoch-${input.untilEpoch}`,
    () =>
      runChildTask<TrainingRequest, TrainingChunkResult>('supernetTraining', 'run', {
        dir,
        config: input.config,
        untilEpoch: input.untilEpoch,
        attempt: Context.current().info.attempt,
        fixedGenome: input.candidate.genome,
      }),
  );
  const final: RetrainChunkResult = {
    key: input.candidate.key,
    epochsCompleted: result.epochsCompleted,
    validationAccuracy: result.validationAccuracy,
    checkpoint: path.relative(input.runDir, result.checkpoint),
  };
  await writeJsonAtomic(chunkFile(dir, input.untilEpoch), final);
  return final;
}
