/**
 * Integration-test harness: the real Temporal dev server (started or reused), in-process workers on task
 * queues unique to each test file (so a demo or another worker never steals the tests' tasks), and a client.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { SearchInput, TrainSupernetChunkResult } from '../../contracts';
import { validateConfig } from '../../config/load';
import { parseStepLog } from '../../models/trainingHistory';
import type { RunConfigInput } from '../../config/schema';
import { connectClient, workflowIdFor } from '../../client/searches';
import { installJsonLogging } from '../../client/logging';
import { ensureDevServer } from '../../temporal/devServer';
import { connectWorker, createWorkers } from '../../worker';

export const TEST_ADDRESS = process.env.IMCNAS_TEST_TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
/**
 * The tests' own namespace, so a user's dev server (reused when one answers) keeps its Web UI list to the
 * user's searches; created on first use.
 */
export const TEST_NAMESPACE = process.env.IMCNAS_TEST_NAMESPACE ?? 'imcnas-test';

export interface Harness {
  client: Client;
  connection: NativeConnection;
  prefix: string;
  artifactRoot: string;
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
  /** A search input with a unique id `<label>-<run tag>`, its run directory under the harness's root. */
  input(label: string, config: Omit<RunConfigInput, 'name'>): SearchInput;
  close(): Promise<void>;
}

export async function createHarness(label: string, address = TEST_ADDRESS): Promise<Harness> {
  installJsonLogging('WARN');
  await ensureDevServer({ address, namespace: TEST_NAMESPACE });
  // Worker and CLI processes a test spawns read their namespace from the environment they inherit.
  process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
  const prefix = `test-${label}-${process.pid}-${Date.now().toString(36)}`;
  const artifactRoot = await fs.mkdtemp(path.join(os.tmpdir(), `imcnas-${label}-`));
  const connection = await connectWorker({ address, namespace: TEST_NAMESPACE });
  const client = await connectClient({ address, namespace: TEST_NAMESPACE });
  let workers: Worker[] = [];
  let running: Array<Promise<void>> = [];
  const harness: Harness = {
    client,
    connection,
    prefix,
    artifactRoot,
    async startWorkers() {
      workers = await createWorkers({ connection, namespace: TEST_NAMESPACE, taskQueuePrefix: prefix });
      running = workers.map((worker) => worker.run());
    },
    async stopWorkers() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.all(running);
      workers = [];
      running = [];
    },
    input(label, config) {
      // Unique per test run: a search left running by an interrupted earlier run must not collide.
      const searchId = `${label}-${prefix.split('-').slice(-2).join('-')}`;
      const full = validateConfig({
        name: label,
        ...config,
        temporal: { ...(config.temporal ?? {}), address, namespace: TEST_NAMESPACE, taskQueuePrefix: prefix },
      });
      return { searchId, runDir: path.join(artifactRoot, searchId), config: full };
    },
    async close() {
      await harness.stopWorkers();
      await connection.close();
      await client.connection.close();
      await fs.rm(artifactRoot, { recursive: true, force: true });
    },
  };
  return harness;
}

export async function startNasSearch(harness: Harness, input: SearchInput) {
  return harness.client.workflow.start('nasSearch', {
    taskQueue: `${harness.prefix}-orchestration`,
    workflowId: workflowIdFor(input.searchId),
    args: [input],
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  // A bound on hangs, not a performance target: a loaded 2-core machine may take minutes.
  timeoutMs = 600_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface TrainLogLine {
  globalStep: number;
  epoch: number;
  loss: number;
  attempt: number;
  pid: number;
}

export async function readTrainLog(runDir: string): Promise<TrainLogLine[]> {
  const text = await fs.readFile(path.join(runDir, 'supernet', 'train-log.jsonl'), 'utf8').catch(() => '');
  // Read while the trainer appends: a line being written may be incomplete, and is skipped.
  return parseStepLog(text) as TrainLogLine[];
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A small, fast configuration: a narrow search space, a 1,000-image subset, a few steps per stage. */
export const TINY: Omit<RunConfigInput, 'name'> = {
  seed: 3,
  dataset: { name: 'fashion-mnist', trainSubset: 1000, validation: 500 },
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
    checkpointEverySteps: 5,
    stepsPerEpoch: 10,
  },
  evolution: {
    population: 4,
    generations: 1,
    bnRecalBatches: 2,
    validationImages: 200,
    candidatesPerActivity: 2,
  },
  robustness: { samples: 2, topK: 1, images: 100, driftSeconds: [1] },
  retrain: { count: 1, epochs: 1, testImages: 100 },
  temporal: { heartbeatTimeoutSeconds: 30 },
};

/** The stored result of a stage-1 chunk (supernet/chunk-until-epoch-NNNN.json). */
export async function supernetChunk(runDir: string, untilEpoch: number): Promise<TrainSupernetChunkResult> {
  const file = path.join(runDir, 'supernet', `chunk-until-epoch-${String(untilEpoch).padStart(4, '0')}.json`);
  return JSON.parse(await fs.readFile(file, 'utf8')) as TrainSupernetChunkResult;
}
