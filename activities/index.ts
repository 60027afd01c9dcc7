/** Every activity the worker registers; workflows see only their types. */
import { prepareRun } from './run';
import { trainSupernetChunk } from './supernet';

export const activities = { prepareRun, trainSupernetChunk };
export type Activities = typeof activities;
