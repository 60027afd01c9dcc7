/**
 * `npx tsx bench/run.ts aihwkit`: the noisy-chip accuracy of one design in imcnas's simulator and in IBM's
 * aihwkit 1.2.0 (PyPI), the same weights under the same PCM model, at 1 s, 1 h, 1 day and 30 days after
 * programming, on all 10,000 Fashion-MNIST test images and 10 chips per side (issue 18's cross-check).
 *
 * The design: a network of examples/quick.yaml's space with 4-bit weights and plain convolutions, trained
 * here (its own path only, TRAIN_STEPS steps of 64 images, BatchNorm recalibrated on 256 training images,
 * folded as stage 4 folds it) on a PCM chip whose arrays hold each layer whole (512 × 512) and whose cells
 * hold a weight's 3 magnitude bits in one differential pair (bitsPerCell 3): the layout aihwkit's
 * InferenceRPUConfig expresses (docs/aihwkit-export.md lists what it cannot).
 *
 * Both sides run the device model alone: PCM programming noise, drift and accumulated 1/f read noise
 * (aihwkit PCMLikeNoiseModel; imcnas hardware/noise/models.ts, a port of it) with global drift
 * compensation, Gmin/Gmax = 1/12.5 (the PCM preset's on/off ratio), and an exact periphery: imcnas with an
 * ideal ADC and no output noise, aihwkit with forward.is_perfect. Stuck-at faults are off (aihwkit has
 * none). The design leaves imcnas through its own export (interop/aihwkit.ts) and is rebuilt by
 * bench/peers/aihwkit/run.py; the noise-free rebuild must give imcnas's digital accuracy.
 *
 * The peer is found as $AIHWKIT_PYTHON, ~/.cache/imcnas/venv-aihwkit/bin/python,
 * bench/peers/aihwkit/.venv/bin/python, else python3; without one with aihwkit, onnx and torch the bench
 * says how to provision it and records `skipped`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, Rng } from '../common/rng';
import { loadConfigFile } from '../config/load';
import { loadSplits } from '../data/dataset';
import { SimulatorEvaluator } from '../evaluator/simulator';
import { noiseSettings, type NoiseSettings } from '../hardware/noise';
import type { HardwareConfig } from '../hardware/types';
import { exportToAihwkit, AIHWKIT_TARGET } from '../interop/aihwkit';
import { foldedAccuracy, forwardFolded } from '../models/inference';
import { Supernet } from '../models/supernet';
import { layerShapes } from '../search/architecture';
import { decode, type Candidate } from '../search/space/codec';
import { resolveSearchSpace } from '../search/space/parse';
import { sampleGenome } from '../search/space/sampling';
import { initTensorEngine } from '../tensor/backend';
import { trainBriefly } from './briefTraining';
import type { BenchFigures } from './run';

const DRIFT_SECONDS = [1, 3600, 86400, 2592000];
const CHIPS = Number(process.env.AIHWKIT_BENCH_CHIPS ?? 10);
const TEST_IMAGES = Number(process.env.AIHWKIT_BENCH_IMAGES ?? 10000);
// the env overrides are for smoke runs; bench/results/aihwkit.json is measured with the defaults
const TRAIN_STEPS = Number(process.env.AIHWKIT_BENCH_TRAIN_STEPS ?? 800);
const PEER = path.join(__dirname, 'peers', 'aihwkit', 'run.py');
const PROVISION =
  'docs/aihwkit-export.md §Installing aihwkit (PyPI has only the 1.2.0 source: build it against PyPI torch with --no-build-isolation)';

/** The chip: PCM, every layer in one 512 × 512 array, 3 bits per cell (one pair per 4-bit weight). */
const CHIP: HardwareConfig = {
  device: 'pcm',
  rows: 512,
  cols: 512,
  adcBits: 8,
  adcType: 'sar',
  dacBits: 1,
  bitsPerCell: 3,
  colsPerAdc: 8,
  techNode: 22,
};

/** The device model alone, as aihwkit runs it (see the file comment). */
const NOISE = noiseSettings({
  idealAdc: true,
  outputNoiseScale: 0,
  stuckAtScale: 0,
  stuckAtZeroRate: 0,
  stuckAtOneRate: 0,
  driftCompensation: true,
});

/**
 * The same, plus each side's own converters as the export maps them: imcnas's calibrated 8-bit ADC on every
 * bit-serial read (dacBits 1), aihwkit's inp_res/out_res from the activation and ADC bits with its abs-max
 * noise management. Not the same arithmetic (docs/aihwkit-export.md §What cannot map): measured to show the
 * size of the difference, on PERIPHERY_IMAGES images (the bit-serial simulation is ~50× slower).
 */
const PERIPHERY_NOISE = noiseSettings({ ...NOISE, idealAdc: false });
const PERIPHERY_IMAGES = Number(process.env.AIHWKIT_BENCH_PERIPHERY_IMAGES ?? 1000);
const PERIPHERY_CHIPS = Number(process.env.AIHWKIT_BENCH_PERIPHERY_CHIPS ?? 5);

