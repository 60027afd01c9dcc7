/**
 * One durable workflow per search (workflowId `nas/<searchId>`), read top to bottom as the four stages:
 *   1. supernet training, in retryable chunks of epochs on the training queue;
 *   2. generations: propose → evaluate candidates (bounded fan-out on the evaluation queue) → tell,
 *      continuing as new every few generations so the history stays small;
 *   3. hardware-in-the-loop robustness of the front (Monte-Carlo noisy chips);
 *   4. retraining of the chosen designs, their noisy test accuracy and export;
 * then the results files. Orchestration only: every computation is an activity, every artifact a path,
 * and the optimizer runs inside activities so changing the algorithm never breaks replay.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  taskQueuesFor,
  type CarriedState,
  type FinalModelResult,
  type GenerationSummary,
  type ProposedCandidate,
  type RobustnessResult,
  type SearchInput,
  type SearchProgress,
  type SearchResult,
  type CandidateResult,
  type StopMode,
  type StopRequest,
} from '../activities/contracts';
import { MAXIMUM_ATTEMPTS, NON_RETRYABLE_ERROR_TYPES } from '../common/failures';
import { BEST_ACCURACY, BEST_EDAP, DATASET, GENERATION, SEARCH_NAME, STAGE } from './searchAttributes';

export const progressQuery = defineQuery<SearchProgress>('progress');
export const pauseUpdate = defineUpdate<SearchProgress>('pause');
export const resumeUpdate = defineUpdate<SearchProgress>('resume');
export const stopUpdate = defineUpdate<SearchProgress, [StopRequest]>('stop');
// Signals as a fallback for clients that cannot send updates.
export const pauseSignal = defineSignal('pause-signal');
export const resumeSignal = defineSignal('resume-signal');
export const stopSignal = defineSignal<[StopRequest]>('stop-signal');

/** Deterministic errors fail for good (common/failures.ts is the one list, shared with the activities). */
const NON_RETRYABLE = [...NON_RETRYABLE_ERROR_TYPES];

