/**
 * The harness of the fast workflow tier: the real workflow code on a local Temporal test server (the
 * cached dev-server binary, started by TestWorkflowEnvironment), with the activities replaced by the small
 * deterministic stand-ins of standInActivities.ts.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { SearchInput, SearchResult } from '../../contracts';
import { validateConfig } from '../../config/load';
import type { RunConfigInput } from '../../config/schema';
import { ensureTemporalCli } from '../../temporal/temporalCli';
import { ensureWorkflowBundle } from '../../temporal/bundle';
import { taskQueuesFor } from '../../activities/contracts';
import {
  BEST_ACCURACY,
  BEST_EDAP,
  DATASET,
  GENERATION,
  SEARCH_NAME,
  STAGE,
} from '../../workflows/searchAttributes';
import { standInActivities, type StandInBehaviour, type StandInLog } from './standInActivities';

let env: TestWorkflowEnvironment;
let bundlePath: string;
let counter = 0;

/** Starts the local test server (the cached dev-server binary) and bundles the workflow: call in beforeAll. */
export async function startStandInEnvironment(): Promise<TestWorkflowEnvironment> {
  const executable = await ensureTemporalCli(() => undefined);
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: executable },
      ui: false,
      searchAttributes: [STAGE, DATASET, SEARCH_NAME, GENERATION, BEST_ACCURACY, BEST_EDAP],
    },
  });
  bundlePath = await ensureWorkflowBundle(() => undefined);
  return env;
}

export async function stopStandInEnvironment(): Promise<void> {
  await env?.teardown();
}

export const BASE: Omit<RunConfigInput, 'name'> = {
  supernet: { epochs: 2, epochsPerActivity: 1 },
  evolution: { population: 4, generations: 2, generationsPerRun: 1, candidatesPerActivity: 1 },
  robustness: { topK: 3, samples: 2 },
  retrain: { count: 2, epochs: 2 },
};

export interface Run {
  result: Promise<SearchResult>;
  handle: ReturnType<TestWorkflowEnvironment['client']['workflow']['getHandle']>;
  log: StandInLog;
}

/** Starts a search with stand-in activities, runs `during` while it runs, and returns how it ended. */
export async function runSearch(
  config: Omit<RunConfigInput, 'name'>,
  behaviour: StandInBehaviour = {},
  during: (run: Run) => Promise<void> = async () => undefined,
): Promise<{ outcome: SearchResult | Error; log: StandInLog; handle: Run['handle'] }> {
  const prefix = `fast-${process.pid}-${++counter}`;
  const searchId = `fast-${counter}`;
  const input: SearchInput = {
    searchId,
    runDir: `/nonexistent/stand-in/${searchId}`,
    config: validateConfig({ name: searchId, ...config, temporal: { taskQueuePrefix: prefix } }),
  };
  const { activities, log } = standInActivities(behaviour);
  const queues = taskQueuesFor(prefix);
  const workers = await Promise.all(
    [queues.orchestration, queues.training, queues.evaluation].map((taskQueue, i) =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        activities,
        ...(i === 0 ? { workflowBundle: { codePath: bundlePath } } : {}),
      }),
    ),
  );
  const running = workers.map((worker) => worker.run());
  try {
    const handle = await env.client.workflow.start('nasSearch', {
      taskQueue: queues.orchestration,
      workflowId: `nas/${searchId}-${prefix}`,
      args: [input],
    });
    const result = handle.result() as Promise<SearchResult>;
    await during({ result, handle, log });
    const outcome = await result.catch((error: Error) => error);
    return { outcome, log, handle };
  } finally {
    for (const worker of workers) worker.shutdown();
    await Promise.all(running);
  }
}

export function opened(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}
