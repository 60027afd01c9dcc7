/**
 * Tensor engine benchmark (`npm run bench -- tensor`): training and inference throughput, in images per
 * second, of the reference network, a small CNN and the reference network 4× wider (tensor/referenceNet.ts;
 * batch 64, 28×28×1) on every backend here, against TensorFlow-Python on the same networks in the same
 * invocation:
 *
 * - `native_…`: native TensorFlow through tfjs-node (provisioned by `npm run setup -- --native`, called
 *   here: cached, so only the first run pays); TF_NUM_INTRAOP_THREADS threads, else one per core;
 * - `wasm_…`: the embedded default (one core: it has no threads in Node);
 * - `cpu_…`: pure JavaScript (~100× slower: few steps, and not on the wide network);
 * - `picked_…`: the engine `auto` selects for that work on this machine (tensor/backend.ts), and which;
 * - `tf_python_…` (1 thread) and `tf_python_2t_…` (2 threads): bench/peers/tensorflow/run.py, the same
 *   networks as TensorFlow-Python code with a tf.function-compiled step, in a venv under ~/.cache/imcnas.
 *
 * Measurements are interleaved network by network (each engine, then the peer) so load from other work
 * on a shared machine falls on all of them alike. Figure names: `<engine>_train_img_s` for the reference
 * network, `<engine>_smallcnn_…` and `<engine>_wide_…` for the others.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ensureNativeTensorflow } from '../scripts/nativeSetup';
import { BackendUnavailableError, initTensorEngine, type BackendName } from '../tensor/backend';
import { nativeCacheRoot, type TensorWork } from '../tensor/nativePackage';
import {
  createReferenceNet,
  createSmallCnn,
  syntheticBatch,
  trainStep,
  type NetOptions,
  type TrainableNet,
} from '../tensor/referenceNet';
import type { BenchFigures } from './run';

const BATCH_SIZE = 64;

/** Timed steps per backend (after warm-up steps that JIT, allocate and pick kernels). */
const STEPS: Record<BackendName, { warmup: number; train: number; infer: number }> = {
  tensorflow: { warmup: 3, train: 20, infer: 20 },
  wasm: { warmup: 3, train: 20, infer: 20 },
  cpu: { warmup: 1, train: 2, infer: 3 },
};

/** Figure-name prefix of each engine. */
const ENGINE_PREFIX: Record<BackendName, string> = { tensorflow: 'native', wasm: 'wasm', cpu: 'cpu' };

interface NetSpec {
  /** Figure infix: '' for the reference network. */
  infix: string;
  /** The peer's --net. */
  peerName: string;
  make: (options: NetOptions) => TrainableNet;
  /** The pure-JS backend takes minutes on the wide network: not measured there. */
  cpu: boolean;
}

const NETS: NetSpec[] = [
  { infix: '', peerName: 'reference', make: createReferenceNet, cpu: true },
  { infix: 'smallcnn_', peerName: 'smallcnn', make: createSmallCnn, cpu: true },
  {
    infix: 'wide_',
    peerName: 'wide',
    make: (options) => createReferenceNet({ ...options, width: 4 }),
    cpu: false,
  },
];

const PEER_SCRIPT = path.join(__dirname, 'peers', 'tensorflow', 'run.py');
const PEER_REQUIREMENTS = path.join(__dirname, 'peers', 'tensorflow', 'requirements.txt');
const PEER_THREADS = [1, 2] as const;

function imagesPerSecond(images: number, milliseconds: number): number {
  return Math.round((images / milliseconds) * 1000 * 10) / 10;
}

function cpuMilliseconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Runs `step` `count` times; images per wall-clock second and per CPU second of this process. */
function throughput(count: number, step: () => void): { wall: number; cpu: number } {
  const wallStart = performance.now();
  const cpuStart = cpuMilliseconds();
  for (let i = 0; i < count; i++) step();
  return {
    wall: imagesPerSecond(BATCH_SIZE * count, performance.now() - wallStart),
    cpu: imagesPerSecond(BATCH_SIZE * count, cpuMilliseconds() - cpuStart),
  };
}

interface NetFigures {
  train: { wall: number; cpu: number };
  infer: { wall: number; cpu: number };
  /** Kernels one training step dispatches (tf.profile): each is one trip through the backend. */
  trainKernels: number;
  /**
   * The kernels that took longest in that profiled step, summed by name, in ms ("Step 19.7, …"). Times of
   * composite kernels include the kernels they run, and profiling itself slows the step.
   */
  trainTopKernels: string;
}

