/**
 * Everything the report reads from a run directory, loaded once: results.json (required), config.yaml,
 * manifest.json, the supernet's training history and step log, the per-sample Monte-Carlo results of the
 * robustness and final evaluations, and the stage timings. Files added by later imcnas versions
 * (history.json, timing/) are optional: a run recorded before them still gets a report.
 */
import {
  designFiles,
  finalDir,
  FRONT_CSV,
  REPORT_FILE,
  RESULTS_FILE,
  robustDir,
  runFiles,
  supernetDir,
} from '../storage/runLayout';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type {
  CandidateMetricsJson,
  FinalModelResult,
  GenerationHistoryPoint,
  RobustnessResult,
  StopMode,
  DroppedCounts,
  SearchOutcome,
} from '../contracts';
import { validateConfig } from '../config/load';
import type { RunConfig } from '../config/schema';
import type { RobustnessResult as EvaluatorResult } from '../evaluator/types';
import {
  readStepLog,
  readTrainingHistory,
  type StepLogLine,
  type TrainingHistory,
} from '../models/trainingHistory';
import type { ArchitectureSpec, QuantizationSpec } from '../search/architecture';
import type { HardwareConfig } from '../hardware/types';
import { readJsonIfExists } from '../storage/atomic';
import type { ResultsBaseline } from './baselines';
import { readWorkTimings, type WorkTiming } from '../storage/stageTiming';

export { FRONT_CSV, REPORT_FILE, RESULTS_FILE };

/** One evaluated candidate as results.json stores it. */
export interface ResultsCandidate {
  key: string;
  genome: number[];
  generation: number;
  metrics: CandidateMetricsJson;
  onFront: boolean;
  description: string;
  architecture: ArchitectureSpec;
  quantization: QuantizationSpec;
  hardware: HardwareConfig;
}

/** results.json (format imcnas-results-v1), written by the reporting stage. */
export interface SearchResultsFile {
  format: 'imcnas-results-v1';
  searchId: string;
  name: string;
  seed: number;
  objectives: RunConfig['objectives'];
  constraints: RunConfig['constraints'];
  stoppedEarly: StopMode | null;
  /** Absent in results written before outcomes were recorded (read as complete). */
  outcome?: SearchOutcome;
  dropped?: DroppedCounts;
  problems?: string[];
  generations: GenerationHistoryPoint[];
  evaluations: number;
  front: ResultsCandidate[];
  robustness: RobustnessResult[];
  finalModels: FinalModelResult[];
  /** The hand-designed baselines against the found design; absent when the run had no config.baseline. */
  baselines?: ResultsBaseline[];
  candidates: ResultsCandidate[];
}

/** A stage-1 chunk's stored result (supernet/chunk-until-epoch-NNNN.json). */
export interface SupernetChunkRecord {
  epochsCompleted: number;
  globalStep: number;
  validationAccuracy: number | null;
  lastLoss: number | null;
}

export interface TrainingRecord {
  history: TrainingHistory | undefined;
  steps: StepLogLine[];
}

export interface FinalRecord {
  drift: RobustnessResult['drift'];
  raw: EvaluatorResult | undefined;
  training: TrainingRecord;
}

export interface RunData {
  runDir: string;
  results: SearchResultsFile;
  config: RunConfig;
  configText: string;
  createdAt: string | undefined;
  supernet: TrainingRecord & { chunks: SupernetChunkRecord[] };
  /** Per-sample Monte-Carlo results of stage 3, by candidate key. */
  robustSamples: Map<string, EvaluatorResult>;
  finals: Map<string, FinalRecord>;
  timings: WorkTiming[];
}

/** Bad input to the report (no results, not a run directory): the message names the problem and the fix. */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
}