function findPython(): { python: string | null; tried: string[]; why: string } {
  const candidates = [
    process.env.AIHWKIT_PYTHON,
    path.join(os.homedir(), '.cache', 'imcnas', 'venv-aihwkit', 'bin', 'python'),
    path.join(__dirname, 'peers', 'aihwkit', '.venv', 'bin', 'python'),
    'python3',
  ].filter((candidate): candidate is string => Boolean(candidate));
  let why = '';
  for (const python of candidates) {
    if (python.includes(path.sep) && !fs.existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import aihwkit, onnx, torch; print(aihwkit.__version__)'], {
      encoding: 'utf8',
    });
    if (probe.status === 0) return { python, tried: candidates, why: '' };
    why = probe.stderr.trim().split('\n').pop() ?? '';
  }
  return { python: null, tried: candidates, why };
}

/** A sampled design of the space with 4-bit weights and no depthwise layers (aihwkit has no groups). */
function benchDesign(space: ReturnType<typeof resolveSearchSpace>, seed: number): Candidate {
  const rng = new Rng(seed);
  for (let tries = 0; tries < 10000; tries++) {
    const candidate = decode(space, sampleGenome(space, rng));
    const layers = layerShapes(candidate.architecture, candidate.quantization);
    if (layers.every((l) => l.weightBits === 4 && l.kind !== 'depthwise'))
      return { ...candidate, hardware: CHIP };
  }
  throw new Error('no design of the space has 4-bit weights and no depthwise layer');
}

interface PeerReport {
  aihwkit: string;
  torch: string;
  images: number;
  results: Array<{ seed: number; drift_seconds: number; accuracy: number }>;
  seconds: number;
}

