/** Every activity the worker registers; workflows see only their types. */
import { evaluateCandidates, evaluateFinalModel, evaluateRobustness } from './evaluation';
import { proposeGeneration, tellGeneration } from './evolution';
import { writeResults } from './results';
import { prepareRun } from './run';
import { retrainCandidate, trainSupernetChunk } from './supernet';

export const activities = {
  prepareRun,
  trainSupernetChunk,
  proposeGeneration,
  evaluateCandidates,
  tellGeneration,
  evaluateRobustness,
  retrainCandidate,
  evaluateFinalModel,
  writeResults,
};
export type Activities = typeof activities;
