/**
 * Steering a running search on the real server: continue-as-new with the progress query answering across
 * runs, pause holding new work and resume continuing it, stop after the generation (robustness and
 * retraining still run) and stop now (best-so-far results, nothing more).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SearchProgress, SearchResult } from '../../contracts';
import { pauseSearch, resumeSearch, stopSearch } from '../../client/searches';
import { createHarness, startNasSearch, TINY, waitFor, type Harness } from './harness';

jest.setTimeout(1_800_000);

const MANY_GENERATIONS = { ...TINY.evolution, generations: 6, generationsPerRun: 1 };

async function files(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => [] as string[]);
}

describe('search controls', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness('controls');
    await harness.startWorkers();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('continues as new every generation, with the progress query answering across runs', async () => {
    const input = harness.input('can', {
      ...TINY,
      evolution: { ...TINY.evolution, generations: 3, generationsPerRun: 1 },
    });
    const handle = await startNasSearch(harness, input);
    const during = await waitFor(
      async () => {
        const p = await handle.query<SearchProgress>('progress').catch(() => undefined);
        return p && p.continuedAsNew >= 1 && p.generation >= 1 ? p : undefined;
      },
      'a continue-as-new',
      600_000,
    );
    expect(during.epochsCompleted).toBe(2); // carried from the first run
    const result = (await handle.result()) as SearchResult;
    expect(result.generations).toBe(3);
    expect(result.evaluations).toBe(12);
    const progress = await handle.query<SearchProgress>('progress');
    expect(progress.continuedAsNew).toBe(2);
    expect(progress.front.length).toBeGreaterThan(0);
  });

  it('pause holds new work, resume continues, stop after the generation finishes with the front found', async () => {
    const input = harness.input('pause-stop', { ...TINY, evolution: MANY_GENERATIONS });
    const handle = await startNasSearch(harness, input);
    const client = harness.client;
    await waitFor(
      async () => {
        const p = await handle.query<SearchProgress>('progress').catch(() => undefined);
        return p?.stage === 'evolution' ? true : undefined;
      },
      'the evolution stage',
      600_000,
    );
    const paused = await pauseSearch(client, input.searchId);
    expect(paused.paused).toBe(true);
    await expect(pauseSearch(client, input.searchId)).resolves.toMatchObject({ paused: true });
    // Let the work in flight drain, then nothing new may start.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const searchDir = path.join(input.runDir, 'search');
    const before = await files(searchDir);
    const generationBefore = (await handle.query<SearchProgress>('progress')).generation;
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(await files(searchDir)).toEqual(before);
    expect((await handle.query<SearchProgress>('progress')).generation).toBe(generationBefore);

    await resumeSearch(client, input.searchId);
    // The update's validator refuses before anything changes; the reason travels as the failure's cause.
    await expect(resumeSearch(client, input.searchId)).rejects.toMatchObject({
      cause: expect.objectContaining({ message: expect.stringMatching(/not paused/) }),
    });
    await waitFor(
      async () => {
        const p = await handle.query<SearchProgress>('progress').catch(() => undefined);
        return p && p.generation > generationBefore ? true : undefined;
      },
      'progress after resume',
      600_000,
    );
    const stopping = await stopSearch(client, input.searchId, 'after-generation');
    expect(stopping.stopRequested).toBe('after-generation');
    const result = (await handle.result()) as SearchResult;
    expect(result.stoppedEarly).toBe('after-generation');
    expect(result.generations).toBeLessThan(6);
    expect(result.front.length).toBeGreaterThan(0);
    expect(result.finals).toHaveLength(1);
  });

  it('stop now cancels the work in flight and returns the best-so-far front', async () => {
    const input = harness.input('stop-now', { ...TINY, evolution: MANY_GENERATIONS });
    const handle = await startNasSearch(harness, input);
    await waitFor(
      async () => {
        const p = await handle.query<SearchProgress>('progress').catch(() => undefined);
        return p && p.generation >= 1 ? true : undefined;
      },
      'a finished generation',
      600_000,
    );
    await stopSearch(harness.client, input.searchId, 'now');
    const result = (await handle.result()) as SearchResult;
    expect(result.stoppedEarly).toBe('now');
    expect(result.generations).toBeGreaterThanOrEqual(1);
    expect(result.front.length).toBeGreaterThan(0);
    expect(result.finals).toEqual([]);
    const written = JSON.parse(await fs.readFile(result.resultsFile, 'utf8')) as {
      stoppedEarly: string;
      front: unknown[];
    };
    expect(written.stoppedEarly).toBe('now');
    expect(written.front.length).toBe(result.front.length);
  });
});
