/**
 * The per-epoch training history a training run keeps beside its checkpoints (`<dir>/history.json`):
 * mean training loss, validation accuracy and wall-clock time of every finished epoch. The step log
 * (train-log.jsonl) has every loss, but the validation accuracy of an epoch lived only in checkpoint state,
 * which is pruned; this small file survives for the report. Written atomically at each epoch end.
 */
import { promises as fs } from 'node:fs';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../storage/atomic';
import { trainingHistoryFile, trainingLogFile } from '../storage/runLayout';

export interface EpochHistoryEntry {
  /** Epochs complete after this one (1-based epoch number). */
  epoch: number;
  globalStep: number;
  /** Mean training loss over the epoch's logged steps; null when none was logged. */
  meanLoss: number | null;
  /** Largest path's (supernet) or the design's (retraining) validation accuracy at the epoch's end. */
  validationAccuracy: number;
  finishedAt: string;
}

export interface TrainingHistory {
  format: 'imcnas-training-history-v1';
  epochs: EpochHistoryEntry[];
}

export interface StepLogLine {
  globalStep: number;
  epoch: number;
  loss: number;
}

/**
 * Parses the training log. A line that does not parse (torn by a kill mid-append, or damaged) is skipped
 * and reported to `onBadLine`, never allowed to break every later read.
 */
export function parseStepLog(
  text: string,
  onBadLine: (lineNumber: number, line: string) => void = () => {},
): StepLogLine[] {
  const steps: StepLogLine[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line) return;
    try {
      const parsed = JSON.parse(line) as StepLogLine;
      if (Number.isInteger(parsed?.globalStep)) steps.push(parsed);
      else onBadLine(index + 1, line);
    } catch {
      onBadLine(index + 1, line);
    }
  });
  return steps;
}

/** Every step of the training log (empty when the run has none); unreadable lines are skipped. */
export async function readStepLog(dir: string): Promise<StepLogLine[]> {
  const file = trainingLogFile(dir);
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return parseStepLog(text, (lineNumber) =>
    console.warn(`[training log] ${file}:${lineNumber}: unreadable line skipped`),
  );
}

/**
 * Brings the step log in line with the checkpoint training resumes from, so that every step appears once:
 * a step's line is appended only after the checkpoint covering it is saved, and the checkpoint carries the
 * same lines, so a kill between the two is repaired here from the checkpoint; lines of steps beyond the
 * checkpoint (its successor was lost) are dropped since those steps are about to be run again; torn lines
 * are dropped. Rewrites the log atomically, and only when something changes.
 */
export async function reconcileStepLog(dir: string, step: number, checkpointLines: string[]): Promise<void> {
  const file = trainingLogFile(dir);
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const byStep = new Map<number, string>();
  let changed = false;
  const take = (line: string, fromCheckpoint: boolean) => {
    const [parsed] = parseStepLog(line);
    if (parsed && parsed.globalStep <= step && !byStep.has(parsed.globalStep)) {
      byStep.set(parsed.globalStep, line.trimEnd());
      if (fromCheckpoint) changed = true;
    } else if (!fromCheckpoint) {
      if (!parsed) console.warn(`[training log] ${file}: unreadable line dropped`);
      changed = true;
    }
  };
  for (const line of text.split('\n')) if (line) take(line, false);
  for (const line of checkpointLines) take(line, true);
  if (!changed) return;
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  await writeFileAtomic(file, steps.map((s) => `${byStep.get(s)}\n`).join(''));
}

export async function readTrainingHistory(dir: string): Promise<TrainingHistory | undefined> {
  return readJsonIfExists<TrainingHistory>(trainingHistoryFile(dir));
}

/**
 * Records a finished epoch (0-based `epochIndex` in the step log). Idempotent: a retried epoch replaces its
 * entry. The mean loss comes from the step log, so steps run by an earlier, interrupted attempt count too.
 */
export async function recordEpoch(
  dir: string,
  epochIndex: number,
  globalStep: number,
  validationAccuracy: number,
): Promise<void> {
  // A step may appear twice in the log only if a checkpoint write failed after its log line; keep the last.
  const losses = new Map<number, number>();
  for (const line of await readStepLog(dir))
    if (line.epoch === epochIndex) losses.set(line.globalStep, line.loss);
  const values = [...losses.values()].filter(Number.isFinite);
  const entry: EpochHistoryEntry = {
    epoch: epochIndex + 1,
    globalStep,
    meanLoss: values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null,
    validationAccuracy,
    finishedAt: new Date().toISOString(),
  };
  const history = (await readTrainingHistory(dir)) ?? { format: 'imcnas-training-history-v1', epochs: [] };
  history.epochs = [...history.epochs.filter((e) => e.epoch !== entry.epoch), entry].sort(
    (a, b) => a.epoch - b.epoch,
  );
  await writeJsonAtomic(trainingHistoryFile(dir), history);
}

/** recordEpoch, unless the history already has the epoch (a resume that finds nothing to repair). */
export async function recordEpochIfMissing(
  dir: string,
  epochIndex: number,
  globalStep: number,
  validationAccuracy: number,
): Promise<void> {
  const history = await readTrainingHistory(dir);
  if (history?.epochs.some((entry) => entry.epoch === epochIndex + 1)) return;
  await recordEpoch(dir, epochIndex, globalStep, validationAccuracy);
}
