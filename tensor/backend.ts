/**
 * Backend selection for the tensor engine.
 *
 * Every model is written against the TensorFlow.js API only; this module decides which backend runs it:
 * `tensorflow` (native libtensorflow through `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`, when
 * installed in node_modules or provisioned by `npm run setup -- --native`: tensor/nativePackage.ts), `wasm`
 * (the embedded default, made able to train by the kernels in `wasmKernels.ts`), or `cpu` (pure
 * JavaScript, last resort). `auto` takes native only for the work (train or infer) where it measured
 * faster than wasm on this machine; per-op dispatch through the binding can cost more than its kernels
 * save on small networks (issue 16), so loading is not enough. The choice comes from the config, or from the
 * IMCNAS_BACKEND environment variable, which wins so an operator can override one machine without editing
 * the search config. The result is a small JSON-able report that logs and results carry.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradient functions (its `register_all_gradients` module ships only
// as bundler-only ESM); tfjs-layers' Node bundle carries the whole set and registers it on import. Without
// this import `tf.variableGrads` fails on every backend with "gradient function not found".
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from './wasmKernels';
import {
  CACHED_NATIVE_PACKAGE,
  NATIVE_MIN_SPEEDUP,
  cachedPackageDir,
  loadCachedNativePackage,
  nativeIsFaster,
  readChoice,
  type MeasuredSpeed,
  type NativeChoice,
  type TensorWork,
} from './nativePackage';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** Environment variable that overrides the configured backend on one machine. */
export const BACKEND_ENV_VAR = 'IMCNAS_BACKEND';

/** Native packages, best first. Optional peer dependencies: their install downloads libtensorflow. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export interface TensorEngineOptions {
  /** The configured backend; `auto` (the default) takes the best one that loads. */
  backend?: BackendChoice;
  /** Where IMCNAS_BACKEND is read from; `process.env` unless given (tests pass their own). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives one line saying which backend was chosen and why; silent unless given. */
  log?: (message: string) => void;
  /**
   * Loads an optional native package by name (tests replace it to simulate an installed or a broken one).
   * Must throw an error with code MODULE_NOT_FOUND when the package is not installed.
   */
  loadNativePackage?: (packageName: string) => unknown;
  /**
   * The work the engine is chosen for: `auto` takes native TensorFlow only where it measured faster than
   * wasm for that work on this machine (`npm run setup -- --native` measures). Default `train`.
   */
  work?: TensorWork;
  /**
   * The measurement `auto` decides by; read from the native cache (tensor/nativePackage.ts) unless given
   * (tests pass their own). null: not measured here.
   */
  nativeChoice?: NativeChoice | null;
}

/** Why a better candidate was passed over (only `auto` tries more than one). */
export interface SkippedCandidate {
  candidate: string;
  why: string;
}

/** What runs the tensors, and why: small JSON for logs, heartbeats and results files. */
export interface BackendReport {
  backend: BackendName;
  requested: BackendChoice;
  requestedBy: 'env' | 'option' | 'default';
  reason: string;
  /** Whether the wasm binary with 128-bit SIMD is in use; null for other backends. */
  simd: boolean | null;
  /** Threads the backend computes with: wasm has none in Node, so parallelism comes from processes. */
  threads: number | null;
  /** The native package that provides the `tensorflow` backend, when that is the one chosen. */
  nativePackage: string | null;
  /** Where that package was loaded from: node_modules, or the directory `setup --native` provisioned. */
  nativeLocation?: string | null;
  /** The work `auto` chose for (train or infer). */
  work?: TensorWork;
  /** Images per CPU-second of native and wasm on that work here, when `auto` consulted the measurement. */
  measured?: MeasuredSpeed | null;
  tfjsVersion: string;
  /** Kernels imcnas registered for this backend (wasm training kernels). */
  customKernels: string[];
  skipped: SkippedCandidate[];
}

