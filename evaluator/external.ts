/**
 * The external evaluator adapter: a user command (NeuroSim, aihwkit, a lab bench driving a real chip)
 * speaking JSON lines over stdin/stdout as evaluator/PROTOCOL.md specifies. The adapter writes
 * the folded network to a file the command reads (the weights reference, with its SHA-256), sends one
 * request line per evaluation, relays progress lines, and turns every way the command can fail — not
 * starting, crashing, hanging, printing garbage, answering with an error — into an ExternalEvaluatorError
 * that names the command, the failure and the tail of its stderr.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { writeFileAtomic } from '../storage/atomic';
import { noiseSettings } from '../hardware/noise/settings';
import { foldedNetworkToJson, FOLDED_NETWORK_FORMAT } from './serialize';
import { sampleSeed } from './simulator';
import { accuracyStats } from './statistics';
import {
  type EvaluateOptions,
  type Evaluator,
  InvalidRobustnessRequestError,
  type RobustnessRequest,
  type RobustnessResult,
  robustnessRequestProblems,
} from './types';

export const EVALUATOR_PROTOCOL = 'imcnas-evaluator/1';

export type ExternalFailure =
  'spawn' | 'startup-timeout' | 'timeout' | 'crashed' | 'protocol' | 'remote' | 'closed';

/**
 * A failed external evaluation. Its name says whether retrying can help: a command that cannot start or
 * does not speak the protocol fails the same way every time ('ExternalEvaluatorSetupError', non-retryable
 * in common/failures.ts); a crash, a silence or a remote error may be transient.
 */
export class ExternalEvaluatorError extends Error {
  constructor(
    readonly failure: ExternalFailure,
    message: string,
    /** The last lines the command wrote to stderr. */
    readonly stderrTail: string,
  ) {
    super(stderrTail ? `${message}\n--- evaluator stderr (last lines) ---\n${stderrTail}` : message);
    this.name =
      failure === 'spawn' || failure === 'protocol'
        ? 'ExternalEvaluatorSetupError'
        : 'ExternalEvaluatorError';
  }
}

export interface ExternalEvaluatorOptions {
  /** The executable and its arguments, e.g. ['python3', 'examples/evaluators/mock_chip.py']. */
  command: string[];
  cwd?: string;
  /** Variables set for the command, on top of the minimal environment (see evaluatorEnvironment). */
  env?: Record<string, string>;
  /** Names of the worker's environment variables passed through to the command (opt-in). */
  passEnv?: readonly string[];
  /** Where network files are written for the command to read (a shared directory for remote runners). */
  workDir: string;
  /** Time allowed until the command's hello line (default 30 s). */
  startupTimeoutMs?: number;
  /** Time allowed for one evaluation, progress or not (default 2 h). */
  requestTimeoutMs?: number;
  /** Longest silence allowed during an evaluation; any line (progress, log) resets it (default 10 min). */
  idleTimeoutMs?: number;
}

/**
 * What an evaluator command inherits from the worker: only what a program needs to start and find its
 * tools (PATH, HOME, locale, time zone, temporary directory, user), plus the variables the configuration
 * names in `passEnv`. Never the worker's credentials (TEMPORAL_API_KEY, TLS key paths, cloud tokens): the
 * command is the user's code, possibly a remote-hardware client, and needs none of them by default.
 */
export const EVALUATOR_BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER'] as const;

export function evaluatorEnvironment(
  from: NodeJS.ProcessEnv,
  passEnv: readonly string[] = [],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...EVALUATOR_BASE_ENV, ...passEnv]) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

interface Hello {
  type: 'hello';
  protocol: string;
  name?: string;
  version?: string;
}

interface Pending {
  id: string;
  resolve: (message: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  onProgress?: EvaluateOptions['onProgress'];
  touch: () => void;
}

const STDERR_LINES = 20;

export class ExternalEvaluator implements Evaluator {
  private child: ChildProcessWithoutNullStreams | null = null;
  private hello: Hello | null = null;
  private starting: Promise<void> | null = null;
  private pending: Pending | null = null;
  private stderrLines: string[] = [];
  private stdoutBuffer = '';
  private counter = 0;
  private closed = false;
  private exitError: ExternalEvaluatorError | null = null;

  constructor(private readonly options: ExternalEvaluatorOptions) {
    if (options.command.length === 0) throw new Error('ExternalEvaluator: command must name an executable');
  }

  /** The evaluator's own name (from its hello line), or the command before it has started. */
  get name(): string {
    return this.hello?.name ?? path.basename(this.options.command[0]!);
  }

  private describe(): string {
    return `external evaluator \`${this.options.command.join(' ')}\``;
  }

  private stderrTail(): string {
    return this.stderrLines.slice(-STDERR_LINES).join('\n');
  }

  private fail(failure: ExternalFailure, message: string): ExternalEvaluatorError {
    return new ExternalEvaluatorError(failure, `${this.describe()}: ${message}`, this.stderrTail());
  }

