/**
 * One durable workflow per search (workflowId `nas/<searchId>`), read top to bottom as the four stages:
 *   1. supernet training, in retryable chunks of epochs on the training queue;
 *   2. generations: propose → evaluate candidates (bounded fan-out on the evaluation queue) → tell,
 *      continuing as new every few generations so the history stays small;
 *   3. hardware-in-the-loop robustness of the front (Monte-Carlo noisy chips);
 *   4. retraining of the chosen designs, their noisy test accuracy and export (continuing as new between
 *      designs when the history grows);
 * then the results files. Orchestration only: every computation is an activity, every artifact a path,
 * and the optimizer runs inside activities so changing the algorithm never breaks replay. Every outcome is
 * explicit: a stage with no result, or with more failures than `failures.maxDroppedShare`, fails the
 * search naming the cause; fewer failures complete it flagged partial.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { taskQueuesFor } from '../activities/contracts';
import type {
  CandidateResult,
  CarriedState,
  DroppedCounts,
  FinalModelResult,
  RobustnessResult,
  SearchInput,
  SearchOutcome,
  SearchResult,
  StopMode,
  TrainSupernetChunkResult,
} from '../contracts';
import type { RunConfig } from '../config/schema';
import { MAXIMUM_ATTEMPTS, NON_RETRYABLE_ERROR_TYPES } from '../common/failures';
import { frontForRobustness, retrainingOrder } from '../search/frontPolicy';
import { boundedAllSettled, causeOf, chunk } from './concurrency';
import {
  type Checkpoint,
  continueIfHistoryIsLong,
  continueWith,
  LanesContinuingTogether,
} from './continuation';
import { retrainEach } from './retraining';
import { initialProgress, SearchControls } from './controls';
import { BEST_ACCURACY, BEST_EDAP, DATASET, GENERATION, SEARCH_NAME } from './searchAttributes';

export {
  pauseSignal,
  pauseUpdate,
  progressQuery,
  resumeSignal,
  resumeUpdate,
  stopSignal,
  stopUpdate,
} from './controls';

/** Generation-history points carried from run to run (results.json reads every one from disk). */
const CARRIED_GENERATIONS = 100;
/** Patch id: stage 4 runs the winners and the baselines side by side (sequentially before it). */
const STAGE_4_LANES = 'stage-4-lanes';
/** Patch id: which designs go to stages 3 and 4 is asked of activities (computed in the workflow before). */
const POLICIES_AS_ACTIVITIES = 'policies-as-activities';