function runPeer(python: string, args: string[]): PeerReport {
  const peer = spawnSync(python, [PEER, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (peer.status !== 0) throw new Error(`aihwkit peer failed (exit ${peer.status}): ${peer.stderr}`);
  return JSON.parse(peer.stdout.trim().split('\n').pop()!) as PeerReport;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const std = (values: number[]) => {
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(values.length - 1, 1));
};
const round4 = (value: number) => Number(value.toFixed(4));

export async function run(): Promise<BenchFigures> {
  const { python, tried, why } = findPython();
  if (!python) {
    const reason = `no Python with aihwkit, onnx and torch (tried ${tried.join(', ')}${why ? `; last: ${why}` : ''}); provision it as ${PROVISION}`;
    console.error(`[bench] aihwkit: skipped: ${reason}`);
    return { skipped: true, reason, aihwkit_version: null };
  }
  await initTensorEngine();
  const config = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const space = resolveSearchSpace(config.space);
  const design = benchDesign(space, deriveSeed(config.seed, 'aihwkit-bench'));
  const splits = await loadSplits(config.dataset, config.seed);
  const [h, w, c] = space.network.inputShape;
  const pixels = h * w * c;

  // Train the design's own path (stage 4 retrains a design the same way: the supernet fixed to its path).
  const supernet = new Supernet(space, { seed: config.seed });
  supernet.fixedPath = design;
  trainBriefly(supernet, splits, space.network.inputShape, TRAIN_STEPS, config.seed);
  const batches = [0, 1].map((b) =>
    tf.tensor4d(splits.train.x.subarray(b * 128 * pixels, (b + 1) * 128 * pixels), [128, h, w, c]),
  );
  supernet.recalibrateBatchNorm(design, batches);
  tf.dispose(batches);
  const network = supernet.extractSubnet(design);
  supernet.dispose();

  const count = Math.min(TEST_IMAGES, splits.test.count);
  const x = splits.test.x.subarray(0, count * pixels);
  const y = splits.test.y.subarray(0, count);
  const digital = foldedAccuracy(network, x, y);

  // imcnas: its own evaluator (stage 3 and 4's), `chips` chip instances, each aged through every drift time
  const imcnasAccuracies = async (noise: NoiseSettings, chips: number, images: number) => {
    const result = await new SimulatorEvaluator({ forward: forwardFolded }).evaluate({
      candidateId: 'aihwkit-bench',
      network,
      hardware: CHIP,
      noise,
      samples: chips,
      seed: deriveSeed(config.seed, 'aihwkit-bench-chip'),
      driftSeconds: DRIFT_SECONDS,
      data: { images: x.subarray(0, images * pixels), labels: y.subarray(0, images), shape: [h, w, c] },
      calibration: {
        images: splits.train.x.subarray(0, 256 * pixels),
        labels: splits.train.y.subarray(0, 256),
        shape: [h, w, c],
      },
    });
    return {
      noiseFree: result.noiseFreeAccuracy,
      perTime: DRIFT_SECONDS.map((t) => result.points.find((p) => p.timeS === t)!.accuracies),
    };
  };
  const imcnasStarted = Date.now();
  const evaluated = await imcnasAccuracies(NOISE, CHIPS, count);
  const imcnas = evaluated.perTime;
  const imcnasSeconds = (Date.now() - imcnasStarted) / 1000;
  const periphery = await imcnasAccuracies(
    PERIPHERY_NOISE,
    PERIPHERY_CHIPS,
    Math.min(PERIPHERY_IMAGES, count),
  );

  // aihwkit: the export, rebuilt by the peer
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imcnas-bench-aihwkit-'));
  try {
    const exported = await exportToAihwkit({
      network,
      hardware: CHIP,
      noise: NOISE,
      driftSeconds: DRIFT_SECONDS,
      outDir: path.join(dir, 'export'),
      source: { bench: 'aihwkit', layers: network.layers.map((l) => l.shape.name).join(' ') },
    });
    const imagesFile = path.join(dir, 'images.bin');
    const labelsFile = path.join(dir, 'labels.bin');
    fs.writeFileSync(imagesFile, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    fs.writeFileSync(labelsFile, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    const common = [
      exported.outDir,
      '--images',
      imagesFile,
      '--labels',
      labelsFile,
      '--count',
      String(count),
    ];
    const ideal = runPeer(python, [...common, '--ideal']);
    const noisy = runPeer(python, [
      ...common,
      '--perfect',
      '--seeds',
      Array.from({ length: CHIPS }, (_, i) => i).join(','),
      '--drift',
      DRIFT_SECONDS.join(','),
    ]);
    const byTime = (report: PeerReport) =>
      DRIFT_SECONDS.map((t) => report.results.filter((r) => r.drift_seconds === t).map((r) => r.accuracy));
    const aihwkit = byTime(noisy);
    const peripheryExport = await exportToAihwkit({
      network,
      hardware: CHIP,
      noise: PERIPHERY_NOISE,
      driftSeconds: DRIFT_SECONDS,
      outDir: path.join(dir, 'export-periphery'),
      source: { bench: 'aihwkit', periphery: true },
    });
    const peripheryPeer = byTime(
      runPeer(python, [
        peripheryExport.outDir,
        ...common.slice(1, -1),
        String(Math.min(PERIPHERY_IMAGES, count)),
        '--seeds',
        Array.from({ length: PERIPHERY_CHIPS }, (_, i) => i).join(','),
      ]),
    );
    // the means' difference against its Monte-Carlo standard error (the two sides draw different chips)
    const standardError = (a: number[], b: number[]) =>
      Math.sqrt(std(a) ** 2 / a.length + std(b) ** 2 / b.length);
    const imcnasMean = imcnas.map(mean);
    const aihwkitMean = aihwkit.map(mean);
    const gaps = imcnasMean.map((m, i) => Math.abs(m - aihwkitMean[i]!));
    return {
      drift_seconds: DRIFT_SECONDS,
      imcnas_acc_mean: imcnasMean.map(round4),
      aihwkit_acc_mean: aihwkitMean.map(round4),
      imcnas_acc_std: imcnas.map(std).map(round4),
      aihwkit_acc_std: aihwkit.map(std).map(round4),
      gap: imcnasMean.map((m, i) => round4(m - aihwkitMean[i]!)),
      max_gap: round4(Math.max(...gaps)),
      gap_standard_error: imcnas.map((a, i) => round4(standardError(a, aihwkit[i]!))),
      digital_acc: round4(digital),
      imcnas_noise_free_acc: evaluated.noiseFree === null ? null : round4(evaluated.noiseFree),
      aihwkit_noise_free_acc: round4(ideal.results[0]!.accuracy),
      periphery_imcnas_acc_mean: periphery.perTime.map(mean).map(round4),
      periphery_aihwkit_acc_mean: peripheryPeer.map(mean).map(round4),
      periphery_gap_standard_error: periphery.perTime.map((a, i) =>
        round4(standardError(a, peripheryPeer[i]!)),
      ),
      periphery_imcnas_noise_free_acc: periphery.noiseFree === null ? null : round4(periphery.noiseFree),
      periphery_chips: PERIPHERY_CHIPS,
      periphery_images: Math.min(PERIPHERY_IMAGES, count),
      periphery: `imcnas ${CHIP.adcBits}-bit ADC (range calibrated, noise.adcRange mse) on each of ${network.layers[0]!.shape.activationBits} bit-serial reads; aihwkit inp_res 1/(2^${network.layers[0]!.shape.activationBits}−2), out_res 1/(2^${CHIP.adcBits}−2), out_bound 12, ABS_MAX noise management`,
      chips: CHIPS,
      images: count,
      design: layerShapes(design.architecture, design.quantization)
        .map((l) => `${l.name}:${l.kind}${l.inChannels}→${l.outChannels}`)
        .join(' '),
      weight_bits: 4,
      activation_bits: network.layers[0]!.shape.activationBits,
      chip: `pcm 512×512, 3 bits/cell (one differential pair per 4-bit weight), ideal ADC/DAC, drift compensation on`,
      train_steps: TRAIN_STEPS,
      aihwkit_version: noisy.aihwkit,
      aihwkit_target: AIHWKIT_TARGET.version,
      torch_version: noisy.torch,
      imcnas_seconds: Number(imcnasSeconds.toFixed(1)),
      aihwkit_seconds: Number(noisy.seconds.toFixed(1)),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
