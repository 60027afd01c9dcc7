/**
 * Durability across server restarts: a dev server of its own (separate port and SQLite file, so the shared
 * test server is untouched) is stopped mid-search, started again on the same database, then killed with
 * SIGKILL (a crash: no shutdown, no flush) and started again; the workflow started before both completes.
 * Also: the Web UI answers while a server runs.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SearchResult } from '../../contracts';
import { ensureDevServer, serverAnswers, stopDevServer } from '../../temporal/devServer';
import { createHarness, readTrainLog, startNasSearch, supernetChunk, TINY, waitFor } from './harness';

jest.setTimeout(1_800_000);

const ADDRESS = '127.0.0.1:7311';
const UI_PORT = 8311;

describe('dev server restart', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-restart-'));
  });
  afterAll(async () => {
    await stopDevServer({ address: ADDRESS, dataDir });
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves the Web UI on its port', async () => {
    const server = await ensureDevServer({ address: ADDRESS, uiPort: UI_PORT, dataDir });
    expect(server.reused).toBe(false);
    const response = await fetch(server.uiUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<html/i);
  });

  it('completes a workflow across a graceful stop and a kill -9 of the server, each restarted on the same database', async () => {
    await ensureDevServer({ address: ADDRESS, uiPort: UI_PORT, dataDir });
    const harness = await createHarness('restart', ADDRESS);
    try {
      await harness.startWorkers();
      const input = harness.input('survives-restart', {
        ...TINY,
        dataset: { name: 'fashion-mnist', trainSubset: 2000, validation: 500 },
        supernet: { ...TINY.supernet, epochs: 3, stepsPerEpoch: 25, checkpointEverySteps: 5 },
      });
      const handle = await startNasSearch(harness, input);
      await waitFor(
        async () => ((await readTrainLog(input.runDir)).length >= 5 ? true : undefined),
        'training to start',
      );

      expect(await stopDevServer({ address: ADDRESS, dataDir })).toBe(true);
      expect(await serverAnswers(ADDRESS)).toBe(false);
      const restarted = await ensureDevServer({ address: ADDRESS, uiPort: UI_PORT, dataDir });
      expect(restarted.reused).toBe(false);

      // Then a crash, once training has moved on after the first restart.
      const stepsBefore = (await readTrainLog(input.runDir)).length;
      await waitFor(
        async () => ((await readTrainLog(input.runDir)).length >= stepsBefore + 5 ? true : undefined),
        'training to go on after the restart',
      );
      expect(await stopDevServer({ address: ADDRESS, dataDir, crash: true })).toBe(true);
      expect(await serverAnswers(ADDRESS)).toBe(false);
      expect((await ensureDevServer({ address: ADDRESS, uiPort: UI_PORT, dataDir })).reused).toBe(false);

      const result = (await handle.result()) as SearchResult;
      expect(result.finals).toHaveLength(1);
      const chunk = await supernetChunk(input.runDir, 3);
      expect(chunk.epochsCompleted).toBe(3);
      expect(chunk.globalStep).toBe(75);
    } finally {
      await harness.close();
    }
  });
});
