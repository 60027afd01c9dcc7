/**
 * Durability against a killed worker process: the worker (a real `worker.ts` process) is SIGKILLed during
 * supernet training and again during a generation; a new worker finishes the search without repeating
 * finished epochs or candidates.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SearchResult } from '../../contracts';
import { generationDir } from '../../storage/runLayout';
import {
  createHarness,
  readTrainLog,
  startNasSearch,
  TINY,
  TEST_ADDRESS,
  TEST_NAMESPACE,
  waitFor,
  type Harness,
} from './harness';

jest.setTimeout(1_800_000);

const ROOT = path.join(__dirname, '..', '..');

function startWorkerProcess(prefix: string): ChildProcess {
  const loader = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return spawn(process.execPath, ['--import', loader, path.join(ROOT, 'worker.ts'), '--prefix', prefix], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: TEST_ADDRESS,
      TEMPORAL_NAMESPACE: TEST_NAMESPACE,
      IMCNAS_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true, // its own process group: the kill takes its training children with it, like a crash
  });
}

function killGroup(worker: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    process.kill(-worker.pid!, 'SIGKILL');
  });
}

async function evaluationFiles(runDir: string): Promise<Map<string, number>> {
  const dir = path.join(generationDir(runDir, 0), 'evaluations');
  const stamps = new Map<string, number>();
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    // Only finished result files: a kill in the middle of an atomic write leaves its hidden temp file.
    if (name.startsWith('.') || !name.endsWith('.json')) continue;
    stamps.set(name, (await fs.stat(path.join(dir, name))).ino);
  }
  return stamps;
}

describe('a killed worker process', () => {
  let harness: Harness;
  let worker: ChildProcess | undefined;
  beforeAll(async () => {
    harness = await createHarness('worker-kill');
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) await killGroup(worker);
    await harness?.close();
  });

  it('is replaced by a new one that finishes the search without redoing epochs or candidates', async () => {
    const input = harness.input('worker-kill', {
      ...TINY,
      supernet: { ...TINY.supernet, epochs: 2, stepsPerEpoch: 25, checkpointEverySteps: 1 },
      evolution: { ...TINY.evolution, population: 8, candidatesPerActivity: 1, maxParallelEvaluations: 1 },
      temporal: { heartbeatTimeoutSeconds: 8 },
    });
    worker = startWorkerProcess(harness.prefix);
    const handle = await startNasSearch(harness, input);

    // 1. Kill it during supernet training.
    await waitFor(
      async () => ((await readTrainLog(input.runDir)).length >= 10 ? true : undefined),
      'training',
      600_000,
    );
    await killGroup(worker);
    const stepsAtKill = (await readTrainLog(input.runDir)).length;
    worker = startWorkerProcess(harness.prefix);

    // 2. Kill it again once some candidates of the first generation are evaluated.
    const finished = await waitFor(
      async () => {
        const files = await evaluationFiles(input.runDir);
        return files.size >= 2 ? files : undefined;
      },
      'two evaluated candidates',
      600_000,
    );
    await killGroup(worker);
    worker = startWorkerProcess(harness.prefix);

    const result = (await handle.result()) as SearchResult;
    expect(result.evaluations).toBe(8);
    expect(result.finals).toHaveLength(1);
    // No training step appears twice in the log, and training resumed where the killed worker stopped.
    const steps = (await readTrainLog(input.runDir)).map((line) => line.globalStep);
    expect(steps).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const log = await readTrainLog(input.runDir);
    const killedPids = new Set(log.slice(0, stepsAtKill).map((line) => line.pid));
    // A new process went on from the checkpoint. The killed process's lines after the kill can only be the
    // steps of a checkpoint it saved but had not yet logged (restored from the checkpoint on resume): at most
    // one checkpoint interval (1 step here), right after the lines seen at the kill.
    const after = log.slice(stepsAtKill);
    const repaired = after.findIndex((line) => !killedPids.has(line.pid));
    expect(repaired).toBeGreaterThanOrEqual(0);
    expect(repaired).toBeLessThanOrEqual(1);
    expect(after.slice(repaired).every((line) => !killedPids.has(line.pid))).toBe(true);
    // Candidates evaluated before the kill kept their result files: never evaluated again.
    const files = await evaluationFiles(input.runDir);
    for (const [name, inode] of finished) expect(files.get(name)).toBe(inode);
    expect(files.size).toBe(8);
  });
});
