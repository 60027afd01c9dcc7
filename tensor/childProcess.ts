/**
 * CPU-heavy work (training, evaluation) runs in a forked child process, never on the worker's main thread:
 * a busy main thread would starve Temporal heartbeats and cancellation, and wasm has no threads in Node, so
 * processes are also how we use more than one core.
 *
 * The child runs a module exporting `run(request, context)`; it reports progress over IPC. The parent
 * relays progress (the activity turns it into heartbeats), kills the child when the caller aborts, and a
 * stall watchdog kills a child that stops reporting (a wedged child would otherwise hold its slot forever).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a child module reports while it works. `step` must grow for the watchdog to count it as progress. */
export interface ChildProgress {
  step: number;
  total?: number;
  message?: string;
  details?: Record<string, unknown>;
}

export interface ChildContext {
  report(progress: ChildProgress): void;
}

/** The shape every child module exports. */
export type ChildModule<Request, Result> = {
  run(request: Request, context: ChildContext): Promise<Result>;
};

export type ParentToChild = { type: 'run'; modulePath: string; exportName: string; request: unknown };
export type ChildToParent =
  | { type: 'progress'; progress: ChildProgress }
  | { type: 'result'; result: unknown }
  | { type: 'error'; name: string; message: string; stack?: string; code?: string };

/** An error thrown inside the child, re-raised in the parent with the child's error name kept. */
export class ChildTaskError extends Error {
  constructor(
    readonly childErrorName: string,
    message: string,
    readonly childStack?: string,
    /** The errno code (EACCES, ENOSPC …) when the child's error was a system error. */
    readonly childCode?: string,
  ) {
    super(message);
    this.name = 'ChildTaskError';
  }
}

export class ChildStalledError extends Error {
  override name = 'ChildStalledError';
}

export class ChildExitedError extends Error {
  override name = 'ChildExitedError';
}

export class ChildCancelledError extends Error {
  override name = 'ChildCancelledError';
}

export interface RunInChildOptions<Request> {
  /** Absolute path of the module exporting the task (.ts runs through tsx's loader, .js as is). */
  modulePath: string;
  /** The exported function to run (default `run`). */
  exportName?: string;
  request: Request;
  onProgress?: (progress: ChildProgress) => void;
  /** Kill the child when it reports no new progress for this long. */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Called with the child once forked (tests use it to kill the child mid-task). */
  onSpawn?: (child: ChildProcess) => void;
  /** Upper bound on the child's V8 heap in MB. */
  maxOldSpaceMb?: number;
}

const ENTRY = path.join(__dirname, 'childEntry');

/** Node arguments that let a forked process run `file` (tsx's loader for a .ts file). */
export function loaderArgs(file: string): string[] {
  if (!file.endsWith('.ts')) return [];
  const tsxDir = path.dirname(require.resolve('tsx/package.json'));
  return ['--import', pathToFileURL(path.join(tsxDir, 'dist', 'loader.mjs')).href];
}

/** Sends SIGTERM, then SIGKILL if the child has not exited after `graceMs`. */
export function terminate(child: ChildProcess, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function runInChild<Request, Result>(options: RunInChildOptions<Request>): Promise<Result> {
  const entryFile = `${ENTRY}${path.extname(__filename)}`;
  return new Promise<Result>((resolve, reject) => {
    if (options.signal?.aborted) return reject(new ChildCancelledError('cancelled before the child started'));
    const child = fork(entryFile, [], {
      execArgv: [
        ...loaderArgs(entryFile),
        ...(options.maxOldSpaceMb ? [`--max-old-space-size=${options.maxOldSpaceMb}`] : []),
      ],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    try {
      options.onSpawn?.(child);
    } catch (error) {
      void terminate(child, 0);
      return reject(error);
    }
    let settled = false;
    let lastStep = -Infinity;
    const stderrTail: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderrTail.push(chunk.toString());
      if (stderrTail.length > 30) stderrTail.shift();
    });

    let watchdog: NodeJS.Timeout | undefined;
    const armWatchdog = () => {
      if (!options.stallTimeoutMs) return;
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        finish(() =>
          reject(new ChildStalledError(`no progress for ${options.stallTimeoutMs} ms; child killed`)),
        );
        void terminate(child, 1000);
      }, options.stallTimeoutMs);
    };
    const onAbort = () => {
      finish(() => reject(new ChildCancelledError('cancelled; child stopped')));
      void terminate(child);
    };
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      if (watchdog) clearTimeout(watchdog);
      options.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    armWatchdog();

    child.on('message', (message: ChildToParent) => {
      if (message.type === 'progress') {
        if (message.progress.step > lastStep) {
          lastStep = message.progress.step;
          armWatchdog();
        }
        options.onProgress?.(message.progress);
      } else if (message.type === 'result') {
        finish(() => resolve(message.result as Result));
      } else if (message.type === 'error') {
        finish(() => reject(new ChildTaskError(message.name, message.message, message.stack, message.code)));
      }
    });
    child.on('error', (error) => finish(() => reject(error)));
    child.on('exit', (code, signal) => {
      finish(() =>
        reject(
          new ChildExitedError(
            `child exited (${signal ?? `code ${code}`}) before returning a result` +
              (stderrTail.length ? `; stderr ends:\n${stderrTail.join('').slice(-2000)}` : ''),
          ),
        ),
      );
    });
    const start: ParentToChild = {
      type: 'run',
      modulePath: options.modulePath,
      exportName: options.exportName ?? 'run',
      request: options.request,
    };
    child.send(start);
  });
}
