/**
 * What the benchmarks that run whole searches share: the dev server set up if none answers, workers for
 * every queue inside this process on the given task-queue prefix, a client, and everything closed after.
 */
import type { Client } from '@temporalio/client';
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
