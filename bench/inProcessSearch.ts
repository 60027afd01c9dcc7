/**
 * What the benchmarks that run whole searches share: the dev server set up if none answers, workers for
 * every queue inside this process on the given task-queue prefix, a client, and everything closed after.
 */
import type { Client } from '@temporalio/client';
import type { SearchProgress, Stage } from '../contracts';
import type { RunConfig } from '../config/schema';
import { clientSettingsFor, connectClient } from '../client/searches';
import { installJsonLogging } from '../client/logging';
import { setup } from '../scripts/setup';
import { runInProcessWorkers } from '../worker';

export async function withInProcessWorkers<T>(
  config: RunConfig,
  taskQueuePrefix: string,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  installJsonLogging('WARN');
  const settings = clientSettingsFor(config);
  await setup({ address: settings.address });
  const workers = await runInProcessWorkers(settings, taskQueuePrefix);
  const client = await connectClient(settings);
  try {
    return await work(client);
  } finally {
    await workers.stop();
    await client.connection.close();
  }
}

/** How often stageTimer asks a search which stage it is in. */
const STAGE_POLL_MS = 10_000;

/**
 * Seconds spent in each stage, from the `progress` query polled every STAGE_POLL_MS (so each figure is
 * good to about that much). The handle follows the workflow across continue-as-new.
 */
export function stageTimer(query: () => Promise<SearchProgress>): { stop: () => Record<string, number> } {
  const firstSeen = new Map<Stage, number>();
  const poll = async () => {
    try {
      const progress = await query();
      if (!firstSeen.has(progress.stage)) firstSeen.set(progress.stage, Date.now());
    } catch {
      // A query can fail while a run hands over to its continuation; the next poll catches up.
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), STAGE_POLL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      const end = Date.now();
      const seen = [...firstSeen.entries()].sort((a, b) => a[1] - b[1]);
      const seconds: Record<string, number> = {};
      seen.forEach(([stage, at], index) => {
        seconds[stage] = Math.round(((seen[index + 1]?.[1] ?? end) - at) / 100) / 10;
      });
      return seconds;
    },
  };
}
