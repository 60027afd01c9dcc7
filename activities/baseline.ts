/**
 * Stage 4's hand-designed baselines (config.baseline; search/baseline.ts): retraining chunks on the
 * training queue and the noisy test on the evaluation queue, exactly as the found designs get them
 * (activities/supernet.ts retrainCandidate, activities/evaluation.ts evaluateFinalModel). Idempotent
 * through their result files under `<runDir>/baseline/<name>/`.
 */
import { baselineDir, chunkFile, designFiles } from '../storage/runLayout';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BaselineFinalRequest } from '../tasks/chipEvaluation';
import type { TrainingChunkResult, TrainingRequest } from '../tasks/supernetTraining';
import { baselineKey } from '../search/baseline';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';
import { timeStage } from '../storage/stageTiming';
import { runChildTask } from './childTask';
import { storedOrTested } from './evaluation';
import type {
  BaselineEvaluationInput,
  BaselineResult,
  BaselineRetrainInput,
  RetrainChunkResult,
} from '../contracts';

export async function retrainBaseline(input: BaselineRetrainInput): Promise<RetrainChunkResult> {
  const key = baselineKey(input.baseline);
  const dir = designFiles(baselineDir(input.runDir, input.baseline)).train;
  const stored = await readJsonIfExists<RetrainChunkResult>(chunkFile(dir, input.untilEpoch));
  if (stored) return stored;
  const result = await timeStage(input.runDir, 'retraining', `${key}-until-epoch-${input.untilEpoch}`, () =>
    runChildTask<TrainingRequest, TrainingChunkResult>('supernetTraining', 'run', {
      dir,
      config: input.config,
      untilEpoch: input.untilEpoch,
      attempt: Context.current().info.attempt,
      baseline: input.baseline,
    }),
  );
  const final: RetrainChunkResult = {
    key,
    epochsCompleted: result.epochsCompleted,
    validationAccuracy: result.validationAccuracy,
    checkpoint: path.relative(input.runDir, result.checkpoint),
  };
  await writeJsonAtomic(chunkFile(dir, input.untilEpoch), final);
  return final;
}

export async function evaluateBaseline(input: BaselineEvaluationInput): Promise<BaselineResult> {
  const dir = baselineDir(input.runDir, input.baseline);
  return storedOrTested(designFiles(dir).final, () =>
    timeStage(input.runDir, 'retraining', `${baselineKey(input.baseline)}-final-test`, () =>
      runChildTask<BaselineFinalRequest, BaselineResult>('chipEvaluation', 'runBaselineFinal', {
        runDir: input.runDir,
        trainDir: designFiles(dir).train,
        dir,
        config: input.config,
        baseline: input.baseline,
      }),
    ),
  );
}
