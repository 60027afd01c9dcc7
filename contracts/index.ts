/**
 * The small JSON that crosses Temporal: workflow input, activity inputs and results. Only ids, settings,
 * numbers and artifact paths; never tensors (Temporal payloads fail at 2 MB).
 *
 * Plain types with no Temporal import, so the tasks, the report and the client read the same shapes the
 * workflow and activities exchange without depending on the Temporal adapter layer (docs/design.md §Layers).
 */
import type { CandidateMetrics } from '../search/evolution';
import type { RunConfig } from '../config/schema';

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
  config: RunConfig;
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

export type Stage =
  'preparing' | 'supernet' | 'evolution' | 'robustness' | 'retraining' | 'reporting' | 'done';

export interface FrontPoint {
  key: string;
  genome: number[];
  objectives: number[];
  /** The design in words (search/describe.ts); absent in histories written before it existed. */
  description?: { network: string; chip: string };
}

/** What the `progress` query answers; also carried across continue-as-new. */
export interface SearchProgress {
  searchId: string;
  stage: Stage;
  startedAt: string;
  epochsCompleted: number;
  epochsTotal: number;
  supernetValidationAccuracy: number | null;
  /** Generations completed. */
  generation: number;
  generationsTotal: number;
  /** Candidates evaluated in the generation in flight, of how many. */
  evaluated: number;
  evaluating: number;
  evaluationsTotal: number;
  objectives: string[];
  front: FrontPoint[];
  bestAccuracy: number | null;
  bestEdap: number | null;
  robustDone: number;
  robustTotal: number;
  retrained: number;
  retrainTotal: number;
  paused: boolean;
  stopRequested: StopMode | null;
  /** Seconds to the end of the search, estimated from the pace so far; null until known. */
  etaSeconds: number | null;
  /** Runs of this workflow (continue-as-new) so far. */
  continuedAsNew: number;
  /** Evaluations that failed for good and were left out, per stage. */
  dropped: DroppedCounts;
  /** What the user must know about the outcome: each dropped evaluation with its cause (capped). */
  problems: string[];
}

export interface DroppedCounts {
  /** Stage-2 candidates whose evaluation failed (told back to the optimizer as infeasible). */
  candidates: number;
  /** Stage-3 front designs whose noisy-chip evaluation failed. */
  robustness: number;
  /** Stage-4 designs whose retraining or final test failed. */
  finals: number;
  /** Hand-designed baselines whose retraining or test failed (absent before baselines existed). */
  baselines?: number;
}

/**
 * complete: every stage delivered all it was asked for; partial: some evaluations failed (within
 * `failures.maxDroppedShare`; see `problems`); stopped: the user stopped the search early.
 */
export type SearchOutcome = 'complete' | 'partial' | 'stopped';

export type StopMode = 'now' | 'after-generation';

export interface StopRequest {
  /** 'now': cancel work in flight and return the best so far; 'after-generation': end the search after the
   * generation in flight, then run robustness and retraining on the front found. */
  mode: StopMode;
}

/** Carried from one run of the workflow to the next at continue-as-new. */
export interface CarriedState {
  progress: SearchProgress;
  supernet: TrainSupernetChunkResult | null;
  generationHistory: GenerationHistoryPoint[];
  /** Wall-clock ms spent in generations so far (for the ETA). */
  generationMs: number;
  /** Stage 3's results, once it has run (a run continued during stage 4 does not redo it). */
  robust?: RobustnessResult[];
  /** Stage 4: the keys of the designs it retrains, in order, chosen once when it starts. */
  winners?: string[];
  /** Stage 4's finished designs so far. */
  finals?: FinalModelResult[];
  /** Stage 4: epochs already retrained of the first winner not in `finals`. */
  retrainEpochs?: number;
  /** Stage 4: the hand-designed baselines finished so far. */
  baselines?: BaselineResult[];
  /** Stage 4: epochs already retrained of the first baseline not in `baselines`. */
  baselineEpochs?: number;
}

export interface GenerationHistoryPoint {
  generation: number;
  evaluations: number;
  bestAccuracy: number | null;
  bestEdap: number | null;
  frontSize: number;
}

export interface EvaluateCandidatesInput {
  runDir: string;
  generation: number;
  config: RunConfig;
  candidates: ProposedCandidate[];
}

export interface RobustnessInput {
  runDir: string;
  config: RunConfig;
  candidate: ProposedCandidate;
}

export interface DriftAccuracy {
  seconds: number;
  accuracyMean: number;
  accuracyStd: number;
  accuracyP5: number;
}

