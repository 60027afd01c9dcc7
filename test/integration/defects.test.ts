/**
 * The defects of issue #14 ("crash-proof and honest"), each reproduced on the real dev server with real
 * workers and real activities (tiny configurations), where unit tests or the fast tier with stand-in
 * activities covered them before. Each of these fails on the code the issue was filed against; see
 * docs/reliability-tests.md for the table of defects and tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { SearchInput, SearchProgress, SearchResult } from '../../contracts';
import { validateConfig } from '../../config/load';
import { pauseSearch, searchStatus, startSearch, stopSearch, workflowIdFor } from '../../client/searches';
import { createHarness, startNasSearch, TEST_ADDRESS, TINY, waitFor, type Harness } from './harness';

jest.setTimeout(1_800_000);

const ROOT = path.join(__dirname, '..', '..');
// A bound on hangs, not a speed target (a loaded 2-core machine may take minutes).
const HANG_BOUND_MS = 600_000;

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** Every (type, message) along an error's cause chain, outermost first. */
function causeChain(error: unknown): Array<{ type?: string; message: string }> {
  const chain: Array<{ type?: string; message: string }> = [];
  for (
    let e = error as { type?: string; message?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  )
    chain.push({ type: e.type, message: e.message ?? '' });
  return chain;
}

/** The attempt numbers with which the server started `activity` in this run. */
async function attemptsOf(handle: WorkflowHandle, activity: string): Promise<number[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity)
      .map((e) => String(e.eventId)),
  );
  return events
    .filter((e) => scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

/**
 * Waits until the search has closed, or one of its activities is on its second attempt (a deterministic
 * error being retried), or `written` exists (a write that should have been refused happened): whichever
 * comes first, so the old code's failure shows at once instead of after a hang.
 */
async function closedOrRetryingOrWritten(handle: WorkflowHandle, written?: string): Promise<string> {
  return waitFor(
    async () => {
      if (written && (await exists(written))) return `wrote ${written}`;
      const described = await handle.describe();
      if (described.status.name !== 'RUNNING') return 'closed';
      const retrying = (described.raw.pendingActivities ?? []).find((a) => (a.attempt ?? 1) > 1);
      return retrying ? `retrying ${retrying.activityType?.name}` : undefined;
    },
    'the search to close',
    HANG_BOUND_MS,
  );
}

async function terminateIfRunning(harness: Harness, searchId: string): Promise<void> {
  const handle = harness.client.workflow.getHandle(workflowIdFor(searchId));
  const described = await handle.describe().catch(() => undefined);
  if (described?.status.name === 'RUNNING') await handle.terminate('test cleanup').catch(() => undefined);
}

/** True while `pid` runs (a zombie, dead but not yet reaped by its new parent, counts as gone). */
function running(pid: number): Promise<boolean> {
  return fs.readFile(`/proc/${pid}/stat`, 'utf8').then(
    // The state follows the command name in parentheses, which may itself contain spaces.
    (stat) => !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2)),
    () => false,
  );
}

/** The training children (tensor/childEntry.ts) of process `pid`. */
async function trainingChildren(pid: number): Promise<number[]> {
  const text = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const children: number[] = [];
  for (const child of text.split(' ').filter(Boolean).map(Number)) {
    const commandLine = await fs.readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes('childEntry')) children.push(child);
  }
  return children;
}

function startWorkerProcess(prefix: string, artifactRoot: string): ChildProcess {
  const loader = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return spawn(process.execPath, ['--import', loader, path.join(ROOT, 'worker.ts'), '--prefix', prefix], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: TEST_ADDRESS,
      IMCNAS_LOG_LEVEL: 'WARN',
      IMCNAS_ARTIFACT_ROOTS: artifactRoot,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true, // its own process group, so cleanup can take everything it started
  });
}

