/**
 * `npm run bench -- robustness`: Monte-Carlo throughput of the simulated chip.
 *
 * One sample = one noisy chip instance evaluated on 10,000 test images (Fashion-MNIST's test set when it
 * is installed, random images of the same shape otherwise), on the robustness demo's network
 * (scripts/robustness-demo.ts: stem 3×3/2 16 → conv3 32/2 → dwsep3 64 → pool → dense 10, 6-bit) mapped
 * onto the demo chip (RRAM 128×128, 2 bits/cell, 6-bit ADC, 1-bit DAC) at nominal device noise:
 * bit-serial input cycles × weight slices × per-array ADC conversions, programming noise, per-read noise,
 * stuck-at faults.
 *
 * - mc_samples_per_s: samples per second of one batched evaluate() call of `samples` chips, all of it
 *   counted: programming the chip, ADC-range calibration, the samples (no noise-free reference pass).
 * - independent_samples_per_s: the same samples as separate evaluate() calls of one sample each.
 * - batching_speedup: ratio of the two.
 * - linear_mc_samples_per_s: samples per second with an ideal ADC and no per-read noise (device-variation
 *   studies: cycles and slices fold into one product).
 * - ms_per_image_sample, bit_serial_macs_per_image, digital_macs_per_image: where the time goes.
 * - speedup_vs_reference: the simulator before the speed work of issue #16 (bench/reference/analogChip.ts)
 *   against today's, timed alternately in this run on the same work (programming, calibration, `samples`
 *   chips on the first REFERENCE_IMAGES test images; the machine is shared, so the ratio is the figure
 *   that counts), the sum of each side's rounds; reference_max_logit_difference: the largest |logit|
 *   difference between the two on that work, relative to the largest |logit| (numbers unchanged: ~1e-7).
 * Weights are untrained (BatchNorm recalibrated): the cost does not depend on their values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fashionMnistInstalled, loadFashionMnist } from '../data/fashionMnist';
import { ChipProgram } from '../hardware/analog/program';
import { forwardFolded } from '../models/inference';
import { ChipProgram as ReferenceChipProgram } from './reference/analogChip';
import { SimulatorEvaluator } from '../evaluator/simulator';
import type { EvaluationImages } from '../evaluator/types';
import { noiseSettings } from '../hardware/noise/settings';
import type { FoldedNetwork } from '../models/folded';
import { Supernet } from '../models/supernet';
import { DEMO_CHIP, demoPath, demoSpace } from '../scripts/robustness-demo';
import { currentBackendReport, initTensorEngine } from '../tensor/backend';
import type { BenchFigures } from './run';

const IMAGES = 10_000;
const REFERENCE_IMAGES = 1_000;
const REFERENCE_ROUNDS = 2;

type ProgramClass = typeof ChipProgram | typeof ReferenceChipProgram;

/**
 * What one evaluate() call of `samples` chips does (evaluator/simulator.ts), with either
 * simulator: program, calibrate, sample, run the replicated images in passes of 1,024; the logits.
 */
function chipLogits(
  Program: ProgramClass,
  network: FoldedNetwork,
  data: EvaluationImages,
  calibration: EvaluationImages,
  images: number,
  seeds: number[],
): Float32Array {
  const program = new Program(network, DEMO_CHIP, noiseSettings());
  program.calibrateAdc((op) =>
    tf.tidy(() => {
      forwardFolded(network, tf.tensor4d(calibration.images, [calibration.labels.length, 28, 28, 1]), op);
    }),
  );
  const chip = program.sample(seeds);
  const batch = Math.floor(1024 / seeds.length);
  const parts: Float32Array[] = [];
  for (let start = 0; start < images; start += batch) {
    const n = Math.min(batch, images - start);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * 784, (start + n) * 784), [n, 28, 28, 1]);
      return forwardFolded(network, tf.concat(seeds.map(() => x)) as tf.Tensor4D, chip.linearOp);
    });
    parts.push(logits.dataSync() as Float32Array);
    logits.dispose();
  }
  chip.dispose();
  const all = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

async function testImages(): Promise<{ data: EvaluationImages; real: boolean }> {
  if (fashionMnistInstalled()) {
    const source = await loadFashionMnist('test');
    const images = Float32Array.from(source.images.subarray(0, IMAGES * 784), (v) => v / 255);
    return {
      data: { images, labels: Int32Array.from(source.labels.subarray(0, IMAGES)), shape: [28, 28, 1] },
      real: true,
    };
  }
  const images = new Float32Array(IMAGES * 784);
  for (let i = 0; i < images.length; i++) images[i] = (Math.imul(i, 2654435761) >>> 24) / 255;
  return { data: { images, labels: new Int32Array(IMAGES), shape: [28, 28, 1] }, real: false };
}

function demoNetwork(calibration: EvaluationImages): FoldedNetwork {
  const space = demoSpace();
  const path = demoPath(space);
  const supernet = new Supernet(space, { seed: 1 });
  const batch = tf.tensor4d(calibration.images.subarray(0, 256 * 784), [256, 28, 28, 1]);
  supernet.recalibrateBatchNorm(path, [batch]);
  batch.dispose();
  const net = supernet.extractSubnet(path);
  supernet.dispose();
  return net;
}

