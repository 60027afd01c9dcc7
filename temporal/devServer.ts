/**
 * The Temporal dev server for users and tests: started on 127.0.0.1 with SQLite persistence (so a search
 * survives a server restart), the Web UI on 8233, and imcnas's search attributes registered. A server that
 * already answers is reused, whoever started it.
 */
import { spawn } from 'node:child_process';
import { promises as fs, openSync, closeSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/searchAttributes';
import { devServerDir } from './paths';
import { SetupError, ensureTemporalCli } from './temporalCli';

export interface DevServerOptions {
  /** host:port of the frontend gRPC service. */
  address?: string;
  uiPort?: number;
  /** Where the SQLite database, log and pid file live. */
  dataDir?: string;
  namespace?: string;
  log?: (line: string) => void;
}

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  reused: boolean;
  pid?: number;
  dataDir: string;
}

const DEFAULT_ADDRESS = '127.0.0.1:7233';
const DEFAULT_UI_PORT = 8233;

function resolveOptions(options: DevServerOptions): Required<DevServerOptions> {
  return {
    address: options.address ?? DEFAULT_ADDRESS,
    uiPort: options.uiPort ?? DEFAULT_UI_PORT,
    dataDir: options.dataDir ?? devServerDir(),
    namespace: options.namespace ?? 'default',
    log: options.log ?? ((line) => console.error(line)),
  };
}

/** True when a Temporal frontend answers at `address` within `timeoutMs`. */
export async function serverAnswers(address: string, timeoutMs = 1500): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

const INDEXED_VALUE_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
};

/** gRPC status NOT_FOUND (the namespace does not exist). */
const GRPC_NOT_FOUND = 5;

/** How long a namespace registered here keeps closed workflows (the dev server's own default is 1 day). */
const REGISTERED_NAMESPACE_RETENTION_S = 3 * 24 * 3600;

/**
 * Creates `namespace` on a reused server that lacks it (a server this tool starts pre-creates it) and waits
 * until the server serves it: a new namespace reaches the frontend's namespace cache within seconds.
 */
export async function ensureNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const exists = async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } catch (error) {
        if ((error as { code?: number }).code === GRPC_NOT_FOUND) return false;
        throw error;
      }
    };
    if (await exists()) return;
    await connection.workflowService
      .registerNamespace({
        namespace,
        description: 'created by imcnas',
        workflowExecutionRetentionPeriod: msToTs(REGISTERED_NAMESPACE_RETENTION_S * 1000),
      })
      .catch((error: { code?: number }) => {
        // ALREADY_EXISTS: another process registered it first.
        if (error.code !== 6) throw error;
      });
    await retryUntil(exists, `namespace "${namespace}" to become available on ${address}`);
  } finally {
    await connection.close();
  }
}

/** Polls `attempt` until it resolves true; errors count as "not yet". A bound on hangs, not a speed target. */
async function retryUntil(attempt: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await attempt()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new SetupError(
        `timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Registers any of imcnas's search attributes the namespace lacks (a reused server may not have them). */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    // Retried: right after a namespace is registered the operator service may not see it yet.
    await retryUntil(async () => {
      const existing = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.entries(SEARCH_ATTRIBUTE_TYPES).filter(
        ([name]) => !(name in existing.customAttributes),
      );
      if (missing.length === 0) return true;
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]])),
      });
      return false; // check again: the list confirms the attributes are in place
    }, `search attributes in namespace "${namespace}"`);
  } finally {
    await connection.close();
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) throw new SetupError(`temporal.address must be host:port, got "${address}"`);
  return { host: match[1], port: Number(match[2]) };
}

function serverArgs(options: Required<DevServerOptions>): string[] {
  const { host, port } = splitAddress(options.address);
  return [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    path.join(options.dataDir, 'temporal.db'),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTE_TYPES).flatMap(([name, type]) => [
      '--search-attribute',
      `${name}=${type}`,
    ]),
  ];
}

async function waitUntilAnswering(
  address: string,
  deadlineMs: number,
  isAlive: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await serverAnswers(address, 1000)) return true;
    if (!isAlive()) return false;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the dev server in the background unless one already answers; resolves once it answers. */
export async function ensureDevServer(options: DevServerOptions = {}): Promise<DevServerHandle> {
  const resolved = resolveOptions(options);
  const uiUrl = `http://${splitAddress(resolved.address).host}:${resolved.uiPort}`;
  if (await serverAnswers(resolved.address)) {
    await ensureNamespace(resolved.address, resolved.namespace);
    await ensureSearchAttributes(resolved.address, resolved.namespace);
    return { address: resolved.address, uiUrl, reused: true, dataDir: resolved.dataDir };
  }
  const binary = await ensureTemporalCli(resolved.log);
  await fs.mkdir(resolved.dataDir, { recursive: true });
  const logFile = path.join(resolved.dataDir, 'server.log');
  const out = openSync(logFile, 'a');
  const child = spawn(binary, serverArgs(resolved), { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new SetupError(`could not start ${binary}`);
  await fs.writeFile(path.join(resolved.dataDir, 'server.pid'), String(child.pid));
  resolved.log(`[setup] starting the Temporal dev server on ${resolved.address} (log: ${logFile})…`);
  const pid = child.pid;
  if (!(await waitUntilAnswering(resolved.address, 90_000, () => processAlive(pid)))) {
    const tail = (await fs.readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-25).join('\n');
    throw new SetupError(
      `the Temporal dev server did not answer on ${resolved.address}; its log ends:\n${tail}`,
    );
  }
  await ensureSearchAttributes(resolved.address, resolved.namespace);
  resolved.log(`[setup] Temporal dev server ready: ${resolved.address}, Web UI ${uiUrl}`);
  return { address: resolved.address, uiUrl, reused: false, pid, dataDir: resolved.dataDir };
}

/**
 * Stops a dev server this tool started (found by its pid file); waits until it has exited. `crash: true`
 * kills it with SIGKILL at once, as a power loss or an OOM kill would (tests of durability use it).
 */
export async function stopDevServer(options: DevServerOptions & { crash?: boolean } = {}): Promise<boolean> {
  const resolved = resolveOptions(options);
  const pidFile = path.join(resolved.dataDir, 'server.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(await fs.readFile(pidFile, 'utf8'));
  await fs.rm(pidFile, { force: true });
  if (!Number.isInteger(pid) || !processAlive(pid)) return false;
  process.kill(pid, options.crash ? 'SIGKILL' : 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  while (processAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
  return true;
}

/** `npm run server`: the dev server in the foreground until Ctrl-C. */
export async function runDevServerForeground(options: DevServerOptions = {}): Promise<number> {
  const resolved = resolveOptions(options);
  if (await serverAnswers(resolved.address)) {
    resolved.log(`A Temporal server already answers on ${resolved.address}; nothing to start.`);
    return 0;
  }
  const binary = await ensureTemporalCli(resolved.log);
  await fs.mkdir(resolved.dataDir, { recursive: true });
  const { host } = splitAddress(resolved.address);
  resolved.log(
    `Temporal dev server on ${resolved.address}; Web UI http://${host}:${resolved.uiPort}; Ctrl-C stops it.`,
  );
  const child = spawn(binary, serverArgs(resolved), { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 0)));
}
