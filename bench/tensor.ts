/**
 * Tensor engine benchmark (`npm run bench -- tensor`): training and inference throughput, in images per
 * second, of the reference network and of a small CNN (tensor/referenceNet.ts; batch 64, 28×28×1) on every
 * backend available here: wasm (one core: it has no threads in Node), the pure-JS cpu backend, and native
 * TensorFlow when @tensorflow/tfjs-node(-gpu) is installed. The cpu backend is ~100× slower, so it is
 * measured on few steps.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, initTensorEngine, type BackendName } from '../tensor/backend';
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

const NETS: Record<string, (options: NetOptions) => TrainableNet> = {
  // Figure names: `<backend>_train_img_s` for the reference network, `<backend>_smallcnn_…` for the CNN.
  '': createReferenceNet,
  smallcnn_: createSmallCnn,
};

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
}

function measureNet(make: (options: NetOptions) => TrainableNet, backend: BackendName): NetFigures {
  const steps = STEPS[backend];
  const net = make({ seed: 1 });
  const optimizer = tf.train.momentum(0.01, 0.9);
  const { images, labels } = syntheticBatch(BATCH_SIZE);
  for (let i = 0; i < steps.warmup; i++) trainStep(net, optimizer, images, labels);
  const train = throughput(steps.train, () => trainStep(net, optimizer, images, labels));
  const infer = () => tf.tidy(() => net.forward(images, false).dataSync());
  infer();
  const inference = throughput(steps.infer, infer);
  tf.dispose([images, labels]);
  optimizer.dispose();
  net.dispose();
  return { train, infer: inference };
}

export async function run(): Promise<BenchFigures> {
  const auto = await initTensorEngine({ backend: 'auto', env: {} });
  const figures: BenchFigures = {
    backend_auto: auto.backend,
    // Other processes competing for the cores lower the wall-clock figures, not the per-CPU-second ones.
    load_average_1m: Math.round(os.loadavg()[0]! * 100) / 100,
    backend_auto_reason: auto.reason,
    batch_size: BATCH_SIZE,
    image_shape: '28x28x1',
  };
  const measured: BackendName[] = [];
  for (const backend of ['tensorflow', 'wasm', 'cpu'] as const) {
    let report;
    try {
      report = await initTensorEngine({ backend, env: {} });
    } catch (error) {
      if (error instanceof BackendUnavailableError) continue;
      throw error;
    }
    if (backend === 'wasm') figures.wasm_simd = report.simd;
    for (const [prefix, make] of Object.entries(NETS)) {
      console.error(`[bench] tensor: ${backend} ${prefix || 'reference_'}net`);
      const { train, infer } = measureNet(make, backend);
      figures[`${backend}_${prefix}train_img_s`] = train.wall;
      figures[`${backend}_${prefix}infer_img_s`] = infer.wall;
      // Per CPU second of this process: the figure to compare when other work shares the cores.
      figures[`${backend}_${prefix}train_img_per_cpu_s`] = train.cpu;
      figures[`${backend}_${prefix}infer_img_per_cpu_s`] = infer.cpu;
    }
    measured.push(backend);
  }
  if (measured.includes('wasm') && measured.includes('cpu')) {
    for (const prefix of Object.keys(NETS)) {
      for (const kind of ['train', 'infer']) {
        const wasm = figures[`wasm_${prefix}${kind}_img_s`] as number;
        const cpu = figures[`cpu_${prefix}${kind}_img_s`] as number;
        figures[`wasm_vs_cpu_${prefix}${kind}_speedup`] = Math.round((wasm / cpu) * 10) / 10;
        const wasmPerCpu = figures[`wasm_${prefix}${kind}_img_per_cpu_s`] as number;
        const cpuPerCpu = figures[`cpu_${prefix}${kind}_img_per_cpu_s`] as number;
        figures[`wasm_vs_cpu_${prefix}${kind}_speedup_per_cpu_s`] =
          Math.round((wasmPerCpu / cpuPerCpu) * 10) / 10;
      }
    }
  }
  await initTensorEngine({ backend: auto.requested, env: {} });
  return figures;
}