describe('issue #14 defects, on the real Temporal dev server with real activities', () => {
  let harness: Harness;
  const savedRoots = process.env.IMCNAS_ARTIFACT_ROOTS;
  beforeAll(async () => {
    harness = await createHarness('defects');
    // The in-process workers may write under the harness's root only, as an operator would configure them.
    process.env.IMCNAS_ARTIFACT_ROOTS = harness.artifactRoot;
    await harness.startWorkers();
  });
  afterAll(async () => {
    if (savedRoots === undefined) delete process.env.IMCNAS_ARTIFACT_ROOTS;
    else process.env.IMCNAS_ARTIFACT_ROOTS = savedRoots;
    await harness?.close();
  });

  it('refuses ids and run directories that would write outside the artifact root, before anything is written', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-outside-'));
    const cwd = path.join(outside, 'a', 'b');
    await fs.mkdir(cwd, { recursive: true });
    const config = harness.input('unsafe', TINY).config;
    // Unique per run: the server keeps workflow ids, and an earlier run may have started one.
    const escaped = `escaped-${harness.prefix.split('-').slice(-2).join('-')}`;
    const relativeId = `../../${escaped}`;
    const absoluteId = path.join(outside, 'absolute');
    const strayInput = harness.input('stray', TINY);
    try {
      // The client: `start --id ../../x` and an absolute id (artifacts.root "runs", relative to cwd).
      for (const searchId of [relativeId, absoluteId])
        await expect(startSearch(harness.client, config, { searchId, cwd })).rejects.toThrow(
          /is not allowed/,
        );
      expect(await exists(path.join(outside, 'a', escaped))).toBe(false);
      expect(await exists(absoluteId)).toBe(false);
      for (const searchId of [relativeId, absoluteId])
        await expect(harness.client.workflow.getHandle(workflowIdFor(searchId)).describe()).rejects.toThrow();

      // The worker: a workflow input (not from `imcnas start`) whose run directory is outside its roots.
      const input: SearchInput = { ...strayInput, runDir: path.join(outside, strayInput.searchId) };
      const handle = await startNasSearch(harness, input);
      expect(await closedOrRetryingOrWritten(handle, input.runDir)).toBe('closed');
      const error = await handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(causeChain(error)).toContainEqual(
        expect.objectContaining({
          type: 'UnsafePathError',
          message: expect.stringMatching(/artifact roots/),
        }),
      );
      expect(await fs.readdir(outside)).toEqual(['a']);
      expect(await fs.readdir(cwd)).toEqual([]);
    } finally {
      for (const searchId of [relativeId, absoluteId, strayInput.searchId])
        await terminateIfRunning(harness, searchId);
      await fs.rm(outside, { recursive: true, force: true });
    }
  });

  it("an external evaluator sees a minimal environment, not the worker's; a finished id with an edited config is refused", async () => {
    const report = path.join(harness.artifactRoot, 'evaluator-env');
    const evaluator = path.join(ROOT, 'test', 'fixtures', 'envReportingEvaluator.ts');
    const input = harness.input('evaluator-env', {
      ...TINY,
      artifacts: { root: harness.artifactRoot },
      robustness: {
        ...TINY.robustness,
        evaluator: {
          command: [process.execPath, '--import', require.resolve('tsx'), evaluator, '--sigma=0'],
          passEnv: ['IMCNAS_ENV_REPORT'],
        },
      },
    });
    // The worker's environment holds a Temporal credential; the evaluator is the user's code.
    process.env.TEMPORAL_API_KEY = 'imcnas-test-not-a-real-key';
    process.env.IMCNAS_ENV_REPORT = report;
    let result: SearchResult;
    try {
      const started = await startSearch(harness.client, input.config, { searchId: input.searchId });
      expect(started.runDir).toBe(input.runDir);
      result = (await harness.client.workflow.getHandle(started.workflowId).result()) as SearchResult;
    } finally {
      delete process.env.TEMPORAL_API_KEY;
      delete process.env.IMCNAS_ENV_REPORT;
    }
    // Stages 3 and 4 each started the evaluator; each one reported (so the passEnv variable arrived).
    const reports = (await fs.readdir(harness.artifactRoot)).filter((name) =>
      name.startsWith('evaluator-env.'),
    );
    expect(reports.length).toBeGreaterThanOrEqual(2);
    for (const name of reports) {
      const names = JSON.parse(await fs.readFile(path.join(harness.artifactRoot, name), 'utf8')) as string[];
      expect(names).not.toContain('TEMPORAL_API_KEY');
      expect(names).not.toContain('IMCNAS_ARTIFACT_ROOTS');
      expect(names).toContain('IMCNAS_ENV_REPORT');
      expect(names).toContain('PATH');
    }
    expect(result.outcome).toBe('complete');
    expect(result.robust).toHaveLength(1);
    expect(result.finals).toHaveLength(1);

    // Starting the finished id again with an edited configuration: refused before anything starts,
    // saying how to start anew or resume; the old run directory and the finished run stay as they were.
    const manifest = await fs.readFile(path.join(input.runDir, 'manifest.json'), 'utf8');
    const handle = harness.client.workflow.getHandle(workflowIdFor(input.searchId));
    const finishedRunId = (await handle.describe()).runId;
    const edited = validateConfig({ ...input.config, seed: input.config.seed + 1 });
    try {
      const refusal = await startSearch(harness.client, edited, { searchId: input.searchId }).catch(
        (e: unknown) => e as Error,
      );
      expect(refusal).toBeInstanceOf(Error);
      expect(refusal).toMatchObject({ name: 'RunConflictError' });
      expect((refusal as Error).message).toMatch(/different configuration/);
      expect((refusal as Error).message).toMatch(/--id <new-id>/);
      expect((refusal as Error).message).toMatch(new RegExp(`resume-failed ${input.searchId}`));
      expect((await handle.describe()).runId).toBe(finishedRunId);

      // The same, past the client (a workflow input sent by other means): the worker refuses it at once,
      // non-retried, and `status` says why.
      const direct = await startNasSearch(harness, { ...input, config: edited });
      expect(await closedOrRetryingOrWritten(direct)).toBe('closed');
      expect(await attemptsOf(direct, 'prepareRun')).toEqual([1]);
      const status = await searchStatus(harness.client, input.searchId);
      expect(status?.status).toBe('FAILED');
      expect(status?.failure).toMatch(/different configuration/);
      expect(await fs.readFile(path.join(input.runDir, 'manifest.json'), 'utf8')).toBe(manifest);
    } finally {
      await terminateIfRunning(harness, input.searchId);
    }
  });

  it('a filesystem permission error fails the search at once, not retried, with the cause shown by status', async () => {
    const blocked = path.join(harness.artifactRoot, 'blocked');
    await fs.mkdir(blocked);
    // Root ignores mode bits; the immutable attribute refuses it too (EPERM), like a read-only volume.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await run('chattr', ['+i', blocked]);
    else await fs.chmod(blocked, 0o555);
    const input = harness.input('permission', TINY);
    const searchInput: SearchInput = { ...input, runDir: path.join(blocked, input.searchId) };
    try {
      const handle = await startNasSearch(harness, searchInput);
      expect(await closedOrRetryingOrWritten(handle)).toBe('closed');
      expect(await attemptsOf(handle, 'prepareRun')).toEqual([1]);
      const error = await handle.result().catch((e: unknown) => e);
      expect(causeChain(error)).toContainEqual(
        expect.objectContaining({ type: 'FilesystemPermissionError' }),
      );
      const status = await searchStatus(harness.client, input.searchId);
      expect(status?.status).toBe('FAILED');
      expect(status?.failure).toMatch(/EACCES|EPERM/);
      expect(status?.failure).toMatch(new RegExp(input.searchId));
    } finally {
      await terminateIfRunning(harness, input.searchId);
      if (asRoot) await run('chattr', ['-i', blocked]);
      else await fs.chmod(blocked, 0o755);
    }
  });

  it('while an activity retries a transient failure, status shows why its last attempt failed', async () => {
    const evaluator = path.join(ROOT, 'examples', 'evaluators', 'weight-noise-chip.ts');
    const input = harness.input('crashing-evaluator', {
      ...TINY,
      robustness: {
        ...TINY.robustness,
        // A crash may be transient (a lab instrument's driver), so it is retried, not failed at once.
        evaluator: {
          command: [process.execPath, '--import', require.resolve('tsx'), evaluator, '--fail=crash'],
        },
      },
    });
    const handle = await startNasSearch(harness, input);
    try {
      const seen = await waitFor(
        async () => {
          const status = await searchStatus(harness.client, input.searchId);
          if (status && status.status !== 'RUNNING') return `closed: ${status.status}`;
          return status?.pending?.find((line) => /last attempt failed/.test(line));
        },
        'a retrying evaluation',
        HANG_BOUND_MS,
      );
      expect(seen).toMatch(/evaluateRobustness: .*\(attempt [2-9]\)/);
      expect(seen).toMatch(/last attempt failed: .*weight-noise-chip/);
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
  });

  it('a search whose stage 2 finds no feasible design fails with StageFailedError instead of completing empty', async () => {
    // No tiny network reaches 99.9 % validation accuracy: every candidate is infeasible.
    const input = harness.input('infeasible', { ...TINY, constraints: { accuracy: { min: 0.999 } } });
    const handle = await startNasSearch(harness, input);
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as Error & { type?: string };
    expect(cause.type).toBe('StageFailedError');
    expect(cause.message).toMatch(/stage 2 found no feasible design/);
    expect(await attemptsOf(handle, 'evaluateRobustness')).toEqual([]);
    expect(await exists(path.join(input.runDir, 'results.json'))).toBe(false);
    expect((await searchStatus(harness.client, input.searchId))?.failure).toMatch(/no feasible design/);
  });

  it('stop now during stage 4 keeps the finished stage-3 results', async () => {
    const input = harness.input('stop-in-stage-4', {
      ...TINY,
      retrain: { ...TINY.retrain, count: 1, epochs: 3, epochsPerActivity: 1 },
    });
    const handle = await startNasSearch(harness, input);
    // Pausing in the first of three retraining chunks holds the design before its next chunk (the chunk in
    // flight finishes), so the stop lands in stage 4 however fast the work runs.
    await waitFor(
      async () => {
        const p = await handle.query<SearchProgress>('progress').catch(() => undefined);
        return p?.stage === 'retraining' ? true : undefined;
      },
      'stage 4',
      HANG_BOUND_MS,
    );
    const paused = await pauseSearch(harness.client, input.searchId);
    expect(paused.stage).toBe('retraining');
    expect(paused.robustDone).toBeGreaterThan(0);
    await stopSearch(harness.client, input.searchId, 'now');
    const result = (await handle.result()) as SearchResult;
    expect(result.stoppedEarly).toBe('now');
    // Every stage-3 result that finished is kept (the front's designs, up to robustness.topK).
    expect(result.robust).toHaveLength(paused.robustDone);
    expect(result.finals).toEqual([]);
    const written = JSON.parse(await fs.readFile(result.resultsFile, 'utf8')) as { robustness: unknown[] };
    expect(written.robustness).toHaveLength(paused.robustDone);
  });

  it('an orphaned training child exits on its own when its worker is killed with -9', async () => {
    // A worker process of its own (its own queues): the in-process workers must not take this search.
    const orphanHarness = await createHarness('orphan');
    // One long epoch with no checkpoint inside (every training image, wider layers): the old child trained
    // on without turning its event loop until the epoch's end, minutes away, and never noticed its parent
    // was gone. The new child checks on every step, so only the step in progress finishes.
    const input = orphanHarness.input('orphan', {
      ...TINY,
      dataset: { name: 'fashion-mnist', validation: 500 },
      space: {
        ...TINY.space,
        network: {
          ...TINY.space!.network!,
          stem: { channels: 32 },
          stages: [{ blocks: 2, widths: [64, 128], stride: 2 }],
        },
      },
      supernet: {
        ...TINY.supernet,
        epochs: 1,
        batchSize: 64,
        stepsPerEpoch: undefined,
        checkpointEverySteps: 100_000,
      },
    });
    const worker = startWorkerProcess(orphanHarness.prefix, orphanHarness.artifactRoot);
    let child = 0;
    try {
      const handle = await startNasSearch(orphanHarness, input);
      // Training under way: the child has reported progress (the activity's heartbeat carries it).
      child = await waitFor(
        async () => {
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          const training = pending.find((a) => a.activityType?.name === 'trainSupernetChunk');
          if (!training?.heartbeatDetails?.payloads?.length) return undefined;
          return (await trainingChildren(worker.pid!))[0];
        },
        'the training child to report progress',
        HANG_BOUND_MS,
      );
      expect(await running(child)).toBe(true);
      process.kill(worker.pid!, 'SIGKILL'); // the worker alone: its child is orphaned, not killed with it
      // Polled with a generous bound, no timing asserted: the old child trained on to the end of the epoch.
      await waitFor(
        async () => ((await running(child)) ? undefined : true),
        `orphan ${child} to exit`,
        120_000,
      );
    } finally {
      try {
        process.kill(-worker.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await terminateIfRunning(orphanHarness, input.searchId);
      await orphanHarness.close();
    }
  });
});

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
    );
  });
}
