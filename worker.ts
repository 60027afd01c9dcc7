/**
 * The imcnas worker: connects to Temporal, registers the prebuilt workflow bundle and the activities, and
 * serves the task queues it is asked to (all three by default). Run evaluation-only workers on many machines
 * against one cluster and one shared artifact directory to scale the search.
 *
 *   npm run worker -- [--queues orchestration,training,evaluation] [--address host:port] [--namespace ns]
 *
 * Connection settings come from flags or the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS (1 for server-verified TLS), TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY (mTLS
 * client pair), TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME. SIGINT/SIGTERM shut it down gracefully.
 */
import * as os from 'node:os';
import { NativeConnection, Worker } from '@temporalio/worker';
import { activities } from './activities';
import { taskQueuesFor, type TaskQueues } from './activities/contracts';
import {
  connectionSettingsFromEnv,
  tlsOptions,
  UnreachableServerError,
  type ConnectionSettings,
} from './client/connection';
import { installJsonLogging } from './client/logging';
import { ensureWorkflowBundle } from './temporal/bundle';

export type QueueRole = keyof TaskQueues;
export const QUEUE_ROLES: QueueRole[] = ['orchestration', 'training', 'evaluation'];

export async function connectWorker(settings: ConnectionSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({
      address: settings.address,
      tls: tlsOptions(settings),
      apiKey: settings.apiKey,
    });
  } catch (error) {
    throw new UnreachableServerError(settings.address, error);
  }
}

export interface WorkerSetOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueuePrefix?: string;
  roles?: QueueRole[];
  /**
   * Concurrent training activities; each forks a child that uses one core. Default: one per core, so stage 4
   * retrains a winner and a baseline side by side.
   */
  trainingSlots?: number;
  /** Concurrent evaluation activities; each forks a child that uses one core. Default: one per core. */
  evaluationSlots?: number;
}

/** Workers for every queue running inside this process (the demo, the pipeline benchmark); stop() ends them. */
export async function runInProcessWorkers(
  settings: ConnectionSettings,
  taskQueuePrefix: string,
): Promise<{ stop: () => Promise<void> }> {
  const connection = await connectWorker(settings);
  const workers = await createWorkers({ connection, namespace: settings.namespace, taskQueuePrefix });
  const running = workers.map((worker) => worker.run());
  return {
    stop: async () => {
      // A worker the SDK is already shutting down (on SIGINT/SIGTERM) is left to finish doing so.
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.all(running);
      await connection.close();
    },
  };
}

/** One Temporal worker per served queue, sharing one connection. */
export async function createWorkers(options: WorkerSetOptions): Promise<Worker[]> {
  const queues = taskQueuesFor(options.taskQueuePrefix ?? 'imcnas');
  const roles = options.roles ?? QUEUE_ROLES;
  const bundlePath = await ensureWorkflowBundle();
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    activities,
    // Cancellation reaches an activity with its next heartbeat; keep that within seconds, not a minute.
    maxHeartbeatThrottleInterval: '5s',
    defaultHeartbeatThrottleInterval: '2s',
  } as const;
  const workers: Worker[] = [];
  for (const role of roles) {
    if (role === 'orchestration') {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: queues.orchestration,
          workflowBundle: { codePath: bundlePath },
        }),
      );
    } else {
      // One child per core: the wasm engine runs a child on one thread. A machine serving both queues can
      // run up to twice that many children, but one search never asks for more than a core each at once
      // (stage 2 fans out on evaluation only; stage 4 runs at most two lanes).
      const slots =
        role === 'training'
          ? (options.trainingSlots ?? os.cpus().length)
          : (options.evaluationSlots ?? os.cpus().length);
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: queues[role],
          maxConcurrentActivityTaskExecutions: slots,
        }),
      );
    }
  }
  return workers;
}

interface WorkerArgs {
  roles: QueueRole[];
  address?: string;
  namespace?: string;
  prefix?: string;
  trainingSlots?: number;
  evaluationSlots?: number;
}

function slotCount(flag: string, text: string | undefined): number {
  const slots = Number(text);
  if (!Number.isInteger(slots) || slots < 1)
    throw new Error(`${flag}: expected a whole number of concurrent activities ≥ 1, got ${String(text)}`);
  return slots;
}

function parseArgs(argv: string[]): WorkerArgs {
  const result: WorkerArgs = { roles: QUEUE_ROLES };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--queues') {
      const roles = value()
        .split(',')
        .map((r) => r.trim()) as QueueRole[];
      const unknown = roles.filter((r) => !QUEUE_ROLES.includes(r));
      if (unknown.length)
        throw new Error(
          `--queues: unknown queue ${unknown.join(', ')}; choose from ${QUEUE_ROLES.join(', ')}`,
        );
      result.roles = roles;
    } else if (flag === '--address') result.address = value();
    else if (flag === '--namespace') result.namespace = value();
    else if (flag === '--prefix') result.prefix = value();
    else if (flag === '--training-slots') result.trainingSlots = slotCount(flag, value());
    else if (flag === '--evaluation-slots') result.evaluationSlots = slotCount(flag, value());
    else if (flag === '--help' || flag === '-h') {
      console.log(
        'usage: npm run worker -- [--queues orchestration,training,evaluation] [--address host:port] [--namespace ns] [--prefix imcnas] [--training-slots N] [--evaluation-slots N]\n' +
          '  --training-slots, --evaluation-slots: concurrent activities per queue (default: one per core)',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${argv[i]}; see --help`);
  }
  return result;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  installJsonLogging();
  const settings = connectionSettingsFromEnv({ address: args.address, namespace: args.namespace });
  const connection = await connectWorker(settings);
  const workers = await createWorkers({
    connection,
    namespace: settings.namespace,
    taskQueuePrefix: args.prefix ?? process.env.IMCNAS_TASK_QUEUE_PREFIX,
    roles: args.roles,
    trainingSlots: args.trainingSlots,
    evaluationSlots: args.evaluationSlots,
  });
  console.error(
    `[worker] serving ${args.roles.join(', ')} on ${settings.address} (namespace ${settings.namespace}); Ctrl-C stops`,
  );
  // The SDK's runtime turns SIGINT/SIGTERM into a graceful shutdown: in-flight activities are cancelled,
  // their children killed, and nothing is acknowledged that did not finish.
  await Promise.all(workers.map((worker) => worker.run()));
  await connection.close();
  console.error('[worker] stopped');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(
      error instanceof UnreachableServerError || !(error instanceof Error) ? String(error) : error.stack,
    );
    process.exit(1);
  });
}
