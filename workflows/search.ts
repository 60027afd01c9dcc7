/**
 * One durable workflow per search (workflowId `nas/<searchId>`), read top to bottom as the stages.
 * Orchestration only: every computation is an activity, every artifact is a path.
 */
import {
  ApplicationFailure,
  defineQuery,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  taskQueuesFor,
  type SearchInput,
  type SearchProgress,
  type SearchResult,
} from '../activities/contracts';
import { DATASET, SEARCH_NAME, STAGE } from './searchAttributes';

export const progressQuery = defineQuery<SearchProgress>('progress');

/** Kept in step with activities/failures.ts: these fail for good, retrying cannot fix them. */
const NON_RETRYABLE = ['ConfigError', 'DatasetError', 'CheckpointCorruptError'];

export async function nasSearch(input: SearchInput): Promise<SearchResult> {
  const { config } = input;
  const queues = taskQueuesFor(config.temporal.taskQueuePrefix);
  const orchestration = proxyActivities<Activities>({
    taskQueue: queues.orchestration,
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
  });
  const training = proxyActivities<Activities>({
    taskQueue: queues.training,
    // A chunk of epochs may take hours on a CPU; liveness is the heartbeat's job, not this timeout's.
    startToCloseTimeout: '7 days',
    heartbeatTimeout: `${config.temporal.heartbeatTimeoutSeconds}s`,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });

  const progress: SearchProgress = {
    searchId: input.searchId,
    stage: 'preparing',
    epochsCompleted: 0,
    epochsTotal: config.supernet.epochs,
    validationAccuracy: null,
    startedAt: workflowInfo().startTime.toISOString(),
  };
  setHandler(progressQuery, () => progress);
  upsertSearchAttributes([
    { key: STAGE, value: 'preparing' },
    { key: DATASET, value: config.dataset.name },
    { key: SEARCH_NAME, value: config.name },
  ]);
  setCurrentDetails(`Preparing run directory ${input.runDir}`);
  await orchestration.prepareRun(input);

  // Stage 1: supernet training, one retryable activity per chunk of epochs.
  progress.stage = 'supernet';
  upsertSearchAttributes([{ key: STAGE, value: 'supernet' }]);
  const chunks = [];
  const per = config.supernet.epochsPerActivity;
  for (
    let until = Math.min(per, config.supernet.epochs);
    ;
    until = Math.min(until + per, config.supernet.epochs)
  ) {
    setCurrentDetails(
      `Stage 1/4 — supernet training: epochs ${progress.epochsCompleted} → ${until} of ${config.supernet.epochs}`,
    );
    const chunk = await training.trainSupernetChunk.executeWithOptions(
      { summary: `supernet epochs ${progress.epochsCompleted + 1}–${until}` },
      [
        {
          searchId: input.searchId,
          runDir: input.runDir,
          seed: config.seed,
          dataset: config.dataset,
          supernet: config.supernet,
          untilEpoch: until,
        },
      ],
    );
    if (chunk.epochsCompleted < until) {
      throw ApplicationFailure.nonRetryable(
        `training chunk stopped at epoch ${chunk.epochsCompleted}, expected ${until}`,
      );
    }
    chunks.push(chunk);
    progress.epochsCompleted = chunk.epochsCompleted;
    progress.validationAccuracy = chunk.validationAccuracy;
    log.info('supernet chunk done', {
      epochs: chunk.epochsCompleted,
      validationAccuracy: chunk.validationAccuracy,
    });
    if (until >= config.supernet.epochs) break;
  }

  progress.stage = 'done';
  upsertSearchAttributes([{ key: STAGE, value: 'done' }]);
  setCurrentDetails(`Done: validation accuracy ${((progress.validationAccuracy ?? 0) * 100).toFixed(2)} %`);
  return {
    searchId: input.searchId,
    runDir: input.runDir,
    supernet: chunks,
    finalValidationAccuracy: progress.validationAccuracy,
  };
}
