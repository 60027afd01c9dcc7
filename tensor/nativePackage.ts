/**
 * Where the native TensorFlow backend lives when `npm run setup -- --native` provisioned it, and how it is
 * loaded from there.
 *
 * @tensorflow/tfjs-node's own install script downloads libtensorflow and a prebuilt binding from a host
 * that not every machine reaches; the provisioning (scripts/nativeSetup.ts) instead builds the binding
 * against the libtensorflow shipped in the tensorflow-cpu wheel and keeps the result outside the checkout,
 * in one cache directory per tfjs version:
 *
 *   <cache>/tfjs-node-<version>/node_modules/@tensorflow/tfjs-node   the package, binding built in lib/
 *   <cache>/tfjs-node-<version>/provisioned.json                     what was built from what (written last)
 *   <cache>/tfjs-node-<version>/choice.json                          measured speeds: where native is faster
 *
 * The package must register its backend into the *same* @tensorflow/tfjs-core instance the models use, so
 * the cache's copies of tfjs-core, tfjs-layers and tfjs-backend-cpu are symbolic links to this checkout's
 * (re-pointed on load when another checkout linked them): Node and jest resolve both to one real path.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** tfjs-node must match tfjs-core exactly, or it registers into a copy of its own. */
export const TFJS_NODE_VERSION = tf.version_core;

/** The wheel that ships libtensorflow (TF_/TFE_ C API) and its C headers; PyPI, any platform pip knows. */
export const TENSORFLOW_WHEEL_REQUIREMENT = 'tensorflow-cpu==2.21.*';

/** The package loaded from the cache. */
export const CACHED_NATIVE_PACKAGE = '@tensorflow/tfjs-node';

/** Packages the cached tfjs-node must share with this checkout (one tfjs-core instance, one registry). */
export const SHARED_TFJS_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-backend-cpu',
] as const;

export function nativeCacheRoot(): string {
  // Same root as temporal/paths.ts's cacheRoot (not imported: domain code stays free of temporal/).
  return process.env.IMCNAS_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'imcnas');
}

export function nativeCacheDir(): string {
  return path.join(nativeCacheRoot(), `tfjs-node-${TFJS_NODE_VERSION}`);
}

export function cachedPackageDir(cacheDir = nativeCacheDir()): string {
  return path.join(cacheDir, 'node_modules', CACHED_NATIVE_PACKAGE);
}

export function provisionFile(cacheDir = nativeCacheDir()): string {
  return path.join(cacheDir, 'provisioned.json');
}

export function choiceFile(cacheDir = nativeCacheDir()): string {
  return path.join(cacheDir, 'choice.json');
}

/** Written last by the provisioning, so its presence means the whole directory is complete. */
export interface NativeProvision {
  tfjsNodeVersion: string;
  wheel: string;
  /** The binding, relative to the package directory (node-pre-gyp's module_path). */
  binding: string;
  nodeAbi: string;
  provisionedAt: string;
}

/** Work the tensor engine is chosen for: the native backend can win one and lose the other. */
export const TENSOR_WORKS = ['train', 'infer'] as const;
export type TensorWork = (typeof TENSOR_WORKS)[number];

/** Images per CPU-second (or per second, in wallSpeeds) of each backend on one kind of work, here. */
export interface MeasuredSpeed {
  tensorflow: number;
  wasm: number;
}

/** The measurement `auto` chooses by (written by the provisioning, rewritten by `--native --remeasure`). */
export interface NativeChoice {
  /** What was measured: network, batch, steps; for the reader, not for the decision. */
  workload: string;
  /** The machine it was measured on: a different CPU or core count voids the measurement. */
  cpuModel: string;
  cpuCount: number;
  measuredAt: string;
  /** Images per CPU-second of this process (all its threads): what `auto` decides by. */
  speeds: Record<TensorWork, MeasuredSpeed>;
  /** Images per wall-clock second, for the reader (native may use several cores for it). */
  wallSpeeds?: Record<TensorWork, MeasuredSpeed>;
}

/**
 * Native must beat wasm by this factor to be chosen: wasm is the zero-setup default with imcnas's own
 * kernels and bit-stable numerics, so a tie (or a difference inside run-to-run noise on a shared machine,
 * ~5–10 % in bench/results/tensor.json repeats) keeps it.
 */
export const NATIVE_MIN_SPEEDUP = 1.1;

export function readProvision(cacheDir = nativeCacheDir()): NativeProvision | null {
  try {
    return JSON.parse(fs.readFileSync(provisionFile(cacheDir), 'utf8')) as NativeProvision;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function machineSignature(): { cpuModel: string; cpuCount: number } {
  const cpus = os.cpus();
  return { cpuModel: cpus[0]?.model ?? 'unknown', cpuCount: cpus.length };
}

/** The measurement for this machine, or null when there is none (or it was taken on another machine). */
export function readChoice(cacheDir = nativeCacheDir()): NativeChoice | null {
  let choice: NativeChoice;
  try {
    choice = JSON.parse(fs.readFileSync(choiceFile(cacheDir), 'utf8')) as NativeChoice;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const here = machineSignature();
  if (choice.cpuModel !== here.cpuModel || choice.cpuCount !== here.cpuCount) return null;
  return choice;
}

/** Whether the measurement says native is faster for `work`. */
export function nativeIsFaster(choice: NativeChoice, work: TensorWork): boolean {
  const speed = choice.speeds[work];
  return speed.tensorflow >= NATIVE_MIN_SPEEDUP * speed.wasm;
}

/** This checkout's directory of a package (where `require` from here finds it). */
function checkoutPackageDir(packageName: string): string {
  return path.dirname(require.resolve(`${packageName}/package.json`));
}

/**
 * Points the cache's shared tfjs packages at this checkout's. Each link is replaced atomically (a new
 * link renamed over the old), so a concurrent loader sees the old target or the new one, never none.
 */
export function linkSharedPackages(cacheDir = nativeCacheDir()): void {
  for (const packageName of SHARED_TFJS_PACKAGES) {
    const link = path.join(cacheDir, 'node_modules', packageName);
    const target = fs.realpathSync(checkoutPackageDir(packageName));
    let current: string | null = null;
    try {
      current = fs.readlinkSync(link);
    } catch {
      // Missing, or a real directory (npm's own copy): replaced below.
    }
    if (current === target) continue;
    fs.mkdirSync(path.dirname(link), { recursive: true });
    const temp = `${link}.${process.pid}.${Date.now()}.link`;
    fs.symlinkSync(target, temp, 'dir');
    if (current === null) fs.rmSync(link, { recursive: true, force: true });
    fs.renameSync(temp, link);
  }
}

/**
 * Loads tfjs-node from the cache when it was provisioned there. Throws MODULE_NOT_FOUND (as `require`
 * does for a package that is not installed) when it was not, so callers treat both places alike.
 */
export function loadCachedNativePackage(cacheDir = nativeCacheDir()): unknown {
  if (!readProvision(cacheDir)) {
    const error = new Error(
      `Cannot find module '${CACHED_NATIVE_PACKAGE}' (not in node_modules, not provisioned in ${cacheDir}: run npm run setup -- --native)`,
    ) as Error & { code: string };
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  linkSharedPackages(cacheDir);
  // libtensorflow logs oneDNN and CPU-feature banners to stderr on load; keep warnings and errors only,
  // unless the user asked for a level.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(cachedPackageDir(cacheDir));
}
