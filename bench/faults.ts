/**
 * `npm run bench -- faults`: a small search run twice on a dev server of its own — once undisturbed, once
 * with faults injected — and the two results compared. Faults, each at least once:
 *   - a training child killed (SIGKILL) between writing a checkpoint's tensors and its metadata, on the
 *     first checkpoint (IMCNAS_FAULT_KILL_IN_CHECKPOINT, storage/checkpoints.ts);
 *   - kill -9 of the worker process group in each of the four stages;
 *   - the newest checkpoint corrupted (one byte of tensors.bin flipped) while the worker is down;
 *   - kill -9 of the dev server, restarted on the same SQLite database.
 * Figures: faults_injected, searches_completed, results_identical (front, robustness and final accuracies
 * equal the undisturbed run's), candidates_recomputed (finished candidate evaluations written again), and
 * the training steps each fault made the search do again (`steps_recomputed`, one entry per fault that hit
 * training, with its maximum and the checkpoint interval beside it):
 *   - a kill inside the first checkpoint's write: that checkpoint's step minus the step the next attempt
 *     resumed from (read from the attempt numbers in the training log);
 *   - a corrupted newest checkpoint: its step minus the step the next attempt resumed from;
 *   - a kill -9 of the worker while training: the steps past the newest checkpoint, which died with the
 *     process and cannot be read back. They are bounded by the evidence instead: right after the kill the
 *     newest checkpoint on disk is N and none was started after it, so the kill came before step N plus one
 *     interval, and the next attempt resumed from N (the log says so), not from earlier.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@temporalio/client';
import type { SearchInput, SearchProgress, SearchResult } from '../contracts';
import { generationDir } from '../storage/runLayout';
import { connectClient, workflowIdFor } from '../client/searches';
import { validateConfig } from '../config/load';
import type { RunConfigInput } from '../config/schema';
import { parseStepLog, type StepLogLine } from '../models/trainingHistory';
import { ensureDevServer, stopDevServer } from '../temporal/devServer';
import { listCheckpointIndices, checkpointDirName } from '../storage/checkpoints';
import { SUPERNET_CHECKPOINT_PREFIX } from '../models/supernetTrainer';
import type { BenchFigures } from './run';

const ROOT = path.join(__dirname, '..');
const ADDRESS = '127.0.0.1:7411';
const UI_PORT = 8411;
const CHECKPOINT_EVERY = 5;

const CONFIG: RunConfigInput = {
  name: 'faults',
  seed: 5,
  dataset: { name: 'fashion-mnist', trainSubset: 2000, validation: 500 },
  space: {
    network: {
      stem: { channels: 8 },
      stages: [{ blocks: 2, widths: [8, 16], stride: 2 }],
      operators: ['conv3', 'dwsep3', 'mbconv3_e3', 'skip'],
    },
    quantization: { weightBits: [4, 8], activationBits: [4, 8] },
    hardware: { devices: ['rram', 'sram'], crossbar: [64, 128], adcBits: [4, 8] },
  },
  supernet: {
    epochs: 2,
    batchSize: 32,
    learningRate: 0.1,
    epochsPerActivity: 1,
    checkpointEverySteps: CHECKPOINT_EVERY,
    stepsPerEpoch: 30,
  },
  evolution: {
    population: 6,
    generations: 2,
    bnRecalBatches: 2,
    validationImages: 200,
    candidatesPerActivity: 1,
    maxParallelEvaluations: 1,
  },
  robustness: { samples: 3, topK: 2, images: 200, driftSeconds: [1] },
  retrain: { count: 1, epochs: 2, testImages: 300 },
  temporal: { heartbeatTimeoutSeconds: 10 },
};

interface Faulted {
  injected: string[];
  /** Per fault that hit training, the steps it made training do again (see the file comment). */
  stepsRecomputed: Record<string, number>;
  candidatesRecomputed: number;
}