export async function nasSearch(input: SearchInput, carried?: CarriedState): Promise<SearchResult> {
  const { config } = input;
  const act = activityProxies(input);
  const controls = new SearchControls(carried?.progress ?? initialProgress(input), input.searchId);
  const { progress } = controls;
  const state: CarriedState = {
    progress,
    supernet: carried?.supernet ?? null,
    generationHistory: carried?.generationHistory ?? [],
    generationMs: carried?.generationMs ?? 0,
    robust: carried?.robust,
    finals: carried?.finals,
    retrainEpochs: carried?.retrainEpochs,
    baselines: carried?.baselines,
    baselineEpochs: carried?.baselineEpochs,
    winners: carried?.winners,
  };
  const runStartedAtGeneration = progress.generation;
  // Stage 3's results as they arrive, so a stop-now in the middle keeps the finished ones.
  const robustSoFar: RobustnessResult[] = [];
  const keepsGoing = async () => !controls.stoppedNow() && (await controls.mayContinue());

  try {
    // ---------------------------------------------------------------- 0. the run directory
    if (!carried) {
      upsertSearchAttributes([
        { key: DATASET, value: config.dataset.name },
        { key: SEARCH_NAME, value: config.name },
      ]);
      controls.setStage('preparing', `Preparing run directory ${input.runDir}`);
      await controls.inWork(() => act.orchestration.prepareRun(input));
    }

    // ---------------------------------------------------------------- 1. supernet training
    while (progress.epochsCompleted < config.supernet.epochs && (await controls.mayContinue())) {
      state.supernet = await trainSupernetChunk(input, act, controls);
    }

    // ---------------------------------------------------------------- 2. evolutionary generations
    while (
      progress.generation < config.evolution.generations &&
      progress.stopRequested === null &&
      (await controls.mayContinue())
    ) {
      const finished = await runGeneration(input, act, controls, state);
      if (!finished) break;
      const remaining = config.evolution.generations - progress.generation;
      const runLength = progress.generation - runStartedAtGeneration;
      if (remaining > 0 && progress.stopRequested === null && runLength >= config.evolution.generationsPerRun)
        await continueWith(input, state);
      if (remaining > 0 && progress.stopRequested === null) await continueIfHistoryIsLong(input, state);
    }
    if (!controls.stoppedNow() && progress.front.length === 0 && progress.generation > 0)
      fail('stage 2 found no feasible design: the front is empty', progress.problems);

    // ---------------------------------------------------------------- 3. hardware-in-the-loop robustness
    if (state.robust === undefined && (await keepsGoing())) {
      state.robust = await evaluateFrontRobustness(input, act, controls, robustSoFar);
    }

    // ---------------------------------------------------------------- 4. retraining and export
    state.finals ??= [];
    const hasWinners = (state.robust?.length ?? 0) > 0;
    // The hand-designed baselines, through the same retraining and noisy test (absent in old inputs).
    const hasBaselines = baselineNames(config).length > 0;
    if (patched(STAGE_4_LANES)) {
      // The winners and the baselines side by side, one core each: they share nothing but the run.
      if ((hasWinners || hasBaselines) && (await keepsGoing())) {
        const lanes = new LanesContinuingTogether(
          input,
          state,
          controls,
          Number(hasWinners) + Number(hasBaselines),
        );
        await Promise.all([
          hasWinners && lanes.run((checkpoint) => retrainWinners(input, act, controls, state, checkpoint)),
          hasBaselines &&
            lanes.run((checkpoint) => retrainBaselines(input, act, controls, state, checkpoint)),
        ]);
      }
    } else {
      // Searches started before the lanes replay the winners, then the baselines, as they ran.
      const checkpoint = () => continueIfHistoryIsLong(input, state);
      if (hasWinners && (await keepsGoing())) await retrainWinners(input, act, controls, state, checkpoint);
      if (hasBaselines && (await keepsGoing()))
        await retrainBaselines(input, act, controls, state, checkpoint);
    }
    return await finish(input, act, controls, state);
  } catch (error) {
    // A stop-now cancels the work scope; anything else (a workflow cancellation included) propagates.
    if (controls.stoppedNow() && isCancellation(error) && !CancellationScope.current().consideredCancelled) {
      state.robust ??= robustSoFar;
      return await finish(input, act, controls, state);
    }
    throw error;
  }
}

type Proxies = ReturnType<typeof activityProxies>;

function activityProxies({ config }: SearchInput) {
  const queues = taskQueuesFor(config.temporal.taskQueuePrefix);
  const heartbeatTimeout = `${config.temporal.heartbeatTimeoutSeconds}s` as const;
  // Deterministic errors fail for good (common/failures.ts is the one list, shared with the activities).
  const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];
  const backoff = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
  return {
    orchestration: proxyActivities<Activities>({
      taskQueue: queues.orchestration,
      startToCloseTimeout: '10 minutes',
      retry: {
        initialInterval: '1s',
        maximumInterval: '30s',
        maximumAttempts: MAXIMUM_ATTEMPTS.orchestration,
        nonRetryableErrorTypes,
      },
    }),
    training: proxyActivities<Activities>({
      taskQueue: queues.training,
      // A chunk of epochs may take hours on a CPU; liveness is the heartbeat's job, not this timeout's.
      startToCloseTimeout: '7 days',
      heartbeatTimeout,
      retry: { ...backoff, maximumAttempts: MAXIMUM_ATTEMPTS.training, nonRetryableErrorTypes },
    }),
    evaluation: proxyActivities<Activities>({
      taskQueue: queues.evaluation,
      startToCloseTimeout: '1 day',
      heartbeatTimeout,
      // A candidate that keeps failing is dropped (told back infeasible) rather than stalling the search.
      retry: { ...backoff, maximumAttempts: MAXIMUM_ATTEMPTS.evaluation, nonRetryableErrorTypes },
    }),
  };
}