/** A backend that was asked for explicitly but cannot run here. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/** A backend name that is not one of BACKEND_CHOICES. */
export class InvalidBackendChoiceError extends Error {
  override name = 'InvalidBackendChoiceError';
}

export function isBackendChoice(value: string): value is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(value);
}

/** The requested backend: IMCNAS_BACKEND when set, else the option, else `auto`. */
export function resolveBackendChoice(
  option: BackendChoice | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { requested: BackendChoice; requestedBy: BackendReport['requestedBy'] } {
  const fromEnv = env[BACKEND_ENV_VAR]?.trim().toLowerCase();
  if (fromEnv) {
    if (!isBackendChoice(fromEnv)) {
      throw new InvalidBackendChoiceError(
        `${BACKEND_ENV_VAR}=${JSON.stringify(env[BACKEND_ENV_VAR])}: must be one of ${BACKEND_CHOICES.join(', ')}`,
      );
    }
    return { requested: fromEnv, requestedBy: 'env' };
  }
  if (option !== undefined) {
    if (!isBackendChoice(option)) {
      throw new InvalidBackendChoiceError(
        `backend ${JSON.stringify(option)}: must be one of ${BACKEND_CHOICES.join(', ')}`,
      );
    }
    return { requested: option, requestedBy: 'option' };
  }
  return { requested: 'auto', requestedBy: 'default' };
}

type Attempt = { ok: true; reportFields: Partial<BackendReport> } | { ok: false; why: string };

/** Where defaultLoadNativePackage found each package it loaded. */
const nativeLocations = new Map<string, string>();

function defaultLoadNativePackage(packageName: string): unknown {
  try {
    // A computed name keeps bundlers and type checking from insisting on a package that is optional.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded: unknown = require(packageName);
    nativeLocations.set(packageName, 'node_modules');
    return loaded;
  } catch (error) {
    if (packageName !== CACHED_NATIVE_PACKAGE || !isModuleNotFound(error, packageName)) throw error;
  }
  // Not installed the ordinary way: the build `npm run setup -- --native` left in the cache, if any.
  const loaded = loadCachedNativePackage();
  nativeLocations.set(packageName, cachedPackageDir());
  return loaded;
}

/** The message of anything thrown; duck-typed, since errors from other realms (vm, jest) fail instanceof. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function errorMessage(error: unknown): string {
  const message = messageOf(error);
  // Native load failures can carry long multi-line dlopen traces; the first line says what failed.
  return message.split('\n')[0]!.slice(0, 300);
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  // Only "this package is missing" counts as not installed; a missing dependency *of* the package is a
  // broken install and is reported as such.
  return code === 'MODULE_NOT_FOUND' && message.includes(`'${packageName}'`);
}

/**
 * Threads libtensorflow computes one op with: TF_NUM_INTRAOP_THREADS when set (TensorFlow reads it when
 * it creates its thread pools), else one per core. A worker runs one child process per core, so there
 * TF_NUM_INTRAOP_THREADS=1 keeps the children from competing for the same cores.
 */
function nativeIntraOpThreads(): number {
  const fromEnv = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.cpus().length;
}

async function tryNative(packageName: string, load: (name: string) => unknown): Promise<Attempt> {
  try {
    load(packageName);
  } catch (error) {
    if (isModuleNotFound(error, packageName)) return { ok: false, why: 'not installed' };
    return { ok: false, why: `installed but failed to load: ${errorMessage(error)}` };
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    // The package registered its backend into another copy of @tensorflow/tfjs-core (a version mismatch
    // keeps npm from sharing one), which this process's models would never use.
    return {
      ok: false,
      why: `loaded but registered no 'tensorflow' backend with @tensorflow/tfjs-core ${tf.version_core} (version mismatch?)`,
    };
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return { ok: false, why: 'backend failed to initialize' };
  } catch (error) {
    return { ok: false, why: `backend failed to initialize: ${errorMessage(error)}` };
  }
  return {
    ok: true,
    reportFields: {
      nativePackage: packageName,
      nativeLocation: nativeLocations.get(packageName) ?? null,
      threads: nativeIntraOpThreads(),
    },
  };
}

let wasmPathsSet = false;

async function tryWasm(): Promise<Attempt> {
  try {
    if (!wasmPathsSet) {
      // In Node the .wasm binaries are read from disk: point the loader at the ones shipped in the package
      // (resolved, so it works whatever the working directory or bundling).
      const wasmDir = path.dirname(
        require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
      );
      setWasmPaths(wasmDir + path.sep);
      wasmPathsSet = true;
    }
    if (!(await tf.setBackend('wasm'))) return { ok: false, why: 'wasm backend failed to initialize' };
  } catch (error) {
    return { ok: false, why: `wasm backend failed to initialize: ${errorMessage(error)}` };
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const customKernels = registerWasmTrainingKernels();
  return { ok: true, reportFields: { simd, threads: getThreadsCount(), customKernels } };
}

async function tryCpu(): Promise<Attempt> {
  if (!(await tf.setBackend('cpu'))) return { ok: false, why: 'cpu backend failed to initialize' };
  silenceCpuBackendBanner();
  return { ok: true, reportFields: { threads: 1 } };
}

/**
 * The cpu backend prints a multi-line "install tfjs-node" banner on first use in Node. Choosing cpu is
 * either deliberate or already explained by the report, so the banner is only noise in worker logs.
 */
export function silenceCpuBackendBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

interface Selection {
  requested: BackendChoice;
  requestedBy: BackendReport['requestedBy'];
  load: (name: string) => unknown;
  work: TensorWork;
  /** undefined: read the native cache's measurement when a native package loads. */
  nativeChoice: NativeChoice | null | undefined;
}

async function selectBackend({
  requested,
  requestedBy,
  load,
  work,
  nativeChoice,
}: Selection): Promise<BackendReport> {
  const skipped: SkippedCandidate[] = [];
  const base = {
    requested,
    requestedBy,
    simd: null,
    threads: null,
    nativePackage: null,
    nativeLocation: null,
    work,
    measured: null,
    tfjsVersion: tf.version_core,
    customKernels: [],
  };
  let measured: MeasuredSpeed | null = null;
  let wasmReason = 'auto: no native TensorFlow package loads here; wasm is the embedded default';
  const via = requestedBy === 'env' ? ` (${BACKEND_ENV_VAR})` : requestedBy === 'option' ? ' (config)' : '';

  if (requested === 'tensorflow' || requested === 'auto') {
    // auto, when this machine's measurement already says wasm is as fast for this work: native is not
    // loaded at all (libtensorflow costs every process that loads it time, memory and a startup banner).
    const measuredChoice =
      requested === 'auto' ? (nativeChoice === undefined ? readChoice() : nativeChoice) : null;
    const measuredSlower = measuredChoice !== null && !nativeIsFaster(measuredChoice, work);
    for (const packageName of measuredSlower ? [] : NATIVE_PACKAGES) {
      const attempt = await tryNative(packageName, load);
      if (attempt.ok && requested === 'tensorflow') {
        const reason = `requested tensorflow${via}; using ${packageName}`;
        return { ...base, backend: 'tensorflow', reason, skipped, ...attempt.reportFields };
      }
      if (attempt.ok) {
        // auto: native only for the work where it measured faster than wasm on this machine.
        const choice = nativeChoice === undefined ? readChoice() : nativeChoice;
        measured = choice ? choice.speeds[work] : null;
        if (choice && nativeIsFaster(choice, work)) {
          const reason =
            `auto: native TensorFlow through ${packageName}: measured ${measured!.tensorflow} images ` +
            `per CPU-second against wasm's ${measured!.wasm} for ${work} on this machine`;
          return { ...base, backend: 'tensorflow', reason, skipped, measured, ...attempt.reportFields };
        }
        const why = choice
          ? `loads, but measured ${measured!.tensorflow} images per CPU-second against wasm's ` +
            `${measured!.wasm} for ${work} on this machine (native is chosen from ${NATIVE_MIN_SPEEDUP}× faster)`
          : 'loads, but not measured against wasm on this machine (npm run setup -- --native measures)';
        skipped.push({ candidate: packageName, why });
        wasmReason = `auto: native TensorFlow (${packageName}) ${why}; wasm`;
        break;
      }
      skipped.push({ candidate: packageName, why: attempt.why });
    }
    if (measuredSlower) {
      measured = measuredChoice.speeds[work];
      const why =
        `not loaded: measured ${measured.tensorflow} images per CPU-second against wasm's ${measured.wasm} ` +
        `for ${work} on this machine (native is chosen from ${NATIVE_MIN_SPEEDUP}× faster)`;
      skipped.push({ candidate: 'native TensorFlow', why });
      wasmReason = `auto: native TensorFlow ${why}; wasm`;
    }
    if (requested === 'tensorflow') {
      throw new BackendUnavailableError(
        `backend 'tensorflow' requested${via} but unavailable: ` +
          skipped.map((s) => `${s.candidate} ${s.why}`).join('; ') +
          `. Install @tensorflow/tfjs-node (or -gpu) ${tf.version_core}, or choose wasm.`,
      );
    }
  }

  if (requested === 'wasm' || requested === 'auto') {
    const attempt = await tryWasm();
    if (attempt.ok) {
      const reason = requested === 'auto' ? wasmReason : `requested wasm${via}`;
      return { ...base, backend: 'wasm', reason, skipped, measured, ...attempt.reportFields };
    }
    if (requested === 'wasm') {
      throw new BackendUnavailableError(`backend 'wasm' requested${via} but unavailable: ${attempt.why}`);
    }
    skipped.push({ candidate: 'wasm', why: attempt.why });
  }

  const attempt = await tryCpu();
  if (!attempt.ok) throw new BackendUnavailableError(attempt.why);
  const reason =
    requested === 'auto'
      ? 'auto: neither native TensorFlow nor wasm could start; cpu is the last resort (slow)'
      : `requested cpu${via}`;
  return { ...base, backend: 'cpu', reason, skipped, ...attempt.reportFields };
}

let current: {
  requested: BackendChoice;
  load: (name: string) => unknown;
  work: TensorWork;
  nativeChoice: NativeChoice | null | undefined;
  report: Promise<BackendReport>;
} | null = null;

/**
 * Selects and initializes the tensor backend, registering imcnas's wasm training kernels when wasm is
 * chosen, and returns the report. Idempotent: calling again with the same request returns the same report
 * without re-initializing; a different request switches backend.
 */
export async function initTensorEngine(options: TensorEngineOptions = {}): Promise<BackendReport> {
  const { requested, requestedBy } = resolveBackendChoice(options.backend, options.env ?? process.env);
  const load = options.loadNativePackage ?? defaultLoadNativePackage;
  const work = options.work ?? 'train';
  const nativeChoice = options.nativeChoice;
  if (
    current &&
    current.requested === requested &&
    current.load === load &&
    current.work === work &&
    current.nativeChoice === nativeChoice
  ) {
    const report = await current.report;
    if (tf.getBackend() === report.backend) return report;
  }
  const pending = selectBackend({ requested, requestedBy, load, work, nativeChoice });
  current = { requested, load, work, nativeChoice, report: pending };
  try {
    const report = await pending;
    options.log?.(
      `[tensor] backend=${report.backend}${report.simd === null ? '' : ` simd=${report.simd}`} — ${report.reason}`,
    );
    return report;
  } catch (error) {
    current = null;
    throw error;
  }
}

/** The report of the last successful initTensorEngine, if any (for results files written later). */
export async function currentBackendReport(): Promise<BackendReport | null> {
  if (!current) return null;
  try {
    return await current.report;
  } catch {
    return null;
  }
}