export async function run(): Promise<BenchFigures> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-faults-server-'));
  const artifacts = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-faults-runs-'));
  await ensureDevServer({ address: ADDRESS, uiPort: UI_PORT, dataDir });
  const client = await connectClient({ address: ADDRESS, namespace: 'default' });
  const tag = Date.now().toString(36);
  let worker: ChildProcess | undefined;
  try {
    const reference = await undisturbed(client, artifacts, `faults-ref-${tag}`);
    const faulted: Faulted = { injected: [], stepsRecomputed: {}, candidatesRecomputed: 0 };
    const marker = path.join(artifacts, 'kill-in-checkpoint.marker');
    const prefix = `faults-${tag}`;
    const input = inputFor(artifacts, `faults-run-${tag}`, prefix);
    worker = startWorker(prefix, { IMCNAS_FAULT_KILL_IN_CHECKPOINT: marker });
    const handle = await client.workflow.start('nasSearch', {
      taskQueue: `${prefix}-orchestration`,
      workflowId: workflowIdFor(input.searchId),
      args: [input],
    });
    const progress = () => handle.query<SearchProgress>('progress').catch(() => undefined);
    const restart = async () => {
      await killGroup(worker!);
      worker = startWorker(prefix);
    };
    const supernetDir = path.join(input.runDir, 'supernet');

    // 1. The first checkpoint write is torn by a kill of the training child (the worker survives).
    await until(async () => exists(marker));
    faulted.injected.push('kill during the first checkpoint write');

    // 2. Stage 1: kill the worker mid-epoch, corrupt the newest checkpoint while it is down.
    await until(async () => (await loggedSteps(supernetDir)) >= 3 * CHECKPOINT_EVERY);
    await killGroup(worker);
    faulted.injected.push('kill -9 of the worker in stage 1');
    const newest = (await listCheckpointIndices(supernetDir, SUPERNET_CHECKPOINT_PREFIX))[0]!;
    const bin = path.join(supernetDir, checkpointDirName(SUPERNET_CHECKPOINT_PREFIX, newest), 'tensors.bin');
    const bytes = await fs.readFile(bin);
    bytes[bytes.length >> 1] ^= 0xff;
    await fs.writeFile(bin, bytes);
    faulted.injected.push('corrupted newest checkpoint');
    worker = startWorker(prefix);
    const resumedFrom = await resumedStep(supernetDir);
    // The kill lost the steps past checkpoint `newest` (fewer than one interval: no later one was
    // started); the corruption made training fall back to the checkpoint before it.
    faulted.stepsRecomputed['kill -9 of the worker in stage 1'] = await killLossBound(supernetDir, newest);
    faulted.stepsRecomputed['corrupted newest checkpoint'] = newest - resumedFrom;

    // 3. Stage 2: kill the worker once candidates are evaluated, then crash and restart the server.
    const before = await until(async () => {
      const files = await evaluationInodes(input.runDir);
      return files.size >= 2 ? files : undefined;
    });
    await killGroup(worker);
    faulted.injected.push('kill -9 of the worker in stage 2');
    await stopDevServer({ address: ADDRESS, dataDir, crash: true });
    await ensureDevServer({ address: ADDRESS, uiPort: UI_PORT, dataDir });
    faulted.injected.push('kill -9 of the dev server, restarted on the same database');
    worker = startWorker(prefix);

    // 4. Stages 3 and 4: kill the worker while each runs.
    for (const stage of ['robustness', 'retraining'] as const) {
      await until(async () => ((await progress())?.stage === stage ? true : undefined));
      await until(async () => ((await handle.describe()).raw.pendingActivities?.length ? true : undefined));
      await restart();
      faulted.injected.push(`kill -9 of the worker in stage ${stage === 'robustness' ? 3 : 4}`);
    }

    const result = (await handle.result()) as SearchResult;
    const after = await evaluationInodes(input.runDir);
    for (const [name, inode] of before) if (after.get(name) !== inode) faulted.candidatesRecomputed++;
    // The torn first checkpoint: the retry after it resumed from the step its first log line follows.
    const retry = (await logRuns(supernetDir)).find((run) => run.attempt > 1);
    faulted.stepsRecomputed['kill during the first checkpoint write'] =
      CHECKPOINT_EVERY - (retry?.resumedFrom ?? Number.NaN);
    // Stage 4's kill hit retraining when a retry wrote to a retrained design's log. It redid no committed
    // step when it resumed where the killed attempt's log ends; the steps past that died with the process
    // (fewer than one interval, as in stage 1).
    for (const final of result.finals) {
      const runs = await logRuns(path.join(input.runDir, 'final', final.key, 'train'));
      runs.forEach((run, index) => {
        if (run.attempt === 1) return;
        const killedLogEnd = index === 0 ? 0 : runs[index - 1]!.lastStep;
        faulted.stepsRecomputed['kill -9 of the worker in stage 4 (retraining)'] =
          run.resumedFrom === killedLogEnd ? CHECKPOINT_EVERY - 1 : Number.NaN;
      });
    }
    const identical = sameOutcome(reference, result);
    const perFault = Object.values(faulted.stepsRecomputed);
    return {
      faults_injected: faulted.injected.length,
      fault_list: faulted.injected.join('; '),
      searches_completed: [reference, result].filter((r) => r.finals.length > 0).length,
      results_identical: identical,
      ...Object.fromEntries(
        Object.entries(faulted.stepsRecomputed).map(([fault, steps]) => [
          `steps_recomputed__${fault}`,
          steps,
        ]),
      ),
      steps_recomputed_per_fault_max: Math.max(...perFault),
      steps_recomputed_total: perFault.reduce((sum, steps) => sum + steps, 0),
      steps_recomputed_within_one_interval_per_fault: perFault.every(
        (steps) => Number.isInteger(steps) && steps <= CHECKPOINT_EVERY,
      ),
      checkpoint_interval_steps: CHECKPOINT_EVERY,
      candidates_recomputed: faulted.candidatesRecomputed,
      final_test_acc_mean: result.finals[0]?.testAccuracyMean ?? null,
      reference_final_test_acc_mean: reference.finals[0]?.testAccuracyMean ?? null,
    };
  } finally {
    if (worker && worker.exitCode === null && worker.signalCode === null) await killGroup(worker);
    await client.connection.close();
    await stopDevServer({ address: ADDRESS, dataDir });
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(artifacts, { recursive: true, force: true });
  }
}