export async function run(): Promise<BenchFigures> {
  await initTensorEngine({});
  const { data, real } = await testImages();
  const calibration: EvaluationImages = {
    ...data,
    images: data.images.subarray(0, 256 * 784),
    labels: data.labels.subarray(0, 256),
  };
  const network = demoNetwork(calibration);
  const samples = Number(process.env.IMCNAS_BENCH_MC_SAMPLES ?? 4);
  const request = (count: number, seed: number, noise = {}) => ({
    candidateId: 'bench',
    network,
    hardware: DEMO_CHIP,
    noise,
    samples: count,
    seed,
    data,
    calibration,
  });
  const evaluator = new SimulatorEvaluator({ measureNoiseFree: false, samplesPerPass: samples });
  const time = async (body: () => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    await body();
    return Number(process.hrtime.bigint() - started) / 1e9;
  };

  const batchedSeconds = await time(() => evaluator.evaluate(request(samples, 1)));
  const independentRuns = Math.max(1, Math.floor(samples / 2));
  const independentSeconds = await time(async () => {
    for (let i = 0; i < independentRuns; i++) await evaluator.evaluate(request(1, 100 + i));
  });
  const linear = { idealAdc: true, readNoiseScale: 0, outputNoiseScale: 0 };
  const linearSeconds = await time(() => evaluator.evaluate(request(samples, 2, linear)));

  // Today's simulator against the reference, alternately on the same work.
  const seeds = Array.from({ length: samples }, (_, i) => 1000 + i);
  let referenceSeconds = 0;
  let currentSeconds = 0;
  let referenceLogits: Float32Array = new Float32Array(0);
  let currentLogits: Float32Array = new Float32Array(0);
  for (let round = 0; round < REFERENCE_ROUNDS; round++) {
    referenceSeconds += await time(async () => {
      referenceLogits = chipLogits(ReferenceChipProgram, network, data, calibration, REFERENCE_IMAGES, seeds);
    });
    currentSeconds += await time(async () => {
      currentLogits = chipLogits(ChipProgram, network, data, calibration, REFERENCE_IMAGES, seeds);
    });
  }
  let logitScale = 0;
  let logitDifference = 0;
  for (let i = 0; i < referenceLogits.length; i++) {
    logitScale = Math.max(logitScale, Math.abs(referenceLogits[i]!));
    logitDifference = Math.max(logitDifference, Math.abs(currentLogits[i]! - referenceLogits[i]!));
  }

  const program = new ChipProgram(network, DEMO_CHIP, noiseSettings());
  let bitSerialMacs = 0;
  let digitalMacs = 0;
  for (const plan of program.plans) {
    const pixels = plan.layer.shape.outH * plan.layer.shape.outW;
    const cycles = plan.input.widths.length;
    const slices = plan.slices.widths.length;
    for (const block of plan.blocks)
      bitSerialMacs += pixels * cycles * block.rowCount * slices * block.outCount;
    digitalMacs +=
      pixels * plan.outChannels * (plan.kind === 'depthwise' ? plan.kernelH * plan.kernelW : plan.rowsTotal);
  }
  const backend = await currentBackendReport();
  const mcPerSecond = samples / batchedSeconds;
  const independentPerSecond = independentRuns / independentSeconds;
  return {
    mc_samples_per_s: Number(mcPerSecond.toPrecision(4)),
    independent_samples_per_s: Number(independentPerSecond.toPrecision(4)),
    batching_speedup: Number((mcPerSecond / independentPerSecond).toPrecision(3)),
    linear_mc_samples_per_s: Number((samples / linearSeconds).toPrecision(4)),
    speedup_vs_reference: Number((referenceSeconds / currentSeconds).toPrecision(3)),
    reference_mc_samples_per_s: Number(
      ((REFERENCE_ROUNDS * samples * REFERENCE_IMAGES) / (IMAGES * referenceSeconds)).toPrecision(4),
    ),
    reference_max_logit_difference: Number((logitDifference / logitScale).toPrecision(3)),
    reference_images: REFERENCE_IMAGES,
    ms_per_image_sample: Number(((1000 * batchedSeconds) / (samples * IMAGES)).toPrecision(4)),
    samples_timed: samples,
    images_per_sample: IMAGES,
    fashion_mnist: real,
    bit_serial_macs_per_image: bitSerialMacs,
    digital_macs_per_image: digitalMacs,
    chip_cells: program.cellCount,
    chip: `${DEMO_CHIP.device} ${DEMO_CHIP.rows}x${DEMO_CHIP.cols}, ${DEMO_CHIP.bitsPerCell} b/cell, ${DEMO_CHIP.adcBits}-bit ADC, ${DEMO_CHIP.dacBits}-bit DAC`,
    backend: backend?.backend ?? 'unknown',
  };
}
