/**
 * `npm run setup -- --native`: provisions the native TensorFlow backend (@tensorflow/tfjs-node) without
 * its install script, which downloads libtensorflow and a prebuilt binding from a host outside the package
 * registries. Instead:
 *
 * 1. the package and its JavaScript dependencies come from the npm registry (`npm install
 *    --ignore-scripts` into a temp directory beside the cache);
 * 2. libtensorflow comes from the tensorflow-cpu wheel on PyPI (`pip download --no-deps`), which ships
 *    libtensorflow_cc.so.2 exporting the TF_/TFE_ C API that the binding calls, and the C headers;
 * 3. the binding is built from the package's own sources with node-gyp (shipped inside npm) against those
 *    headers and Node's own headers, linked as libtensorflow.so in the package's deps/lib, where its
 *    rpath ($ORIGIN/../../deps/lib, binding.gyp) finds it at run time;
 * 4. the temp directory is renamed into place, and the speed of native and wasm on the reference network
 *    is measured (tensor/nativePackage.ts: `auto` picks native only for the work where it is faster).
 *
 * Everything is cached under <cache>/tfjs-node-<version>/: a second run only re-measures when the
 * measurement is missing or from another machine, and takes a second otherwise.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeJsonAtomic } from '../storage/atomic';
import { SetupError } from '../temporal/temporalCli';
import { initTensorEngine } from '../tensor/backend';
import {
  CACHED_NATIVE_PACKAGE,
  SHARED_TFJS_PACKAGES,
  TENSORFLOW_WHEEL_REQUIREMENT,
  TENSOR_WORKS,
  TFJS_NODE_VERSION,
  cachedPackageDir,
  choiceFile,
  linkSharedPackages,
  machineSignature,
  nativeCacheDir,
  nativeCacheRoot,
  readChoice,
  readProvision,
  type MeasuredSpeed,
  type NativeChoice,
  type NativeProvision,
  type TensorWork,
} from '../tensor/nativePackage';
import { createReferenceNet, syntheticBatch, trainStep } from '../tensor/referenceNet';

export interface NativeSetupOptions {
  log?: (line: string) => void;
  /** Measure native against wasm again even when this machine has a measurement. */
  remeasure?: boolean;
}

export interface NativeSetupResult {
  cacheDir: string;
  provision: NativeProvision;
  choice: NativeChoice;
  /** Seconds spent provisioning (0 when the cache was complete). */
  provisionSeconds: number;
}

/** Files of the wheel the binding needs: the two libraries and the C API's headers. */
const WHEEL_LIBRARIES = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'];
const WHEEL_HEADER_DIRS = [
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/',
  'tensorflow/include/tsl/platform/',
  'tensorflow/include/xla/tsl/c/',
];

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    cwd: options.cwd,
    env: options.env ?? process.env,
  });
}

function tail(result: SpawnSyncReturns<string>): string {
  const text = `${result.stdout ?? ''}\n${result.stderr ?? ''}`.trim();
  return text.split('\n').slice(-15).join('\n');
}

/** A Python that has pip, or a SetupError naming how to get one. */
export function findPythonWithPip(): string {
  const tried: string[] = [];
  for (const python of [process.env.IMCNAS_PYTHON, 'python3', 'python'].filter(Boolean) as string[]) {
    const probe = run(python, ['-m', 'pip', '--version']);
    if (probe.status === 0) return python;
    tried.push(`${python}: ${probe.error ? 'not found' : 'no pip'}`);
  }
  throw new SetupError(
    `the native backend needs Python 3 with pip to download the ${TENSORFLOW_WHEEL_REQUIREMENT} wheel ` +
      `(${tried.join('; ')}). Install it (Debian: apt-get install -y python3-pip) or point IMCNAS_PYTHON ` +
      'at one, then run npm run setup -- --native again.',
  );
}

/** node-gyp as shipped inside npm (or installed on its own), or a SetupError. */
export function findNodeGyp(): string {
  const candidates: string[] = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // Not a dependency of this project: look inside npm.
  }
  // npm bundles node-gyp under <prefix>/lib/node_modules/npm; the prefix is npm's global one, or the one
  // beside the running node binary.
  const bundledIn = (prefix: string) =>
    path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const globalPrefix = run('npm', ['prefix', '-g']);
  if (globalPrefix.status === 0) candidates.push(bundledIn(globalPrefix.stdout.trim()));
  candidates.push(bundledIn(path.join(path.dirname(process.execPath), '..')));
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new SetupError(
      `node-gyp not found (looked in ${candidates.join(', ')}); install it with npm install -g node-gyp`,
    );
  }
  return found;
}