/** Accepts a run directory or the path of its results.json. */
export function runDirOf(target: string): string {
  return path.basename(target) === RESULTS_FILE ? path.dirname(target) : target;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** results.json and the config of a run; what `--compare` needs and what every report starts from. */
export async function loadRunResults(
  target: string,
): Promise<{ runDir: string; results: SearchResultsFile; config: RunConfig; configText: string }> {
  const runDir = path.resolve(runDirOf(target));
  const stat = await fs.stat(runDir).catch(() => undefined);
  if (!stat?.isDirectory())
    throw new ReportInputError(
      `${runDir} is not a directory: give a run directory (runs/<searchId>) or a search id`,
    );
  const resultsFile = runFiles(runDir).results;
  const resultsText = await readText(resultsFile);
  if (resultsText === undefined)
    throw new ReportInputError(
      `${resultsFile} does not exist: the search has not reached its reporting stage ` +
        `(see \`imcnas status <searchId>\`; a failed one resumes with \`imcnas resume-failed <searchId>\`), ` +
        'or this is not a run directory',
    );
  let results: SearchResultsFile;
  try {
    results = JSON.parse(resultsText) as SearchResultsFile;
  } catch (error) {
    throw new ReportInputError(
      `${resultsFile} is not valid JSON (${(error as Error).message}): ` +
        'it was not written by imcnas or was edited; write it again by re-running the search with `imcnas resume-failed`',
    );
  }
  if (results.format !== 'imcnas-results-v1' || !Array.isArray(results.candidates))
    throw new ReportInputError(
      `${resultsFile} is not an imcnas results file (format ${JSON.stringify(results.format)}, expected "imcnas-results-v1")`,
    );
  const configFile = runFiles(runDir).config;
  const configText = await readText(configFile);
  if (configText === undefined)
    throw new ReportInputError(
      `${configFile} does not exist: a run directory keeps the configuration it ran with; restore it from the search's config file`,
    );
  const config = validateConfig(parseYaml(configText));
  return { runDir, results, config, configText };
}

async function readTraining(dir: string): Promise<TrainingRecord> {
  return { history: await readTrainingHistory(dir), steps: await readStepLog(dir) };
}

async function jsonFiles<T>(dir: string, pattern: RegExp): Promise<Array<{ name: string; value: T }>> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => pattern.test(n)).sort();
  const files: Array<{ name: string; value: T }> = [];
  for (const name of names) {
    const value = await readJsonIfExists<T>(path.join(dir, name));
    if (value !== undefined) files.push({ name, value });
  }
  return files;
}

/** The stored results of stage 1's training chunks, in epoch order. */
export async function loadSupernetChunks(runDir: string): Promise<SupernetChunkRecord[]> {
  const files = await jsonFiles<SupernetChunkRecord>(supernetDir(runDir), /^chunk-until-epoch-\d+\.json$/);
  return files.map((file) => file.value);
}

export async function loadRunData(target: string): Promise<RunData> {
  const { runDir, results, config, configText } = await loadRunResults(target);
  const manifest = await readJsonIfExists<{ createdAt?: string }>(runFiles(runDir).manifest);
  const supernet = supernetDir(runDir);

  const robustSamples = new Map<string, EvaluatorResult>();
  for (const { name, value } of await jsonFiles<{ raw?: EvaluatorResult }>(robustDir(runDir), /\.json$/)) {
    if (value.raw) robustSamples.set(name.replace(/\.json$/, ''), value.raw);
  }
  const finals = new Map<string, FinalRecord>();
  for (const final of results.finalModels) {
    const dir = finalDir(runDir, final.key);
    const stored = await readJsonIfExists<{
      testDrift?: RobustnessResult['drift'];
      drift?: RobustnessResult['drift'];
      raw?: EvaluatorResult;
    }>(designFiles(dir).final);
    finals.set(final.key, {
      // `drift` is what runs before robustness.reportAt stored.
      drift: stored?.testDrift ?? stored?.drift ?? [],
      raw: stored?.raw,
      training: await readTraining(designFiles(dir).train),
    });
  }
  return {
    runDir,
    results,
    config,
    configText,
    createdAt: manifest?.createdAt,
    supernet: { ...(await readTraining(supernet)), chunks: await loadSupernetChunks(runDir) },
    robustSamples,
    finals,
    timings: await readWorkTimings(runDir),
  };
}
