/**
 * The per-epoch training history a training run keeps beside its checkpoints (`<dir>/history.json`):
 * mean training loss, validation accuracy and wall-clock time of every finished epoch. The step log
 * (train-log.jsonl) has every loss, but the validation accuracy of an epoch lived only in checkpoint state,
 * which is pruned; this small file survives for the report. Written atomically at each epoch end.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';

export const TRAINING_HISTORY_FILE = 'history.json';
export const TRAINING_LOG_FILE = 'train-log.jsonl';

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

/** Every step of the training log (empty when the run has none). */
export async function readStepLog(dir: string): Promise<StepLogLine[]> {
  const text = await fs.readFile(path.join(dir, TRAINING_LOG_FILE), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StepLogLine);
}

export async function readTrainingHistory(dir: string): Promise<TrainingHistory | undefined> {
  return readJsonIfExists<TrainingHistory>(path.join(dir, TRAINING_HISTORY_FILE));
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
  await writeJsonAtomic(path.join(dir, TRAINING_HISTORY_FILE), history);
}