async function trainSupernetChunk(
  input: SearchInput,
  act: Proxies,
  controls: SearchControls,
): Promise<TrainSupernetChunkResult> {
  const { config } = input;
  const { progress } = controls;
  const until = Math.min(
    progress.epochsCompleted + config.supernet.epochsPerActivity,
    config.supernet.epochs,
  );
  controls.setStage(
    'supernet',
    `Stage 1/4 — supernet training: epochs ${progress.epochsCompleted} → ${until} of ${config.supernet.epochs}`,
  );
  const result = await controls.inWork(() =>
    act.training.trainSupernetChunk.executeWithOptions(
      { summary: `supernet epochs ${progress.epochsCompleted + 1}–${until}` },
      [{ searchId: input.searchId, runDir: input.runDir, config, untilEpoch: until }],
    ),
  );
  if (result.epochsCompleted < until) {
    throw ApplicationFailure.nonRetryable(
      `training chunk stopped at epoch ${result.epochsCompleted}, expected ${until}`,
    );
  }
  progress.epochsCompleted = result.epochsCompleted;
  progress.supernetValidationAccuracy = result.validationAccuracy;
  return result;
}

/** One generation: propose, evaluate (failed chunks are dropped and counted), tell. False if stopped now. */
async function runGeneration(
  input: SearchInput,
  act: Proxies,
  controls: SearchControls,
  state: CarriedState,
): Promise<boolean> {
  const { config, runDir } = input;
  const { progress } = controls;
  const generation = progress.generation;
  const label = `generation ${generation + 1}/${config.evolution.generations}`;
  const started = Date.now();
  controls.setStage('evolution', `Stage 2/4 — ${label}: proposing`);
  const proposal = await controls.inWork(() =>
    act.orchestration.proposeGeneration.executeWithOptions(
      { summary: `propose generation ${generation + 1}` },
      [{ runDir, generation, config }],
    ),
  );
  progress.evaluated = 0;
  progress.evaluationsTotal = proposal.candidates.length;
  setCurrentDetails(`Stage 2/4 — ${label}: evaluating ${proposal.candidates.length} candidates`);
  const chunks = chunk(proposal.candidates, config.evolution.candidatesPerActivity);
  const settled = await boundedAllSettled(
    chunks,
    config.evolution.maxParallelEvaluations,
    async (candidates, i) => {
      await controls.mayContinue();
      progress.evaluating += candidates.length;
      try {
        const first = i * config.evolution.candidatesPerActivity + 1;
        return await controls.inWork(() =>
          act.evaluation.evaluateCandidates.executeWithOptions(
            { summary: `generation ${generation + 1}: candidates ${first}–${first + candidates.length - 1}` },
            [{ runDir, generation, config, candidates }],
          ),
        );
      } finally {
        progress.evaluating -= candidates.length;
        progress.evaluated += candidates.length;
      }
    },
  );
  if (controls.stoppedNow()) return false;
  const results: CandidateResult[] = [];
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') return results.push(...outcome.value);
    const keys = chunks[i]!.map((candidate) => candidate.key);
    progress.dropped.candidates += keys.length;
    const message = `${label}: candidates ${keys.join(', ')} failed and count as infeasible: ${causeOf(outcome.reason)}`;
    log.warn(message);
    controls.problem(message);
  });
  if (results.length === 0)
    fail(`stage 2, ${label}: every candidate evaluation failed`, progress.problems.slice(-3));
  const summary = await controls.inWork(() =>
    act.orchestration.tellGeneration.executeWithOptions({ summary: `select generation ${generation + 1}` }, [
      { runDir, generation, config, results },
    ]),
  );
  progress.generation = generation + 1;
  progress.front = summary.front;
  progress.bestAccuracy = summary.bestAccuracy;
  progress.bestEdap = summary.bestEdap;
  state.generationHistory.push({
    generation: progress.generation,
    evaluations: summary.evaluations,
    bestAccuracy: summary.bestAccuracy,
    bestEdap: summary.bestEdap,
    frontSize: summary.front.length,
  });
  // Carried across continue-as-new, so bounded; the full history is in the run directory's summaries.
  if (state.generationHistory.length > CARRIED_GENERATIONS)
    state.generationHistory.splice(0, state.generationHistory.length - CARRIED_GENERATIONS);
  state.generationMs += Date.now() - started;
  const remaining = config.evolution.generations - progress.generation;
  const perGeneration = state.generationMs / Math.max(1, progress.generation);
  progress.etaSeconds = Math.round((perGeneration * remaining) / 1000);
  upsertSearchAttributes([
    { key: GENERATION, value: progress.generation },
    ...(summary.bestAccuracy !== null ? [{ key: BEST_ACCURACY, value: summary.bestAccuracy }] : []),
    ...(summary.bestEdap !== null ? [{ key: BEST_EDAP, value: summary.bestEdap }] : []),
  ]);
  return true;
}