export async function nasSearch(input: SearchInput, carried?: CarriedState): Promise<SearchResult> {
  const { config } = input;
  const queues = taskQueuesFor(config.temporal.taskQueuePrefix);
  const heartbeatTimeout = `${config.temporal.heartbeatTimeoutSeconds}s` as const;
  const orchestration = proxyActivities<Activities>({
    taskQueue: queues.orchestration,
    startToCloseTimeout: '10 minutes',
    retry: {
      initialInterval: '1s',
      maximumInterval: '30s',
      maximumAttempts: MAXIMUM_ATTEMPTS.orchestration,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
  const training = proxyActivities<Activities>({
    taskQueue: queues.training,
    // A chunk of epochs may take hours on a CPU; liveness is the heartbeat's job, not this timeout's.
    startToCloseTimeout: '7 days',
    heartbeatTimeout,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: MAXIMUM_ATTEMPTS.training,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
  const evaluation = proxyActivities<Activities>({
    taskQueue: queues.evaluation,
    startToCloseTimeout: '1 day',
    heartbeatTimeout,
    // A candidate that keeps failing is dropped (told back infeasible) rather than stalling the search.
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: MAXIMUM_ATTEMPTS.evaluation,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });

  const progress: SearchProgress = carried?.progress ?? {
    searchId: input.searchId,
    stage: 'preparing',
    startedAt: workflowInfo().startTime.toISOString(),
    epochsCompleted: 0,
    epochsTotal: config.supernet.epochs,
    supernetValidationAccuracy: null,
    generation: 0,
    generationsTotal: config.evolution.generations,
    evaluated: 0,
    evaluating: 0,
    evaluationsTotal: 0,
    objectives: config.objectives.map((objective) => objective.metric),
    front: [],
    bestAccuracy: null,
    bestEdap: null,
    robustDone: 0,
    robustTotal: 0,
    retrained: 0,
    retrainTotal: 0,
    paused: false,
    stopRequested: null,
    etaSeconds: null,
    continuedAsNew: 0,
  };
  const history = carried?.generationHistory ?? [];
  let generationMs = carried?.generationMs ?? 0;
  // Cancelled when the user asks to stop now: every activity in flight runs inside it.
  const work = new CancellationScope();

  const pause = () => {
    progress.paused = true;
    setCurrentDetails(
      `Paused during ${progress.stage}: work in flight finishes, nothing new starts. Resume with \`imcnas resume ${input.searchId}\`.`,
    );
    return progress;
  };
  const resume = () => {
    progress.paused = false;
    return progress;
  };
  const stop = ({ mode }: StopRequest) => {
    progress.stopRequested = mode === 'now' || progress.stopRequested === 'now' ? 'now' : 'after-generation';
    progress.paused = false;
    if (progress.stopRequested === 'now') work.cancel();
    return progress;
  };
  setHandler(progressQuery, () => progress);
  setHandler(pauseUpdate, pause, { validator: () => rejectWhenFinished(progress) });
  setHandler(resumeUpdate, resume, {
    validator: () => {
      rejectWhenFinished(progress);
      if (!progress.paused) throw new Error('the search is not paused');
    },
  });
  setHandler(stopUpdate, stop, {
    validator: (request: StopRequest) => {
      rejectWhenFinished(progress);
      if (request?.mode !== 'now' && request?.mode !== 'after-generation') {
        throw new Error(
          `stop mode must be "now" or "after-generation", got ${JSON.stringify(request?.mode)}`,
        );
      }
    },
  });
  setHandler(pauseSignal, () => void pause());
  setHandler(resumeSignal, () => void resume());
  setHandler(stopSignal, (request) => void stop(request ?? { mode: 'after-generation' }));

  const setStage = (stage: SearchProgress['stage'], details: string) => {
    progress.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
    setCurrentDetails(details);
  };
  /** Waits while paused; false when the user asked to stop now. */
  const mayContinue = async () => {
    await condition(() => !progress.paused || progress.stopRequested !== null);
    return progress.stopRequested !== 'now';
  };
  const inWork = <T>(fn: () => Promise<T>) => work.run(fn);
  // A function, not an inline comparison: handlers change the flag while the workflow awaits.
  const stoppedNow = () => progress.stopRequested === 'now';

  let supernet = carried?.supernet ?? null;
  try {
    // ---------------------------------------------------------------- 0. the run directory
    if (!carried) {
      upsertSearchAttributes([
        { key: DATASET, value: config.dataset.name },
        { key: SEARCH_NAME, value: config.name },
      ]);
      setStage('preparing', `Preparing run directory ${input.runDir}`);
      await inWork(() => orchestration.prepareRun(input));
    }

    // ---------------------------------------------------------------- 1. supernet training
    const per = config.supernet.epochsPerActivity;
    while (progress.epochsCompleted < config.supernet.epochs && (await mayContinue())) {
      const until = Math.min(progress.epochsCompleted + per, config.supernet.epochs);
      setStage(
        'supernet',
        `Stage 1/4 — supernet training: epochs ${progress.epochsCompleted} → ${until} of ${config.supernet.epochs}`,
      );
      supernet = await inWork(() =>
        training.trainSupernetChunk.executeWithOptions(
          { summary: `supernet epochs ${progress.epochsCompleted + 1}–${until}` },
          [{ searchId: input.searchId, runDir: input.runDir, config, untilEpoch: until }],
        ),
      );
      if (supernet.epochsCompleted < until) {
        throw ApplicationFailure.nonRetryable(
          `training chunk stopped at epoch ${supernet.epochsCompleted}, expected ${until}`,
        );
      }
      progress.epochsCompleted = supernet.epochsCompleted;
      progress.supernetValidationAccuracy = supernet.validationAccuracy;
    }

    // ---------------------------------------------------------------- 2. evolutionary generations
    const firstGenerationOfRun = progress.generation;
    while (
      progress.generation < config.evolution.generations &&
      progress.stopRequested === null &&
      (await mayContinue())
    ) {
      const generation = progress.generation;
      const started = Date.now();
      setStage(
        'evolution',
        `Stage 2/4 — generation ${generation + 1}/${config.evolution.generations}: proposing`,
      );
      const proposal = await inWork(() =>
        orchestration.proposeGeneration.executeWithOptions(
          { summary: `propose generation ${generation + 1}` },
          [{ runDir: input.runDir, generation, config }],
        ),
      );
      progress.evaluated = 0;
      progress.evaluationsTotal = proposal.candidates.length;
      setCurrentDetails(
        `Stage 2/4 — generation ${generation + 1}/${config.evolution.generations}: evaluating ${proposal.candidates.length} candidates`,
      );
      const chunks = chunk(proposal.candidates, config.evolution.candidatesPerActivity);
      const settled = await boundedAllSettled(
        chunks,
        config.evolution.maxParallelEvaluations,
        async (candidates, index) => {
          await mayContinue();
          progress.evaluating += candidates.length;
          try {
            return await inWork(() =>
              evaluation.evaluateCandidates.executeWithOptions(
                {
                  summary: `generation ${generation + 1}: candidates ${index * candidates.length + 1}–${index * candidates.length + candidates.length}`,
                },
                [{ runDir: input.runDir, generation, config, candidates }],
              ),
            );
          } finally {
            progress.evaluating -= candidates.length;
            progress.evaluated += candidates.length;
          }
        },
      );
      if (stoppedNow()) break;
      const results: CandidateResult[] = settled.flatMap((outcome) =>
        outcome.status === 'fulfilled' ? outcome.value : [],
      );
      for (const outcome of settled) {
        if (outcome.status === 'rejected')
          log.warn('candidate chunk failed; its candidates count as infeasible', {
            error: String(outcome.reason),
          });
      }
      const summary: GenerationSummary = await inWork(() =>
        orchestration.tellGeneration.executeWithOptions({ summary: `select generation ${generation + 1}` }, [
          { runDir: input.runDir, generation, config, results },
        ]),
      );
      progress.generation = generation + 1;
      progress.front = summary.front;
      progress.bestAccuracy = summary.bestAccuracy;
      progress.bestEdap = summary.bestEdap;
      history.push({
        generation: progress.generation,
        evaluations: summary.evaluations,
        bestAccuracy: summary.bestAccuracy,
        bestEdap: summary.bestEdap,
        frontSize: summary.front.length,
      });
      generationMs += Date.now() - started;
      const remaining = config.evolution.generations - progress.generation;
      progress.etaSeconds = Math.round(((generationMs / history.length) * remaining) / 1000);
      upsertSearchAttributes([
        { key: GENERATION, value: progress.generation },
        ...(summary.bestAccuracy !== null ? [{ key: BEST_ACCURACY, value: summary.bestAccuracy }] : []),
        ...(summary.bestEdap !== null ? [{ key: BEST_EDAP, value: summary.bestEdap }] : []),
      ]);
      const runLength = progress.generation - firstGenerationOfRun;
      if (
        remaining > 0 &&
        progress.stopRequested === null &&
        (workflowInfo().continueAsNewSuggested || runLength >= config.evolution.generationsPerRun)
      ) {
        // Nothing is in flight here; let update handlers finish so no caller loses its answer.
        await condition(allHandlersFinished);
        progress.continuedAsNew += 1;
        await continueAsNew<typeof nasSearch>(input, {
          progress,
          supernet,
          generationHistory: history,
          generationMs,
        });
      }
    }

    // ---------------------------------------------------------------- 3. hardware-in-the-loop robustness
    const robust: RobustnessResult[] = [];
    if (!stoppedNow() && (await mayContinue())) {
      const chosen = frontForRobustness(progress, config.robustness.topK);
      progress.robustTotal = chosen.length;
      setStage(
        'robustness',
        `Stage 3/4 — Monte-Carlo robustness of ${chosen.length} front designs (${config.robustness.samples} noisy chips each)`,
      );
      const settled = await boundedAllSettled(
        chosen,
        config.evolution.maxParallelEvaluations,
        async (candidate) => {
          await mayContinue();
          const result = await inWork(() =>
            evaluation.evaluateRobustness.executeWithOptions({ summary: `robustness of ${candidate.key}` }, [
              { runDir: input.runDir, config, candidate },
            ]),
          );
          progress.robustDone += 1;
          return result;
        },
      );
      for (const outcome of settled) if (outcome.status === 'fulfilled') robust.push(outcome.value);
    }

    // ---------------------------------------------------------------- 4. retraining and export
    const finals: FinalModelResult[] = [];
    if (!stoppedNow() && robust.length > 0 && (await mayContinue())) {
      const winners = [...robust]
        .sort((a, b) => b.accuracyMean - a.accuracyMean)
        .slice(0, config.retrain.count);
      progress.retrainTotal = winners.length;
      const byKey = new Map(progress.front.map((member) => [member.key, member]));
      for (const { key } of winners) {
        const candidate: ProposedCandidate = { key, genome: byKey.get(key)!.genome };
        for (
          let until = Math.min(config.retrain.epochsPerActivity, config.retrain.epochs);
          ;
          until = Math.min(until + config.retrain.epochsPerActivity, config.retrain.epochs)
        ) {
          if (!(await mayContinue())) break;
          setStage(
            'retraining',
            `Stage 4/4 — retraining ${candidate.key}: epochs → ${until} of ${config.retrain.epochs}`,
          );
          await inWork(() =>
            training.retrainCandidate.executeWithOptions(
              { summary: `retrain ${candidate.key} to epoch ${until}` },
              [{ runDir: input.runDir, config, candidate, untilEpoch: until }],
            ),
          );
          if (until >= config.retrain.epochs) break;
        }
        if (stoppedNow()) break;
        finals.push(
          await inWork(() =>
            evaluation.evaluateFinalModel.executeWithOptions(
              { summary: `test ${candidate.key} under noise and export` },
              [{ runDir: input.runDir, config, candidate }],
            ),
          ),
        );
        progress.retrained += 1;
      }
    }

    // ---------------------------------------------------------------- results
    setStage('reporting', 'Writing results');
    const written = await orchestration.writeResults({
      searchId: input.searchId,
      runDir: input.runDir,
      config,
      generationHistory: history,
      robust,
      finals,
      stopped: progress.stopRequested,
    });
    setStage('done', doneDetails(progress, finals));
    return {
      searchId: input.searchId,
      runDir: input.runDir,
      stoppedEarly: progress.stopRequested,
      supernetValidationAccuracy: progress.supernetValidationAccuracy,
      generations: progress.generation,
      evaluations: history.at(-1)?.evaluations ?? 0,
      objectives: progress.objectives,
      front: progress.front,
      robust,
      finals,
      resultsFile: written.resultsFile,
    };
  } catch (error) {
    // A stop-now cancels the work scope; anything else (a workflow cancellation included) propagates.
    if (stoppedNow() && isCancellation(error) && !CancellationScope.current().consideredCancelled) {
      const written = await orchestration.writeResults({
        searchId: input.searchId,
        runDir: input.runDir,
        config,
        generationHistory: history,
        robust: [],
        finals: [],
        stopped: 'now',
      });
      setStage(
        'done',
        `Stopped by request after ${progress.generation} generations; best-so-far front written.`,
      );
      return {
        searchId: input.searchId,
        runDir: input.runDir,
        stoppedEarly: 'now',
        supernetValidationAccuracy: progress.supernetValidationAccuracy,
        generations: progress.generation,
        evaluations: history.at(-1)?.evaluations ?? 0,
        objectives: progress.objectives,
        front: progress.front,
        robust: [],
        finals: [],
        resultsFile: written.resultsFile,
      };
    }
    throw error;
  }
}

function rejectWhenFinished(progress: SearchProgress): void {
  if (progress.stage === 'done' || progress.stage === 'reporting') throw new Error('the search has finished');
}

function doneDetails(progress: SearchProgress, finals: FinalModelResult[]): string {
  const best = finals[0];
  return best
    ? `Done: ${progress.generation} generations; best design ${best.key}: test accuracy under noise ${(best.testAccuracyMean * 100).toFixed(2)} % (p5 ${(best.testAccuracyP5 * 100).toFixed(2)} %)`
    : `Done: ${progress.generation} generations, front of ${progress.front.length}`;
}

/** Front members for stage 3: the best by the first objective, then spread along the front. */
function frontForRobustness(progress: SearchProgress, topK: number): ProposedCandidate[] {
  const front = [...progress.front];
  if (front.length <= topK) return front.map(({ key, genome }) => ({ key, genome }));
  const maximize =
    progress.objectives[0] === 'accuracy' ||
    progress.objectives[0]?.startsWith('robust') ||
    progress.objectives[0]?.startsWith('tops');
  front.sort((a, b) => (maximize ? b.objectives[0] - a.objectives[0] : a.objectives[0] - b.objectives[0]));
  const picked = new Map<string, ProposedCandidate>();
  for (let i = 0; i < topK; i++) {
    const { key, genome } = front[Math.round((i * (front.length - 1)) / Math.max(1, topK - 1))];
    picked.set(key, { key, genome });
  }
  return [...picked.values()];
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** Runs `fn` over `items` with at most `limit` in flight; settles every item (allSettled semantics). */
async function boundedAllSettled<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index], index) };
      } catch (reason) {
        if (isCancellation(reason)) throw reason;
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export type { StopMode };