  /** Starts the command and waits for its hello line (evaluate() calls this on first use). */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(this.fail('closed', 'the evaluator was closed'));
    this.starting ??= new Promise<void>((resolve, reject) => {
      const [executable, ...args] = this.options.command;
      let child: ChildProcessWithoutNullStreams;
      try {
        child = spawn(executable!, args, {
          cwd: this.options.cwd,
          env: { ...evaluatorEnvironment(process.env, this.options.passEnv), ...this.options.env },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch (error) {
        reject(this.fail('spawn', `could not start: ${(error as Error).message}`));
        return;
      }
      this.child = child;
      const timer = setTimeout(() => {
        reject(this.fail('startup-timeout', `no hello line within ${this.startupTimeoutMs()} ms`));
        this.kill();
      }, this.startupTimeoutMs());
      const onHello = (hello: Hello) => {
        clearTimeout(timer);
        if (hello.protocol !== EVALUATOR_PROTOCOL) {
          reject(
            this.fail(
              'protocol',
              `speaks protocol ${JSON.stringify(hello.protocol)}, expected ${EVALUATOR_PROTOCOL}`,
            ),
          );
          this.kill();
          return;
        }
        this.hello = hello;
        resolve();
      };
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      const current = () => this.child === child;
      child.stderr.on('data', (chunk: string) => {
        if (!current()) return;
        for (const line of chunk.split('\n')) if (line.trim()) this.stderrLines.push(line);
        if (this.stderrLines.length > 4 * STDERR_LINES)
          this.stderrLines = this.stderrLines.slice(-STDERR_LINES);
        this.pending?.touch();
      });
      child.stdout.on('data', (chunk: string) => {
        if (!current()) return;
        this.stdoutBuffer += chunk;
        let newline: number;
        while ((newline = this.stdoutBuffer.indexOf('\n')) >= 0) {
          const line = this.stdoutBuffer.slice(0, newline).trim();
          this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
          if (line) this.onLine(line, onHello, reject);
        }
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        if (!current()) return;
        this.child = null;
        const failure = this.fail('spawn', `could not start: ${error.message}`);
        this.exitError = failure;
        reject(failure);
        this.pending?.reject(failure);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (!current()) return; // a process this adapter already gave up on
        this.child = null;
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const failure =
          this.exitError ?? this.fail('crashed', `${how}${this.hello ? '' : ' before its hello line'}`);
        this.exitError = failure;
        reject(failure);
        if (this.pending) {
          const pending = this.pending;
          this.pending = null;
          pending.reject(failure);
        }
      });
      // A command that stops reading stdin must not crash the adapter with EPIPE.
      child.stdin.on('error', () => {});
    });
    return this.starting;
  }

  private startupTimeoutMs(): number {
    return this.options.startupTimeoutMs ?? 30_000;
  }

  private onLine(line: string, onHello: (hello: Hello) => void, rejectStart: (error: Error) => void): void {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch {
      const failure = this.fail('protocol', `printed a line that is not a JSON object: ${truncate(line)}`);
      this.protocolFailure(failure, rejectStart);
      return;
    }
    const type = message.type;
    if (type === 'hello') {
      onHello(message as unknown as Hello);
      return;
    }
    if (type === 'log') {
      this.pending?.touch();
      return;
    }
    const pending = this.pending;
    if (!pending || message.id !== pending.id) {
      this.protocolFailure(
        this.fail(
          'protocol',
          `sent a ${String(type)} line for ${JSON.stringify(message.id)}, no such request is open`,
        ),
        rejectStart,
      );
      return;
    }
    pending.touch();
    switch (type) {
      case 'progress':
        pending.onProgress?.({
          done: Number(message.done ?? 0),
          total: Number(message.total ?? 0),
          message: String(message.message ?? ''),
        });
        return;
      case 'result':
        this.pending = null;
        pending.resolve(message);
        return;
      case 'error':
        this.pending = null;
        pending.reject(
          this.fail('remote', `reported an error: ${String(message.message ?? '(no message)')}`),
        );
        return;
      default:
        this.protocolFailure(
          this.fail('protocol', `sent an unknown line type ${JSON.stringify(type)}`),
          rejectStart,
        );
    }
  }

  /** A protocol violation ends the process: its state is unknown, a fresh one is started on next use. */
  private protocolFailure(failure: ExternalEvaluatorError, rejectStart: (error: Error) => void): void {
    this.exitError = failure;
    rejectStart(failure);
    if (this.pending) {
      const pending = this.pending;
      this.pending = null;
      pending.reject(failure);
    }
    this.kill();
  }

  private kill(): void {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
    hard.unref();
    child.once('exit', () => clearTimeout(hard));
  }

  private resetAfterFailure(): void {
    this.kill();
    this.child = null;
    this.hello = null;
    this.starting = null;
    this.exitError = null;
    this.stdoutBuffer = '';
  }

  async evaluate(request: RobustnessRequest, options: EvaluateOptions = {}): Promise<RobustnessResult> {
    const problems = robustnessRequestProblems(request);
    const reference = request.data.reference;
    if (!reference)
      problems.push(
        'data.reference: an external evaluator loads the images itself and needs a dataset reference',
      );
    if (problems.length > 0) throw new InvalidRobustnessRequestError(problems.join('; '));
    if (this.pending) throw new Error(`${this.describe()}: one evaluation at a time per adapter`);
    if (this.exitError || (this.starting && !this.child)) this.resetAfterFailure();
    await this.start();
    const started = process.hrtime.bigint();

    const json = JSON.stringify(foldedNetworkToJson(request.network));
    const file = path.resolve(this.options.workDir, `${safeName(request.candidateId)}.folded.json`);
    const sha256 = await writeFileAtomic(file, json);
    const times = request.driftSeconds ?? [0];
    const seeds = Array.from({ length: request.samples }, (_, i) => sampleSeed(request.seed, i));
    const id = `req-${++this.counter}`;
    const line = {
      type: 'evaluate',
      protocol: EVALUATOR_PROTOCOL,
      id,
      candidateId: request.candidateId,
      network: {
        architecture: request.network.architecture,
        quantization: request.network.quantization,
        layers: request.network.layers.map((layer) => layer.shape),
      },
      weights: { path: file, format: FOLDED_NETWORK_FORMAT, sha256 },
      hardware: request.hardware,
      noise: noiseSettings(request.noise ?? {}),
      samples: request.samples,
      seed: request.seed,
      sampleSeeds: seeds,
      driftSeconds: times,
      dataset: reference,
    };

    const response = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const requestTimeout = this.options.requestTimeoutMs ?? 2 * 3600_000;
      const idleTimeout = this.options.idleTimeoutMs ?? 600_000;
      let idleTimer: NodeJS.Timeout | null = null;
      const cleanup = () => {
        clearTimeout(wholeTimer);
        if (idleTimer) clearTimeout(idleTimer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const abandon = (error: Error) => {
        cleanup();
        this.pending = null;
        this.exitError = error instanceof ExternalEvaluatorError ? error : this.fail('closed', error.message);
        this.kill();
        reject(error);
      };
      const wholeTimer = setTimeout(
        () => abandon(this.fail('timeout', `no result within ${requestTimeout} ms (request ${id})`)),
        requestTimeout,
      );
      const touch = () => {
        if (idleTimer) clearTimeout(idleTimer);
        idleTimer = setTimeout(
          () => abandon(this.fail('timeout', `silent for ${idleTimeout} ms during request ${id}`)),
          idleTimeout,
        );
      };
      const onAbort = () =>
        abandon(
          options.signal?.reason instanceof Error ? options.signal.reason : new Error('evaluation aborted'),
        );
      options.signal?.addEventListener('abort', onAbort);
      // An abort that came while the command was starting has already fired its event.
      if (options.signal?.aborted) queueMicrotask(onAbort);
      this.pending = {
        id,
        onProgress: options.onProgress,
        touch,
        resolve: (message) => {
          cleanup();
          resolve(message);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      touch();
      const child = this.child;
      if (!child) {
        abandon(this.exitError ?? this.fail('crashed', 'exited before the request could be sent'));
        return;
      }
      child.stdin.write(`${JSON.stringify(line)}\n`);
    });

    const accuracies = this.validateResult(response, times.length, request.samples);
    const metrics: Record<string, number> = {};
    const reported = response.metrics;
    if (reported !== undefined) {
      if (typeof reported !== 'object' || reported === null || Array.isArray(reported))
        throw this.fail('protocol', 'result.metrics must be an object of numbers');
      for (const [key, value] of Object.entries(reported)) {
        if (typeof value !== 'number' || !Number.isFinite(value))
          throw this.fail(
            'protocol',
            `result.metrics.${key} must be a finite number, got ${JSON.stringify(value)}`,
          );
        metrics[key] = value;
      }
    }
    metrics.adapterWallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const noiseFree = response.noiseFreeAccuracy;
    return {
      candidateId: request.candidateId,
      evaluator: this.name,
      samples: request.samples,
      sampleSeeds: seeds,
      noiseFreeAccuracy: typeof noiseFree === 'number' && noiseFree >= 0 && noiseFree <= 1 ? noiseFree : null,
      points: times.map((timeS, i) => ({
        timeS,
        accuracy: accuracyStats(accuracies[i]!),
        accuracies: accuracies[i]!,
      })),
      metrics,
    };
  }

  private validateResult(response: Record<string, unknown>, times: number, samples: number): number[][] {
    const accuracies = response.accuracies;
    const bad = (why: string) => this.fail('protocol', `result.accuracies${why}`);
    if (!Array.isArray(accuracies) || accuracies.length !== times)
      throw bad(` must be an array with one entry per drift time (${times})`);
    return accuracies.map((row: unknown, i) => {
      if (!Array.isArray(row) || row.length !== samples)
        throw bad(`[${i}] must list one accuracy per sample (${samples})`);
      return row.map((value: unknown, j) => {
        if (typeof value !== 'number' || !(value >= 0 && value <= 1))
          throw bad(`[${i}][${j}] must be a fraction in [0, 1], got ${JSON.stringify(value)}`);
        return value;
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.write(`${JSON.stringify({ type: 'shutdown' })}\n`);
      child.stdin.end();
    });
    this.child = null;
  }
}

function truncate(text: string, length = 200): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'candidate';
}
