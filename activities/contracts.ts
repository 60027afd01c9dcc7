/**
 * The small JSON that crosses Temporal: workflow input, activity inputs and results. Only ids, settings,
 * numbers and artifact paths; never tensors (Temporal payloads fail at 2 MB).
 */
import type { RunConfig } from '../config/schema';

export interface TaskQueues {
  orchestration: string;
  training: string;
  evaluation: string;
}

export function taskQueuesFor(prefix: string): TaskQueues {
  return {
    orchestration: `${prefix}-orchestration`,
    training: `${prefix}-training`,
    evaluation: `${prefix}-evaluation`,
  };
}

export interface SearchInput {
  searchId: string;
  /** Absolute run directory: `<artifacts.root>/<searchId>` (a shared filesystem path when workers are many). */
  runDir: string;
  config: RunConfig;
}

export interface PrepareRunResult {
  runDir: string;
  configSha256: string;
  createdAt: string;
}

export interface TrainSupernetChunkInput {
  searchId: string;
  runDir: string;
  seed: number;
  dataset: RunConfig['dataset'];
  supernet: RunConfig['supernet'];
  untilEpoch: number;
}

export interface TrainSupernetChunkResult {
  epochsCompleted: number;
  globalStep: number;
  resumedFromStep: number;
  stepsRun: number;
  validationAccuracy: number | null;
  lastLoss: number | null;
  checkpoint: string;
  attempt: number;
}

export interface SearchProgress {
  searchId: string;
  stage: 'preparing' | 'supernet' | 'done' | 'cancelled';
  epochsCompleted: number;
  epochsTotal: number;
  validationAccuracy: number | null;
  startedAt: string;
}

export interface SearchResult {
  searchId: string;
  runDir: string;
  supernet: TrainSupernetChunkResult[];
  finalValidationAccuracy: number | null;
}

export interface ProposeInput {
  runDir: string;
  generation: number;
  config: RunConfig;
}

export interface ProposedCandidate {
  key: string;
  genome: number[];
}

export interface ProposedGeneration {
  generation: number;
  candidates: ProposedCandidate[];
}

/** Metrics named as objectives and constraints name them (see search/evolution.ts CandidateMetrics). */
export interface CandidateMetricsJson {
  accuracy: number;
  energy: number;
  latency: number;
  area: number;
  edap: number;
  edp: number;
  topsPerWatt: number;
  topsPerMm2: number;
  capacityExcess: number;
  robustAccuracyMean?: number;
  robustAccuracyP5?: number;
}

export interface CandidateResult {
  key: string;
  metrics: CandidateMetricsJson;
}

export interface TellInput {
  runDir: string;
  generation: number;
  config: RunConfig;
  results: CandidateResult[];
}

export interface FrontMember {
  key: string;
  genome: number[];
  objectives: number[];
}

export interface GenerationSummary {
  generation: number;
  evaluations: number;
  failed: number;
  front: FrontMember[];
  bestAccuracy: number | null;
  bestEdap: number | null;
}
