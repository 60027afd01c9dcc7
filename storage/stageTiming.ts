/**
 * Wall-clock timing of the work each stage did, kept in the run directory (`timing/<stage>/<label>.json`)
 * because the workflow history is not an artifact the report can read. One file per unit of work (a
 * training chunk, a candidate batch, a robustness evaluation, …); a retried attempt merges into its file
 * (first start, last finish, busy seconds summed), so the report sees both the span and the work spent.
 * Free of Temporal: activities call `timeStage` around their work, after their "already done" check.
 */
import { timingFile, timingStageDir } from './runLayout';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';

export const STAGE_NAMES = [
  'preparing',
  'supernet',
  'evolution',
  'robustness',
  'retraining',
  'reporting',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface WorkTiming {
  stage: StageName;
  label: string;
  firstStartedAt: string;
  lastFinishedAt: string;
  /** Seconds of work summed over attempts (parallel units each count their own time). */
  busySeconds: number;
  attempts: number;
}

export async function recordWork(
  runDir: string,
  stage: StageName,
  label: string,
  startedAt: Date,
  finishedAt: Date,
): Promise<void> {
  const file = timingFile(runDir, stage, label);
  const previous = await readJsonIfExists<WorkTiming>(file);
  const seconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  const timing: WorkTiming = previous
    ? {
        ...previous,
        firstStartedAt: [previous.firstStartedAt, startedAt.toISOString()].sort()[0],
        lastFinishedAt: [previous.lastFinishedAt, finishedAt.toISOString()].sort()[1],
        busySeconds: previous.busySeconds + seconds,
        attempts: previous.attempts + 1,
      }
    : {
        stage,
        label,
        firstStartedAt: startedAt.toISOString(),
        lastFinishedAt: finishedAt.toISOString(),
        busySeconds: seconds,
        attempts: 1,
      };
  await writeJsonAtomic(file, timing);
}

/** Runs `work` and records its timing when it succeeds (a failed attempt leaves no record of its own). */
export async function timeStage<T>(
  runDir: string,
  stage: StageName,
  label: string,
  work: () => Promise<T>,
): Promise<T> {
  const startedAt = new Date();
  const result = await work();
  await recordWork(runDir, stage, label, startedAt, new Date());
  return result;
}

/** Every timing record of a run (empty for runs made before timings were recorded). */
export async function readWorkTimings(runDir: string): Promise<WorkTiming[]> {
  const timings: WorkTiming[] = [];
  for (const stage of STAGE_NAMES) {
    const dir = timingStageDir(runDir, stage);
    const files = (await fs.readdir(dir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.json'))
      .sort();
    for (const file of files) {
      const timing = await readJsonIfExists<WorkTiming>(path.join(dir, file));
      if (timing) timings.push(timing);
    }
  }
  return timings;
}