async function measureNet(
  make: (options: NetOptions) => TrainableNet,
  backend: BackendName,
): Promise<NetFigures> {
  const steps = STEPS[backend];
  const net = make({ seed: 1 });
  const optimizer = tf.train.momentum(0.01, 0.9);
  const { images, labels } = syntheticBatch(BATCH_SIZE);
  for (let i = 0; i < steps.warmup; i++) trainStep(net, optimizer, images, labels);
  const profile = await tf.profile(() => {
    trainStep(net, optimizer, images, labels);
  });
  const train = throughput(steps.train, () => trainStep(net, optimizer, images, labels));
  const infer = () => tf.tidy(() => net.forward(images, false).dataSync());
  infer();
  const inference = throughput(steps.infer, infer);
  tf.dispose([images, labels]);
  optimizer.dispose();
  net.dispose();
  const byName = new Map<string, number>();
  for (const kernel of profile.kernels) {
    const ms = await kernel.kernelTimeMs;
    if (typeof ms === 'number') byName.set(kernel.name, (byName.get(kernel.name) ?? 0) + ms);
  }
  const trainTopKernels = [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ');
  return { train, infer: inference, trainKernels: profile.kernels.length, trainTopKernels };
}

/**
 * The peer's Python: $TF_PEER_PYTHON, else the venv under the cache, created here (tensorflow-cpu from
 * PyPI; the wheel `setup --native` downloaded is reused) when missing. Like bench/aihwkit.ts's and
 * bench/nsga2.ts's peers, a probe import decides; unlike them it provisions itself, since the figures of
 * this benchmark are defined against the peer.
 */
function ensurePeerPython(log: (line: string) => void): { python: string | null; why: string } {
  const venv = path.join(nativeCacheRoot(), 'venv-tensorflow');
  const python = process.env.TF_PEER_PYTHON ?? path.join(venv, 'bin', 'python');
  const probe = () =>
    spawnSync(python, ['-c', 'import tensorflow as tf; print(tf.__version__)'], {
      encoding: 'utf8',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
  if (probe().status === 0) return { python, why: '' };
  if (process.env.TF_PEER_PYTHON) {
    return { python: null, why: `TF_PEER_PYTHON=${python} cannot import tensorflow` };
  }
  log(`[bench] tensor: creating the TensorFlow-Python peer's venv in ${venv} (pip, once)…`);
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', venv]],
    [
      python,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--find-links',
        path.join(nativeCacheRoot(), 'downloads'),
        '-r',
        PEER_REQUIREMENTS,
      ],
    ],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-3).join(' ');
      return { python: null, why: `${command} ${args.slice(0, 3).join(' ')} failed: ${output}` };
    }
  }
  return probe().status === 0
    ? { python, why: '' }
    : { python: null, why: `${python} still cannot import tensorflow after pip install` };
}

interface PeerFigures {
  train_img_s: number;
  infer_img_s: number;
  tensorflow_version: string;
}