function inputFor(artifacts: string, searchId: string, prefix: string): SearchInput {
  const config = validateConfig({
    ...CONFIG,
    temporal: { ...CONFIG.temporal, address: ADDRESS, taskQueuePrefix: prefix },
  });
  return { searchId, runDir: path.join(artifacts, searchId), config };
}

async function undisturbed(client: Client, artifacts: string, searchId: string): Promise<SearchResult> {
  const prefix = `${searchId}-q`;
  const input = inputFor(artifacts, searchId, prefix);
  const worker = startWorker(prefix);
  try {
    const handle = await client.workflow.start('nasSearch', {
      taskQueue: `${prefix}-orchestration`,
      workflowId: workflowIdFor(searchId),
      args: [input],
    });
    return (await handle.result()) as SearchResult;
  } finally {
    await killGroup(worker);
  }
}

/** Everything that defines the search's answer, without paths or timings. */
function sameOutcome(a: SearchResult, b: SearchResult): boolean {
  const pick = (r: SearchResult) =>
    JSON.stringify({
      front: r.front,
      robust: r.robust.map(({ evaluator: _evaluator, ...rest }) => rest),
      finals: r.finals.map(({ exportDir: _exportDir, ...rest }) => rest),
      supernet: r.supernetValidationAccuracy,
    });
  return pick(a) === pick(b);
}

function startWorker(prefix: string, extraEnv: Record<string, string> = {}): ChildProcess {
  const loader = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return spawn(process.execPath, ['--import', loader, path.join(ROOT, 'worker.ts'), '--prefix', prefix], {
    env: { ...process.env, ...extraEnv, TEMPORAL_ADDRESS: ADDRESS, IMCNAS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true, // its own process group: the kill takes its children with it, like a crash
  });
}

function killGroup(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    process.kill(-worker.pid!, 'SIGKILL');
  });
}

async function until<T>(check: () => Promise<T | undefined | false>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function exists(file: string): Promise<true | undefined> {
  return (await fs.stat(file).catch(() => undefined)) ? true : undefined;
}

async function loggedSteps(dir: string): Promise<number> {
  return parseStepLog(await fs.readFile(path.join(dir, 'train-log.jsonl'), 'utf8').catch(() => '')).length;
}

/**
 * The most steps a kill of the process training in `dir` can have lost, its newest checkpoint being
 * `newest`: the steps after it, fewer than one interval unless the kill tore the next checkpoint's write
 * (its staging directory is left behind), which happens at exactly one interval.
 */
async function killLossBound(dir: string, newest: number): Promise<number> {
  const staged = (await fs.readdir(dir)).some((name) => {
    const match = new RegExp(`^\\.${SUPERNET_CHECKPOINT_PREFIX}-(\\d{8})\\..*\\.tmp$`).exec(name);
    return match !== null && Number(match[1]) > newest;
  });
  return staged ? CHECKPOINT_EVERY : CHECKPOINT_EVERY - 1;
}

/** A stretch of the training log written by one process: where it resumed from, its last step. */
interface LogRun {
  attempt: number;
  resumedFrom: number;
  lastStep: number;
}

/**
 * The training log of `dir` cut into the stretches each process (one activity attempt) committed, in order.
 * Lines a later attempt rolled back are gone, so an attempt whose every line was rolled back is absent.
 */
async function logRuns(dir: string): Promise<LogRun[]> {
  const text = await fs.readFile(path.join(dir, 'train-log.jsonl'), 'utf8').catch(() => '');
  const runs: (LogRun & { pid: number })[] = [];
  for (const line of parseStepLog(text) as (StepLogLine & { attempt?: number; pid?: number })[]) {
    if (line.attempt === undefined || line.pid === undefined) continue;
    const last = runs.at(-1);
    if (last && last.pid === line.pid && last.attempt === line.attempt) last.lastStep = line.globalStep;
    else
      runs.push({
        attempt: line.attempt,
        pid: line.pid,
        resumedFrom: line.globalStep - 1,
        lastStep: line.globalStep,
      });
  }
  return runs.map(({ pid: _pid, ...run }) => run);
}

/** The step the first chunk's successful attempt resumed from (its stored result says). */
async function resumedStep(supernetDir: string): Promise<number> {
  const file = path.join(supernetDir, 'chunk-until-epoch-0001.json');
  return until(async () => {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as { resumedFromStep: number }).resumedFromStep;
  });
}

async function evaluationInodes(runDir: string): Promise<Map<string, number>> {
  const inodes = new Map<string, number>();
  for (const generation of [0, 1]) {
    const dir = path.join(generationDir(runDir, generation), 'evaluations');
    for (const name of await fs.readdir(dir).catch(() => [] as string[]))
      if (!name.startsWith('.') && name.endsWith('.json'))
        inodes.set(`${generation}/${name}`, (await fs.stat(path.join(dir, name))).ino);
  }
  return inodes;
}
