/**
 * Small deterministic stand-ins for the search's activities, for the fast workflow tier: they answer in
 * microseconds with plausible shapes so the real workflow code (stop, pause, failures, continue-as-new,
 * the result) can be tested in seconds. The integration tests run the real activities.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import { chooseForRetraining, chooseForRobustness } from '../../activities/policy';
import type {
  BaselineResult,
  CandidateResult,
  FinalModelResult,
  ProposedCandidate,
  RobustnessResult,
} from '../../contracts';

export interface StandInBehaviour {
  /** Candidate keys whose evaluation fails (non-retryable, so the test does not wait for retries). */
  failingCandidates?: (key: string) => boolean;
  /** Front keys whose robustness evaluation fails. */
  failingRobustness?: (key: string) => boolean;
  /** Awaited when a supernet chunk runs (tests pause the search while it is in flight). */
  onSupernetChunk?: (untilEpoch: number) => void | Promise<void>;
  /** Awaited when a retraining chunk runs (tests stop the search while it is in flight). */
  onRetrain?: (key: string, untilEpoch: number) => void | Promise<void>;
  candidatesPerGeneration?: number;
  /** Baseline names whose noisy test fails (non-retryable). */
  failingBaselines?: (name: string) => boolean;
}

export interface StandInLog {
  calls: Record<string, number>;
  written?: Parameters<Activities['writeResults']>[0];
}

const failure = (message: string) =>
  ApplicationFailure.create({ type: 'StandInError', message, nonRetryable: true });

export function standInActivities(behaviour: StandInBehaviour = {}): {
  activities: Activities;
  log: StandInLog;
} {
  const log: StandInLog = { calls: {} };
  const count = (name: string) => (log.calls[name] = (log.calls[name] ?? 0) + 1);
  const perGeneration = behaviour.candidatesPerGeneration ?? 4;
  const metricsOf = (candidate: ProposedCandidate) => {
    const i = candidate.genome[0]!;
    return {
      accuracy: 0.5 + 0.04 * i,
      energy: 1e-6 * (1 + i),
      latency: 1e-3,
      area: 1,
      edap: 1e-9 * (1 + i),
      edp: 1e-9,
      topsPerWatt: 10,
      topsPerMm2: 1,
      capacityExcess: 0,
    };
  };
  const activities = {
    async prepareRun(input) {
      count('prepareRun');
      return { runDir: input.runDir, configSha256: 'stand-in', createdAt: new Date(0).toISOString() };
    },
    async trainSupernetChunk(input) {
      count('trainSupernetChunk');
      await behaviour.onSupernetChunk?.(input.untilEpoch);
      return {
        epochsCompleted: input.untilEpoch,
        globalStep: input.untilEpoch * 10,
        resumedFromStep: 0,
        stepsRun: 10,
        validationAccuracy: 0.8,
        lastLoss: 0.5,
        checkpoint: 'stand-in',
        attempt: 1,
      };
    },
    async proposeGeneration(input) {
      count('proposeGeneration');
      const candidates = Array.from({ length: perGeneration }, (_, i) => ({
        key: `g${input.generation}c${i}`,
        genome: [i, input.generation],
      }));
      return { generation: input.generation, candidates };
    },
    async evaluateCandidates(input): Promise<CandidateResult[]> {
      count('evaluateCandidates');
      const failing = input.candidates.find((c) => behaviour.failingCandidates?.(c.key));
      if (failing) throw failure(`simulated evaluation failure of ${failing.key}`);
      return input.candidates.map((candidate) => ({ key: candidate.key, metrics: metricsOf(candidate) }));
    },
    async tellGeneration(input) {
      count('tellGeneration');
      // Every told candidate on the front (the stand-in does not rank); genome from the key.
      const front = input.results.map((r) => {
        const [generation, index] = r.key.slice(1).split('c').map(Number);
        return {
          key: r.key,
          genome: [index!, generation!],
          objectives: [r.metrics.accuracy, r.metrics.edap],
        };
      });
      return {
        generation: input.generation,
        evaluations: (input.generation + 1) * perGeneration,
        failed: 0,
        front,
        bestAccuracy: Math.max(...front.map((m) => m.objectives[0]!)),
        bestEdap: Math.min(...front.map((m) => m.objectives[1]!)),
      };
    },
    // The real policies: pure functions of the front, as fast as any stand-in.
    async chooseForRobustness(input) {
      count('chooseForRobustness');
      return chooseForRobustness(input);
    },
    async chooseForRetraining(input) {
      count('chooseForRetraining');
      return chooseForRetraining(input);
    },
    async evaluateRobustness(input): Promise<RobustnessResult> {
      count('evaluateRobustness');
      if (behaviour.failingRobustness?.(input.candidate.key))
        throw failure(`simulated chip failure of ${input.candidate.key}`);
      const accuracy = 0.4 + 0.04 * input.candidate.genome[0]!;
      return {
        key: input.candidate.key,
        samples: 2,
        reportAtSeconds: 1,
        accuracyMean: accuracy,
        accuracyStd: 0.01,
        accuracyMin: accuracy - 0.01,
        accuracyP5: accuracy - 0.01,
        digitalAccuracy: accuracy + 0.1,
        drift: [],
        evaluator: 'stand-in',
      };
    },
    async retrainCandidate(input) {
      count('retrainCandidate');
      await behaviour.onRetrain?.(input.candidate.key, input.untilEpoch);
      return {
        key: input.candidate.key,
        epochsCompleted: input.untilEpoch,
        validationAccuracy: 0.9,
        checkpoint: '',
      };
    },
    async evaluateFinalModel(input): Promise<FinalModelResult> {
      count('evaluateFinalModel');
      return {
        key: input.candidate.key,
        testAccuracyDigital: 0.9,
        testAccuracyMean: 0.88,
        testAccuracyStd: 0.01,
        testAccuracyP5: 0.87,
        reportAtSeconds: 1,
        testDrift: [],
        samples: 2,
        exportDir: 'stand-in',
        hardware: metricsOf(input.candidate),
      };
    },
    async retrainBaseline(input) {
      count('retrainBaseline');
      await behaviour.onRetrain?.(`baseline-${input.baseline}`, input.untilEpoch);
      return {
        key: `baseline-${input.baseline}`,
        epochsCompleted: input.untilEpoch,
        validationAccuracy: 0.9,
        checkpoint: '',
      };
    },
    async evaluateBaseline(input): Promise<BaselineResult> {
      count('evaluateBaseline');
      if (behaviour.failingBaselines?.(input.baseline)) throw failure(`baseline ${input.baseline} failed`);
      return {
        key: `baseline-${input.baseline}`,
        name: input.baseline,
        description: `${input.baseline}: stand-in`,
        testAccuracyDigital: 0.9,
        testAccuracyMean: 0.87,
        testAccuracyStd: 0.01,
        testAccuracyP5: 0.86,
        reportAtSeconds: 1,
        testDrift: [],
        samples: 2,
        exportDir: 'stand-in',
        hardware: metricsOf({ key: input.baseline, genome: [20] }),
      };
    },
    async writeResults(input) {
      count('writeResults');
      log.written = input;
      return { resultsFile: `${input.runDir}/results.json`, frontCsv: '', report: null };
    },
  } satisfies Activities;
  return { activities, log };
}