function runPeer(python: string, net: string, threads: number): PeerFigures {
  const peer = spawnSync(python, [PEER_SCRIPT, '--net', net, '--threads', String(threads)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (peer.status !== 0) {
    throw new Error(
      `TensorFlow-Python peer (${net}, ${threads} threads) failed:\n${peer.stderr.slice(-2000)}`,
    );
  }
  return JSON.parse(peer.stdout.trim().split('\n').pop()!) as PeerFigures;
}

function ratio(numerator: number | undefined, denominator: number | undefined): number | null {
  if (numerator === undefined || denominator === undefined || denominator === 0) return null;
  return Math.round((numerator / denominator) * 100) / 100;
}

export async function run(): Promise<BenchFigures> {
  const log = (line: string) => console.error(line);
  let nativeWhy = '';
  try {
    const native = await ensureNativeTensorflow({ log });
    log(`[bench] tensor: native provisioned (${native.provision.wheel})`);
  } catch (error) {
    nativeWhy = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    log(`[bench] tensor: native TensorFlow unavailable: ${nativeWhy}`);
  }
  const picked: Record<TensorWork, BackendName> = { train: 'wasm', infer: 'wasm' };
  const pickedReason: Record<TensorWork, string> = { train: '', infer: '' };
  for (const work of ['train', 'infer'] as const) {
    const report = await initTensorEngine({ backend: 'auto', env: {}, work });
    picked[work] = report.backend;
    pickedReason[work] = report.reason;
  }
  const figures: BenchFigures = {
    picked_train_backend: picked.train,
    picked_infer_backend: picked.infer,
    picked_train_reason: pickedReason.train,
    picked_infer_reason: pickedReason.infer,
    // Other processes competing for the cores lower the wall-clock figures, not the per-CPU-second ones.
    load_average_1m_start: Math.round(os.loadavg()[0]! * 100) / 100,
    batch_size: BATCH_SIZE,
    image_shape: '28x28x1',
    native_unavailable: nativeWhy || null,
  };
  const available: BackendName[] = [];
  for (const backend of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      const report = await initTensorEngine({ backend, env: {} });
      if (backend === 'wasm') figures.wasm_simd = report.simd;
      // libtensorflow's intra-op threads (TF_NUM_INTRAOP_THREADS, else one per core).
      if (backend === 'tensorflow') figures.native_threads = report.threads;
      available.push(backend);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
    }
  }
  const peer = ensurePeerPython(log);
  figures.tf_python_unavailable = peer.python ? null : peer.why;

  const value = (name: string) => figures[name] as number | undefined;
  for (const spec of NETS) {
    for (const backend of available) {
      if (backend === 'cpu' && !spec.cpu) continue;
      await initTensorEngine({ backend, env: {} });
      const engine = ENGINE_PREFIX[backend];
      log(`[bench] tensor: ${engine} ${spec.peerName} net`);
      const { train, infer, trainKernels, trainTopKernels } = await measureNet(spec.make, backend);
      figures[`${engine}_${spec.infix}train_img_s`] = train.wall;
      figures[`${engine}_${spec.infix}infer_img_s`] = infer.wall;
      // Per CPU second of this process: the figure to compare when other work shares the cores.
      figures[`${engine}_${spec.infix}train_img_per_cpu_s`] = train.cpu;
      figures[`${engine}_${spec.infix}infer_img_per_cpu_s`] = infer.cpu;
      // Where the time goes: a step's wall time over the kernels it dispatches.
      figures[`${engine}_${spec.infix}train_kernels_per_step`] = trainKernels;
      figures[`${engine}_${spec.infix}train_us_per_kernel`] = Math.round(
        ((BATCH_SIZE / train.wall) * 1e6) / trainKernels,
      );
      figures[`${engine}_${spec.infix}train_top_kernels_ms`] = trainTopKernels;
    }
    if (peer.python) {
      for (const threads of PEER_THREADS) {
        log(`[bench] tensor: TensorFlow-Python ${spec.peerName} net, ${threads} thread(s)`);
        const result = runPeer(peer.python, spec.peerName, threads);
        const prefix = threads === 1 ? 'tf_python' : `tf_python_${threads}t`;
        figures[`${prefix}_${spec.infix}train_img_s`] = result.train_img_s;
        figures[`${prefix}_${spec.infix}infer_img_s`] = result.infer_img_s;
        figures.tf_python_version = result.tensorflow_version;
      }
    }
    for (const work of ['train', 'infer'] as const) {
      const engine = ENGINE_PREFIX[picked[work]];
      const pickedValue = value(`${engine}_${spec.infix}${work}_img_s`);
      figures[`picked_${spec.infix}${work}_img_s`] = pickedValue ?? null;
      // Equal threads: wasm computes on one core, native on native_threads.
      const nativeThreads = figures.native_threads as number | undefined;
      const peerPrefix =
        picked[work] === 'tensorflow' && nativeThreads !== 1 ? `tf_python_${nativeThreads}t` : 'tf_python';
      const peerValue =
        value(`${peerPrefix}_${spec.infix}${work}_img_s`) ?? value(`tf_python_${spec.infix}${work}_img_s`);
      figures[`picked_vs_tf_python_${spec.infix}${work}`] = ratio(pickedValue, peerValue);
      figures[`native_vs_tf_python_2t_${spec.infix}${work}`] = ratio(
        value(`native_${spec.infix}${work}_img_s`),
        value(`tf_python_2t_${spec.infix}${work}_img_s`),
      );
      figures[`wasm_vs_tf_python_${spec.infix}${work}`] = ratio(
        value(`wasm_${spec.infix}${work}_img_s`),
        value(`tf_python_${spec.infix}${work}_img_s`),
      );
    }
  }
  for (const spec of NETS.filter((net) => net.cpu)) {
    for (const work of ['train', 'infer']) {
      const speedup = ratio(
        value(`wasm_${spec.infix}${work}_img_s`),
        value(`cpu_${spec.infix}${work}_img_s`),
      );
      if (speedup !== null)
        figures[`wasm_vs_cpu_${spec.infix}${work}_speedup`] = Math.round(speedup * 10) / 10;
    }
  }
  figures.load_average_1m_end = Math.round(os.loadavg()[0]! * 100) / 100;
  // Leave the process on what auto picks for training, as other benchmarks in the same run expect.
  await initTensorEngine({ backend: 'auto', env: {} });
  return figures;
}