async function evaluateFrontRobustness(
  input: SearchInput,
  act: Proxies,
  controls: SearchControls,
  arrived: RobustnessResult[],
): Promise<RobustnessResult[]> {
  const { config, runDir } = input;
  const { progress } = controls;
  // The policy is the domain's, asked through an activity (searches recorded before ask it inline).
  const chosen = patched(POLICIES_AS_ACTIVITIES)
    ? await act.orchestration.chooseForRobustness({ runDir, config, front: progress.front })
    : frontForRobustness(progress.front, config.objectives, config.robustness.topK);
  progress.robustTotal = chosen.length;
  controls.setStage(
    'robustness',
    `Stage 3/4 — Monte-Carlo robustness of ${chosen.length} front designs (${config.robustness.samples} noisy chips each)`,
  );
  const settled = await boundedAllSettled(
    chosen,
    config.evolution.maxParallelEvaluations,
    async (candidate) => {
      await controls.mayContinue();
      const result = await controls.inWork(() =>
        act.evaluation.evaluateRobustness.executeWithOptions({ summary: `robustness of ${candidate.key}` }, [
          { runDir, config, candidate },
        ]),
      );
      progress.robustDone += 1;
      arrived.push(result);
      return result;
    },
  );
  // In the order chosen (arrival order varies from run to run; a replay sees the recorded one).
  const ordered: RobustnessResult[] = [];
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') return ordered.push(outcome.value);
    progress.dropped.robustness += 1;
    const message = `stage 3: robustness of ${chosen[i]!.key} failed: ${causeOf(outcome.reason)}`;
    log.warn(message);
    controls.problem(message);
  });
  checkStageYield('stage 3 (robustness)', ordered.length, chosen.length, input, controls);
  return ordered;
}

async function retrainWinners(
  input: SearchInput,
  act: Proxies,
  controls: SearchControls,
  state: CarriedState,
  checkpoint: Checkpoint,
): Promise<void> {
  const { config, runDir } = input;
  const { progress } = controls;
  const finals = (state.finals ??= []);
  // Chosen once and carried, so every run of the chain works through the same list.
  const winners = (state.winners ??= patched(POLICIES_AS_ACTIVITIES)
    ? await act.orchestration.chooseForRetraining({
        runDir,
        config,
        front: progress.front,
        robust: state.robust ?? [],
      })
    : retrainingOrder(state.robust ?? [], progress.front, config.objectives, config.retrain));
  progress.retrainTotal = winners.length;
  const byKey = new Map(progress.front.map((member) => [member.key, member]));
  const finished = await retrainEach(input, controls, checkpoint, {
    names: winners,
    done: finals,
    dropped: { count: () => progress.dropped.finals, add: () => (progress.dropped.finals += 1) },
    job: (key) => {
      const candidate = { key, genome: byKey.get(key)!.genome };
      return {
        name: key,
        epochs: { get: () => state.retrainEpochs ?? 0, set: (epochs) => (state.retrainEpochs = epochs) },
        train: (until) =>
          act.training.retrainCandidate.executeWithOptions({ summary: `retrain ${key} to epoch ${until}` }, [
            { runDir, config, candidate, untilEpoch: until },
          ]),
        test: () =>
          act.evaluation.evaluateFinalModel.executeWithOptions(
            { summary: `test ${key} under noise and export` },
            [{ runDir, config, candidate }],
          ),
        onDone: () => (progress.retrained += 1),
      };
    },
  });
  if (finished) checkStageYield('stage 4 (retraining)', finals.length, winners.length, input, controls);
}

/** The names of config.baseline's networks (a built-in name or a described network's name). */
function baselineNames(config: RunConfig): string[] {
  return (config.baseline?.networks ?? []).map((network) =>
    typeof network === 'string' ? network : network.name,
  );
}

/**
 * Stage 4 for the hand-designed baselines, beside the finals: the same retraining chunks (training queue,
 * same retry policy), the same noisy test (evaluation queue), continuing as new between chunks when the
 * history grows. A failed baseline is dropped and counted (the search completes flagged partial).
 */