/** Node's own headers (for `--nodedir`), so node-gyp need not download them. */
export function findNodeHeaders(): string | null {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

export function checkCompiler(): void {
  const missing = ['c++', 'make'].filter((tool) => run(tool, ['--version']).status !== 0);
  if (missing.length > 0) {
    throw new SetupError(
      `the native backend's binding is compiled here, but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} ` +
        'missing. Install a C++ toolchain (Debian: apt-get install -y g++ make), then run npm run setup -- --native again.',
    );
  }
}

/** Downloads the wheel into <cache>/downloads (pip skips it when already there); returns its path. */
function downloadWheel(python: string, log: (line: string) => void): string {
  const downloads = path.join(nativeCacheRoot(), 'downloads');
  fs.mkdirSync(downloads, { recursive: true });
  const existing = () =>
    fs
      .readdirSync(downloads)
      .filter((name) => /^tensorflow_cpu-2\.21\.\d+-.*\.whl$/.test(name))
      .sort();
  if (existing().length === 0) {
    log(`[setup] native: pip download ${TENSORFLOW_WHEEL_REQUIREMENT} (about 270 MB, once)…`);
    const pip = run(python, [
      '-m',
      'pip',
      'download',
      TENSORFLOW_WHEEL_REQUIREMENT,
      '--no-deps',
      '--only-binary=:all:',
      '--disable-pip-version-check',
      '-d',
      downloads,
    ]);
    if (pip.status !== 0) {
      throw new SetupError(
        `pip download ${TENSORFLOW_WHEEL_REQUIREMENT} failed (is PyPI reachable, and is there a wheel for ` +
          `this Python and platform? TensorFlow 2.21 has them for Python 3.10–3.13 on x86_64/aarch64 Linux):\n${tail(pip)}`,
      );
    }
  }
  const wheels = existing();
  if (wheels.length === 0) throw new SetupError(`pip download left no tensorflow_cpu wheel in ${downloads}`);
  return path.join(downloads, wheels[wheels.length - 1]!);
}

/** Extracts the libraries into deps/lib and the headers into deps/include (Python's zipfile: no unzip). */
function extractWheel(python: string, wheel: string, packageDir: string): void {
  const script = `
import os, sys, zipfile
wheel, lib_dir, include_dir = sys.argv[1], sys.argv[2], sys.argv[3]
libraries = ${JSON.stringify(WHEEL_LIBRARIES)}
header_dirs = ${JSON.stringify(WHEEL_HEADER_DIRS)}
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for name in libraries:
        if name not in names:
            sys.exit('wheel lacks ' + name)
        with z.open(name) as src, open(os.path.join(lib_dir, os.path.basename(name)), 'wb') as dst:
            while True:
                chunk = src.read(1 << 22)
                if not chunk:
                    break
                dst.write(chunk)
    for name in names:
        if name.endswith('.h') and any(name.startswith(d) for d in header_dirs):
            target = os.path.join(include_dir, name[len('tensorflow/include/'):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(name) as src, open(target, 'wb') as dst:
                dst.write(src.read())
`;
  const libDir = path.join(packageDir, 'deps', 'lib');
  const includeDir = path.join(packageDir, 'deps', 'include');
  fs.mkdirSync(libDir, { recursive: true });
  fs.mkdirSync(includeDir, { recursive: true });
  const extract = run(python, ['-c', script, wheel, libDir, includeDir]);
  if (extract.status !== 0) throw new SetupError(`extracting ${wheel} failed:\n${tail(extract)}`);
  // binding.gyp links -ltensorflow -ltensorflow_framework; the wheel's C API library is libtensorflow_cc.
  for (const [link, target] of [
    ['libtensorflow.so', 'libtensorflow_cc.so.2'],
    ['libtensorflow.so.2', 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
  ] as const) {
    fs.symlinkSync(target, path.join(libDir, link));
  }
}

/** N-API version node-pre-gyp picks for this Node: the highest one both support (package.json binary). */
function napiBuildVersion(packageDir: string): number {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    binary: { napi_versions: number[] };
  };
  const supported = Number(process.versions.napi);
  const usable = manifest.binary.napi_versions.filter((version) => version <= supported);
  if (usable.length === 0)
    throw new SetupError(`Node ${process.version} supports no N-API version tfjs-node builds for`);
  return Math.max(...usable);
}

function buildBinding(packageDir: string, log: (line: string) => void): string {
  const nodeGyp = findNodeGyp();
  const napi = napiBuildVersion(packageDir);
  const modulePath = path.join(packageDir, 'lib', `napi-v${napi}`);
  const args = [
    nodeGyp,
    'rebuild',
    `--module_name=tfjs_binding`,
    `--module_path=${modulePath}`,
    `--napi_build_version=${napi}`,
  ];
  const nodeDir = findNodeHeaders();
  if (nodeDir) args.push(`--nodedir=${nodeDir}`);
  log(`[setup] native: building the binding with node-gyp (N-API ${napi})…`);
  const build = run(process.execPath, args, { cwd: packageDir });
  if (build.status !== 0) {
    throw new SetupError(
      `node-gyp failed to build tfjs-node's binding${nodeDir ? '' : " (Node's headers not found beside node: node-gyp tried to download them)"}:\n${tail(build)}`,
    );
  }
  const binding = path.join(modulePath, 'tfjs_binding.node');
  if (!fs.existsSync(binding)) throw new SetupError(`node-gyp succeeded but wrote no ${binding}`);
  // Object files are not needed at run time (tens of MB).
  fs.rmSync(path.join(packageDir, 'build'), { recursive: true, force: true });
  return path.relative(packageDir, binding);
}

/** Builds the whole cache directory in a temp directory beside it and renames it into place. */
function provision(log: (line: string) => void): NativeProvision {
  const cacheDir = nativeCacheDir();
  checkCompiler();
  const python = findPythonWithPip();
  const wheel = downloadWheel(python, log);
  const temp = `${cacheDir}.tmp-${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp, { recursive: true });
  try {
    fs.writeFileSync(
      path.join(temp, 'package.json'),
      `${JSON.stringify({ name: 'imcnas-native-cache', private: true, description: 'written by npm run setup -- --native' }, null, 2)}\n`,
    );
    log(`[setup] native: npm install --ignore-scripts ${CACHED_NATIVE_PACKAGE}@${TFJS_NODE_VERSION}…`);
    const npm = run(
      'npm',
      [
        'install',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        '--omit=dev',
        `${CACHED_NATIVE_PACKAGE}@${TFJS_NODE_VERSION}`,
      ],
      { cwd: temp },
    );
    if (npm.status !== 0) throw new SetupError(`npm install ${CACHED_NATIVE_PACKAGE} failed:\n${tail(npm)}`);
    const packageDir = cachedPackageDir(temp);
    log(`[setup] native: extracting libtensorflow and its C headers from ${path.basename(wheel)}…`);
    extractWheel(python, wheel, packageDir);
    const binding = buildBinding(packageDir, log);
    // One tfjs-core instance: the cache's own copies would register the backend where no model looks.
    for (const packageName of SHARED_TFJS_PACKAGES) {
      fs.rmSync(path.join(temp, 'node_modules', packageName), { recursive: true, force: true });
    }
    linkSharedPackages(temp);
    const record: NativeProvision = {
      tfjsNodeVersion: TFJS_NODE_VERSION,
      wheel: path.basename(wheel),
      binding,
      nodeAbi: `napi ${process.versions.napi}, node ${process.version}`,
      provisionedAt: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(temp, 'provisioned.json'), `${JSON.stringify(record, null, 2)}\n`);
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.renameSync(temp, cacheDir);
    return record;
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

const MEASURE = { batch: 64, warmup: 2, trainSteps: 6, inferSteps: 10, rounds: 3 };

function imagesPerSecond(steps: number, milliseconds: number): number {
  return Math.round(((MEASURE.batch * steps) / milliseconds) * 1000);
}

function cpuMilliseconds(): number {
  // The whole process, every thread: libtensorflow's pool threads count, spinning included.
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Runs `step` `count` times: images per second of wall clock and per CPU-second of this process. */
function timed(count: number, step: () => void): { wall: number; cpu: number } {
  const wallStart = performance.now();
  const cpuStart = cpuMilliseconds();
  for (let i = 0; i < count; i++) step();
  return {
    wall: imagesPerSecond(count, performance.now() - wallStart),
    cpu: imagesPerSecond(count, cpuMilliseconds() - cpuStart),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Train and inference images/s of the reference network (tensor/referenceNet.ts) on the current backend. */
function measureCurrentBackend(): Record<TensorWork, { wall: number; cpu: number }> {
  const net = createReferenceNet({ seed: 1 });
  const optimizer = tf.train.momentum(0.01, 0.9);
  const { images, labels } = syntheticBatch(MEASURE.batch);
  try {
    for (let i = 0; i < MEASURE.warmup; i++) trainStep(net, optimizer, images, labels);
    const train = timed(MEASURE.trainSteps, () => trainStep(net, optimizer, images, labels));
    const infer = () => tf.tidy(() => net.forward(images, false).dataSync());
    infer();
    return { train, infer: timed(MEASURE.inferSteps, infer) };
  } finally {
    tf.dispose([images, labels]);
    optimizer.dispose();
    net.dispose();
  }
}

/**
 * Native against wasm on the reference network, interleaved round by round (so a burst of load from
 * other work hits both), median of the rounds. The choice compares images per CPU-second: a worker keeps
 * every core busy with one child process each, so what a backend costs is its CPU time (native's second
 * thread is not free there), and other processes on the machine lower wall-clock figures but not these.
 */
export async function measureNativeChoice(): Promise<NativeChoice> {
  type Samples = Record<keyof MeasuredSpeed, Record<TensorWork, number[]>>;
  const empty = (): Samples => ({ tensorflow: { train: [], infer: [] }, wasm: { train: [], infer: [] } });
  const samples = empty();
  const wallSamples = empty();
  const previous = tf.getBackend();
  for (let round = 0; round < MEASURE.rounds; round++) {
    for (const backend of ['tensorflow', 'wasm'] as const) {
      await initTensorEngine({ backend, env: {} });
      const speeds = measureCurrentBackend();
      for (const work of TENSOR_WORKS) {
        samples[backend][work].push(speeds[work].cpu);
        wallSamples[backend][work].push(speeds[work].wall);
      }
    }
  }
  if (previous) await tf.setBackend(previous);
  const medians = (from: Samples) =>
    Object.fromEntries(
      TENSOR_WORKS.map((work) => [
        work,
        { tensorflow: median(from.tensorflow[work]), wasm: median(from.wasm[work]) },
      ]),
    ) as Record<TensorWork, MeasuredSpeed>;
  return {
    workload: `reference network (tensor/referenceNet.ts), batch ${MEASURE.batch}, 28x28x1; images per CPU-second (wall-clock in wallSpeeds), median of ${MEASURE.rounds} interleaved rounds of ${MEASURE.trainSteps} train / ${MEASURE.inferSteps} inference steps`,
    ...machineSignature(),
    measuredAt: new Date().toISOString(),
    speeds: medians(samples),
    wallSpeeds: medians(wallSamples),
  };
}

/** Whether this checkout's node_modules has tfjs-node installed the ordinary way. */
function installedInNodeModules(): boolean {
  try {
    require.resolve(`${CACHED_NATIVE_PACKAGE}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Provisions (once) and measures (once per machine) the native backend. Idempotent and cached: a second
 * call reads two small JSON files.
 */
export async function ensureNativeTensorflow(options: NativeSetupOptions = {}): Promise<NativeSetupResult> {
  const log = options.log ?? console.error;
  const cacheDir = nativeCacheDir();
  const started = performance.now();
  let record = readProvision(cacheDir);
  if (!record && !installedInNodeModules()) record = provision(log);
  const provisionSeconds = Math.round((performance.now() - started) / 100) / 10;
  if (record) linkSharedPackages(cacheDir);
  let choice = options.remeasure ? null : readChoice(cacheDir);
  if (!choice) {
    log('[setup] native: measuring native TensorFlow against wasm on the reference network…');
    choice = await measureNativeChoice();
    await writeJsonAtomic(choiceFile(cacheDir), choice);
  }
  const summary = TENSOR_WORKS.map(
    (work) =>
      `${work} ${choice.speeds[work].tensorflow} vs wasm ${choice.speeds[work].wasm} img per CPU-second`,
  ).join('; ');
  log(`[setup] native TensorFlow ready in ${cacheDir} (${summary})`);
  return {
    cacheDir,
    provision: record ?? {
      tfjsNodeVersion: TFJS_NODE_VERSION,
      wheel: 'none: @tensorflow/tfjs-node installed in node_modules',
      binding: 'node_modules',
      nodeAbi: `napi ${process.versions.napi}, node ${process.version}`,
      provisionedAt: '',
    },
    choice,
    provisionSeconds,
  };
}

/**
 * `npx tsx scripts/nativeSetup.ts [--remeasure]`: provisions if needed, then prints the backend `auto`
 * selects for each kind of work on this machine, and why (the report every task carries).
 */
if (require.main === module) {
  (async () => {
    await ensureNativeTensorflow({ remeasure: process.argv.includes('--remeasure') });
    for (const work of TENSOR_WORKS) {
      const report = await initTensorEngine({ work });
      console.log(`${work}: ${report.backend} (${report.reason})`);
    }
  })().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
