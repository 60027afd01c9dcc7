/** Every activity the worker registers; workflows see only their types. */
import { evaluateBaseline, retrainBaseline } from './baseline';
import { evaluateCandidates, evaluateFinalModel, evaluateRobustness } from './evaluation';
import { proposeGeneration, tellGeneration } from './evolution';
import { chooseForRetraining, chooseForRobustness } from './policy';
import { writeResults } from './results';
import { prepareRun } from './run';
import { retrainCandidate, trainSupernetChunk } from './supernet';
import { withErrorPolicy } from './failures';

// Every activity under one error policy (failures.ts): deterministic errors fail for good, naming the cause.
export const activities = {
  prepareRun: withErrorPolicy(prepareRun),
  trainSupernetChunk: withErrorPolicy(trainSupernetChunk),
  proposeGeneration: withErrorPolicy(proposeGeneration),
  evaluateCandidates: withErrorPolicy(evaluateCandidates),
  tellGeneration: withErrorPolicy(tellGeneration),
  chooseForRobustness: withErrorPolicy(chooseForRobustness),
  evaluateRobustness: withErrorPolicy(evaluateRobustness),
  chooseForRetraining: withErrorPolicy(chooseForRetraining),
  retrainCandidate: withErrorPolicy(retrainCandidate),
  evaluateFinalModel: withErrorPolicy(evaluateFinalModel),
  retrainBaseline: withErrorPolicy(retrainBaseline),
  evaluateBaseline: withErrorPolicy(evaluateBaseline),
  writeResults: withErrorPolicy(writeResults),
};
export type Activities = typeof activities;