async function retrainBaselines(
  input: SearchInput,
  act: Proxies,
  controls: SearchControls,
  state: CarriedState,
  checkpoint: Checkpoint,
): Promise<void> {
  const { config, runDir } = input;
  const { dropped } = controls.progress;
  await retrainEach(input, controls, checkpoint, {
    names: baselineNames(config),
    done: (state.baselines ??= []),
    dropped: {
      count: () => dropped.baselines ?? 0,
      add: () => (dropped.baselines = (dropped.baselines ?? 0) + 1),
    },
    job: (baseline) => ({
      name: `baseline ${baseline}`,
      epochs: { get: () => state.baselineEpochs ?? 0, set: (epochs) => (state.baselineEpochs = epochs) },
      train: (until) =>
        act.training.retrainBaseline.executeWithOptions(
          { summary: `retrain baseline ${baseline} to epoch ${until}` },
          [{ runDir, config, baseline, untilEpoch: until }],
        ),
      test: () =>
        act.evaluation.evaluateBaseline.executeWithOptions(
          { summary: `test baseline ${baseline} under noise and export` },
          [{ runDir, config, baseline }],
        ),
    }),
  });
}

/** Writes the results files and returns the search's result: the one place the result is built. */
async function finish(
  input: SearchInput,
  act: Proxies,
  controls: SearchControls,
  state: CarriedState,
): Promise<SearchResult> {
  const { progress } = controls;
  const robust = state.robust ?? [];
  const finals = state.finals ?? [];
  const outcome: SearchOutcome =
    progress.stopRequested !== null ? 'stopped' : totalDropped(progress.dropped) > 0 ? 'partial' : 'complete';
  controls.setStage('reporting', 'Writing results');
  const written = await act.orchestration.writeResults({
    searchId: input.searchId,
    runDir: input.runDir,
    config: input.config,
    generationHistory: state.generationHistory,
    robust,
    finals,
    ...(state.baselines ? { baselines: state.baselines } : {}),
    stopped: progress.stopRequested,
    outcome,
    dropped: progress.dropped,
    problems: progress.problems,
  });
  controls.setStage(
    'done',
    doneDetails(progress.generation, progress.front.length, finals, outcome, progress.stopRequested),
  );
  return {
    searchId: input.searchId,
    runDir: input.runDir,
    stoppedEarly: progress.stopRequested,
    supernetValidationAccuracy: progress.supernetValidationAccuracy,
    generations: progress.generation,
    evaluations: state.generationHistory.at(-1)?.evaluations ?? 0,
    objectives: progress.objectives,
    front: progress.front,
    robust,
    finals,
    ...(state.baselines ? { baselines: state.baselines } : {}),
    resultsFile: written.resultsFile,
    outcome,
    dropped: progress.dropped,
    problems: progress.problems,
  };
}

/** Fails the search when a stage delivered nothing, or dropped more than the configured share. */
function checkStageYield(
  stage: string,
  delivered: number,
  asked: number,
  input: SearchInput,
  controls: SearchControls,
): void {
  if (asked === 0 || controls.stoppedNow()) return;
  const dropped = asked - delivered;
  // A search started before `failures` existed has no such section in its (recorded) input.
  const share = (input.config.failures as RunConfig['failures'] | undefined)?.maxDroppedShare ?? 0.5;
  if (delivered === 0)
    fail(`${stage}: all ${asked} evaluations failed`, controls.progress.problems.slice(-3));
  if (dropped / asked > share)
    fail(
      `${stage}: ${dropped} of ${asked} evaluations failed, more than failures.maxDroppedShare = ${share}`,
      controls.progress.problems.slice(-3),
    );
}

function fail(message: string, causes: string[]): never {
  throw ApplicationFailure.nonRetryable(
    causes.length ? `${message}. Causes:\n${causes.map((c) => `  - ${c}`).join('\n')}` : message,
    'StageFailedError',
  );
}

function totalDropped(dropped: DroppedCounts): number {
  return dropped.candidates + dropped.robustness + dropped.finals + (dropped.baselines ?? 0);
}

function doneDetails(
  generations: number,
  frontSize: number,
  finals: FinalModelResult[],
  outcome: SearchOutcome,
  stopped: StopMode | null,
): string {
  const best = finals[0];
  const flag =
    outcome === 'partial'
      ? ' (PARTIAL: some evaluations failed, see results.json problems)'
      : outcome === 'stopped'
        ? ` (stopped: ${stopped})`
        : '';
  return best
    ? `Done${flag}: ${generations} generations; best design ${best.key}: test accuracy under noise ${(best.testAccuracyMean * 100).toFixed(2)} % (p5 ${(best.testAccuracyP5 * 100).toFixed(2)} %)`
    : `Done${flag}: ${generations} generations, front of ${frontSize}`;
}
