/**
 * `npm run demo`: a complete search on the embedded defaults (examples/quick.yaml) from a fresh machine.
 * Sets up what is missing (dataset, Temporal CLI, dev server), runs a worker in this process, starts the
 * search, follows it, and prints where the results and the Web UI are.
 */
import * as path from 'node:path';
import { loadConfigFile } from '../config/load';
import { clientSettingsFor, connectClient, defaultUiBase, startSearch, webUiUrl } from '../client/searches';
import type { SearchProgress, SearchResult } from '../contracts';
import { installJsonLogging } from '../client/logging';
import { runInProcessWorkers } from '../worker';
import { describePendingWork, describeResult } from '../client/format';
import { cacheRoot, REPO_ROOT } from '../temporal/paths';
import { setup } from './setup';

async function main(): Promise<void> {
  const configFile = process.argv[2] ?? path.join(REPO_ROOT, 'examples', 'quick.yaml');
  const config = await loadConfigFile(configFile);
  const started = Date.now();
  // The demo prints its own story; the worker's log lines (JSON, the SDK's included) go to a file.
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const workerLog = path.join(cacheRoot(), 'logs', `demo-${stamp}.log`);
  installJsonLogging('INFO', workerLog);
  const settings = clientSettingsFor(config);
  const { server } = await setup({ address: settings.address });

  const workers = await runInProcessWorkers(settings, config.temporal.taskQueuePrefix);

  const client = await connectClient(settings);
  const searchId = `${config.name}-${stamp}`;
  const search = await startSearch(client, config, { searchId });
  const ui = webUiUrl(server?.uiUrl ?? defaultUiBase(settings.address), settings.namespace, search.searchId);
  console.log(
    `Search ${search.searchId} started.\n  Web UI     ${ui}\n  artifacts  ${search.runDir}\n  worker log ${workerLog}`,
  );

  const handle = client.workflow.getHandle(search.workflowId);
  // Ctrl-C ends the demo, not the search: its state stays on the server and any worker continues it.
  const interrupted = (signal: NodeJS.Signals) => {
    clearInterval(ticker);
    console.log(
      `\n${signal}: the demo stops here. Search ${search.searchId} keeps its progress on the Temporal server and ` +
        `waits for a worker:\n  continue   npm run worker   (finished epochs and candidates are not redone)\n` +
        `  follow     npm run imcnas -- watch ${search.searchId}\n` +
        `  end it     npm run imcnas -- stop ${search.searchId} --now   (with a worker running)`,
    );
    // The worker SDK shuts its workers down on the same signal (in-flight activities cancelled, their
    // children killed); wait for that, but not forever.
    const deadline = new Promise((resolve) => setTimeout(resolve, 30_000).unref());
    void Promise.race([workers.stop().catch(() => undefined), deadline]).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let last = '';
  let lastDetailAt = 0;
  let lastDetail = '';
  const ticker = setInterval(() => {
    Promise.all([handle.query<SearchProgress>('progress'), handle.describe()])
      .then(([p, described]) => {
        const line = progressLine(p);
        const now = Date.now();
        // Stages 3 and 4 move in long steps: show what the activity in flight last reported, every 15 s when
        // it moved on and every minute while it stays the same (one Monte-Carlo batch can take minutes).
        const detail =
          p.stage === 'robustness' || p.stage === 'retraining'
            ? describePendingWork(described.raw.pendingActivities)[0]?.trim()
            : undefined;
        if (line !== last) {
          last = line;
          lastDetailAt = now;
          console.log(`  [${Math.round((now - started) / 1000)} s] ${line}`);
        } else if (detail && now - lastDetailAt >= (detail === lastDetail ? 60000 : 15000)) {
          lastDetailAt = now;
          lastDetail = detail;
          console.log(`  [${Math.round((now - started) / 1000)} s]   ${detail}`);
        }
      })
      .catch(() => undefined);
  }, 2000);
  let result: SearchResult;
  try {
    result = (await handle.result()) as SearchResult;
  } catch (error) {
    console.error(`The search did not complete; the worker's log is ${workerLog}`);
    throw error;
  } finally {
    clearInterval(ticker);
  }

  console.log(`\nSearch ${result.searchId} completed in ${Math.round((Date.now() - started) / 1000)} s.\n`);
  for (const line of describeResult(result, result.objectives)) console.log(line);
  console.log(`\n  artifacts  ${result.runDir}`);
  console.log(
    `  report     ${path.join(result.runDir, 'report.html')} (open it in a browser; works offline)`,
  );
  console.log(`  Web UI     ${ui}`);
  console.log(`  worker log ${workerLog}`);
  console.log(`  status     npm run imcnas -- status ${result.searchId}`);

  await workers.stop();
  await client.connection.close();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

function progressLine(p: SearchProgress): string {
  switch (p.stage) {
    case 'supernet':
      return `stage 1/4 supernet: epoch ${p.epochsCompleted}/${p.epochsTotal}`;
    case 'evolution':
      return `stage 2/4 evolution: generation ${p.generation + 1}/${p.generationsTotal}, evaluated ${p.evaluated}/${p.evaluationsTotal}`;
    case 'robustness':
      return `stage 3/4 robustness: ${p.robustDone}/${p.robustTotal} front designs on noisy chips`;
    case 'retraining':
      return `stage 4/4 retraining: ${p.retrained}/${p.retrainTotal} designs`;
    default:
      return p.stage;
  }
}
