/**
 * Evaluation activities (evaluation queue): stage 2's candidate accuracy + hardware metrics, stage 3's
 * Monte-Carlo robustness, stage 4's final test under noise and export. Idempotent through their result
 * files; the work runs in child tasks.
 */
import type { CandidateEvaluationRequest } from '../tasks/candidateEvaluation';
import type { FinalRequest, RobustnessRequest } from '../tasks/chipEvaluation';
import { readJsonIfExists } from '../storage/atomic';
import { timeStage } from '../storage/stageTiming';
import { runChildTask } from './childTask';
import type {
  CandidateResult,
  EvaluateCandidatesInput,
  FinalEvaluationInput,
  FinalModelResult,
  RobustnessInput,
  RobustnessResult,
} from '../contracts';
import {
  designFiles,
  designResultFile,
  finalDir,
  generationDir,
  generationFiles,
  generationLabel,
  robustDir,
} from '../storage/runLayout';

export async function evaluateCandidates(input: EvaluateCandidatesInput): Promise<CandidateResult[]> {
  const label = `${generationLabel(input.generation)}-evaluate-${input.candidates[0]?.key ?? 'none'}`;
  return timeStage(input.runDir, 'evolution', label, () =>
    runChildTask<CandidateEvaluationRequest, CandidateResult[]>('candidateEvaluation', 'run', {
      dir: generationFiles(generationDir(input.runDir, input.generation)).evaluations,
      runDir: input.runDir,
      generation: input.generation,
      config: input.config,
      candidates: input.candidates,
    }),
  );
}

export async function evaluateRobustness(input: RobustnessInput): Promise<RobustnessResult> {
  const dir = robustDir(input.runDir);
  return storedOrTested(designResultFile(dir, input.candidate.key), () =>
    timeStage(input.runDir, 'robustness', input.candidate.key, () =>
      runChildTask<RobustnessRequest, RobustnessResult>('chipEvaluation', 'runRobustness', {
        runDir: input.runDir,
        dir,
        config: input.config,
        candidate: input.candidate,
      }),
    ),
  );
}

export async function evaluateFinalModel(input: FinalEvaluationInput): Promise<FinalModelResult> {
  const dir = finalDir(input.runDir, input.candidate.key);
  return storedOrTested(designFiles(dir).final, () =>
    timeStage(input.runDir, 'retraining', `${input.candidate.key}-final-test`, () =>
      runChildTask<FinalRequest, FinalModelResult>('chipEvaluation', 'runFinal', {
        runDir: input.runDir,
        trainDir: designFiles(dir).train,
        dir,
        config: input.config,
        candidate: input.candidate,
      }),
    ),
  );
}

/**
 * A tested design's result as its file holds it, without the evaluator's raw record, or, when no attempt
 * finished yet, `test()`'s (whose child writes that file): a retried activity never tests twice.
 */
export async function storedOrTested<T extends object>(file: string, test: () => Promise<T>): Promise<T> {
  const stored = await readJsonIfExists<T & { raw?: unknown }>(file);
  if (!stored) return test();
  const { raw: _raw, ...result } = stored;
  return result as T;
}