export interface RobustnessResult {
  key: string;
  samples: number;
  /** The drift time (robustness.reportAt) the headline accuracies below are read at. */
  reportAtSeconds: number;
  accuracyMean: number;
  accuracyStd: number;
  accuracyMin: number;
  accuracyP5: number;
  digitalAccuracy: number;
  /** Every configured drift time's numbers. */
  drift: DriftAccuracy[];
  evaluator: string;
}

export interface RetrainInput {
  runDir: string;
  config: RunConfig;
  candidate: ProposedCandidate;
  untilEpoch: number;
}

export interface RetrainChunkResult {
  key: string;
  epochsCompleted: number;
  validationAccuracy: number | null;
  checkpoint: string;
}

export interface FinalEvaluationInput {
  runDir: string;
  config: RunConfig;
  candidate: ProposedCandidate;
}

/** A design exported for another tool, relative to the run directory, or why the tool cannot express it. */
export type ToolExport = { dir: string } | { problems: string[] };

export interface FinalModelResult {
  key: string;
  testAccuracyDigital: number;
  testAccuracyMean: number;
  testAccuracyStd: number;
  testAccuracyP5: number;
  /** The drift time (robustness.reportAt) the noisy test accuracies above are read at. */
  reportAtSeconds: number;
  /** Every configured drift time's noisy test accuracies. */
  testDrift: DriftAccuracy[];
  samples: number;
  exportDir: string;
  /**
   * The design's DNN+NeuroSim directory (docs/neurosim-export.md), relative to the run directory, or why
   * NeuroSim cannot express it. Absent in results written before stage 4 exported it.
   */
  neurosimExport?: ToolExport;
  /** The same for aihwkit (docs/aihwkit-export.md): model.onnx + aihwkit.json, the run's drift times. */
  aihwkitExport?: ToolExport;
  hardware: CandidateMetricsJson;
}

/** A hand-designed baseline (config.baseline) after stage 4's retraining and noisy test. */
export interface BaselineResult extends FinalModelResult {
  /** The network's name in config.baseline.networks (key = `baseline-<name>`). */
  name: string;
  /** Network, bits and chip in words. */
  description: string;
}

export interface BaselineRetrainInput {
  runDir: string;
  config: RunConfig;
  /** A network name of config.baseline.networks. */
  baseline: string;
  untilEpoch: number;
}

export interface BaselineEvaluationInput {
  runDir: string;
  config: RunConfig;
  baseline: string;
}

export interface WriteResultsInput {
  searchId: string;
  runDir: string;
  config: RunConfig;
  generationHistory: GenerationHistoryPoint[];
  robust: RobustnessResult[];
  finals: FinalModelResult[];
  /** The hand-designed baselines measured (absent in searches without config.baseline). */
  baselines?: BaselineResult[];
  stopped: StopMode | null;
  outcome: SearchOutcome;
  dropped: DroppedCounts;
  problems: string[];
}

export interface SearchResult {
  searchId: string;
  runDir: string;
  stoppedEarly: StopMode | null;
  supernetValidationAccuracy: number | null;
  generations: number;
  evaluations: number;
  /** Objective names, in the order of every objective vector. */
  objectives: string[];
  front: FrontPoint[];
  robust: RobustnessResult[];
  finals: FinalModelResult[];
  /** The hand-designed baselines measured (absent in searches without config.baseline). */
  baselines?: BaselineResult[];
  resultsFile: string;
  outcome: SearchOutcome;
  dropped: DroppedCounts;
  problems: string[];
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

/** Metrics named as objectives and constraints name them: the search's own record, as JSON. */
export type CandidateMetricsJson = CandidateMetrics;

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
  /** The design in words (search/describe.ts); absent in summaries written before it existed. */
  description?: { network: string; chip: string };
}

export interface GenerationSummary {
  generation: number;
  evaluations: number;
  failed: number;
  front: FrontMember[];
  bestAccuracy: number | null;
  bestEdap: number | null;
}

/** Which front members stage 3 tests on noisy chips (search/frontPolicy.ts frontForRobustness). */
export interface ChooseForRobustnessInput {
  runDir: string;
  config: RunConfig;
  front: FrontPoint[];
}

/** Which of stage 3's designs stage 4 retrains, in order (search/frontPolicy.ts winnersForRetraining). */
export interface ChooseForRetrainingInput {
  runDir: string;
  config: RunConfig;
  front: FrontPoint[];
  robust: RobustnessResult[];
}
