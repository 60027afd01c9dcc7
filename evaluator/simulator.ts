/**
 * The built-in evaluator: Monte-Carlo samples of the simulated chip (hardware/analog) on a labelled image
 * set → accuracy mean, std, min, 5th percentile, per requested time after programming.
 *
 * Why N samples cost far less than N independent runs:
 * - the chip program (mapping, bit slicing, target levels) and the ADC-range calibration (a full
 *   bit-serial forward pass over the calibration images) are done once per candidate, not per sample;
 * - samples run `samplesPerPass` at a time through one forward pass: the images are replicated along the
 *   batch axis, and the chip computes the first layer's expanded input once and multiplies it with the
 *   samples' weight matrices side by side (one matrix product); later layers run sample by sample inside
 *   the same op calls, so every tensor op, quantizer and dispatch is paid once per pass, not per sample;
 * - data stay in memory, converted to tensors once per batch per pass.
 * Reproducibility: a sample's cells (programming error, drift exponents, faults) come from its own seed
 * alone, whatever the grouping. Its per-read noise comes from its own stream too, but which draw meets
 * which read depends on how the images are batched, so bit-identical results need the same options
 * (samplesPerPass, imagesPerPass); other groupings give the same statistics, not the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../common/rng';
import type { LinearOp } from '../hardware/folded';
import type { FoldedNetwork } from '../models/folded';
import { forwardFolded } from '../models/inference';
import type { AnalogChip } from '../hardware/analog/chip';
import { ChipProgram } from '../hardware/analog/program';
import type { HardwareLibrary } from '../hardware/library';
import { noiseSettings } from '../hardware/noise/settings';
import { accuracyStats } from './statistics';
import {
  type DriftPoint,
  type EvaluateOptions,
  type EvaluationImages,
  type Evaluator,
  InvalidRobustnessRequestError,
  type RobustnessRequest,
  type RobustnessResult,
  robustnessRequestProblems,
} from './types';

/** Runs a folded network on NHWC images with a LinearOp (models/inference.ts forwardFolded). */
export type ForwardFn = (net: FoldedNetwork, images: tf.Tensor4D, linearOp: LinearOp) => tf.Tensor2D;

export interface SimulatorEvaluatorOptions {
  /** How the network runs with the chip's LinearOp; default models/inference.ts forwardFolded. */
  forward?: ForwardFn;
  library?: HardwareLibrary;
  /** Chip samples per forward pass (default 4). */
  samplesPerPass?: number;
  /** Images per forward pass across the samples of the pass (default 1024). */
  imagesPerPass?: number;
  /** Calibration images taken from `data` when the request has no calibration set (default 256). */
  calibrationImages?: number;
  /** Also measure the chip without device noise (default true: one extra pass). */
  measureNoiseFree?: boolean;
}

/** Seed of Monte-Carlo sample `index` of a candidate (docs/design.md §Data flow: candidate → sample seed). */
export function sampleSeed(candidateSeed: number, index: number): number {
  return deriveSeed(candidateSeed, 'mc', index);
}

function abortIfNeeded(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('evaluation aborted');
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SimulatorEvaluator implements Evaluator {
  readonly name = 'simulator';

  private readonly forward: ForwardFn;

  constructor(private readonly options: SimulatorEvaluatorOptions = {}) {
    this.forward = options.forward ?? forwardFolded;
  }

  async evaluate(request: RobustnessRequest, options: EvaluateOptions = {}): Promise<RobustnessResult> {
    const problems = robustnessRequestProblems(request);
    if (problems.length > 0) throw new InvalidRobustnessRequestError(problems.join('; '));
    const started = process.hrtime.bigint();
    const settings = noiseSettings(request.noise ?? {});
    const program = new ChipProgram(request.network, request.hardware, settings, {
      library: this.options.library,
    });

    const calibration =
      request.calibration ?? firstImages(request.data, this.options.calibrationImages ?? 256);
    program.calibrateAdc(forwardOver(request.network, calibration, this.forward));
    abortIfNeeded(options.signal);

    const times = request.driftSeconds ?? [0];
    const seeds = Array.from({ length: request.samples }, (_, i) => sampleSeed(request.seed, i));
    const perPass = Math.max(1, Math.min(this.options.samplesPerPass ?? 4, seeds.length));
    const measureNoiseFree = this.options.measureNoiseFree ?? true;
    // Progress counts images through the chip (one image on one sample = 1), reported after every batch:
    // a pass over 10,000 test images takes minutes, longer than a heartbeat may stay silent.
    const count = request.data.labels.length;
    const total = (seeds.length * times.length + (measureNoiseFree ? 1 : 0)) * count;
    let imagesEvaluated = 0;
    let phase = '';
    const progress = (images: number) =>
      options.onProgress?.({ done: (imagesEvaluated += images), total, message: phase });
    let stuckCells = 0;

    let noiseFreeAccuracy: number | null = null;
    if (measureNoiseFree) {
      const chip = program.ideal();
      phase = 'noise-free chip';
      try {
        noiseFreeAccuracy = (await this.accuracies(request, chip, 1, options, progress))[0]!;
      } finally {
        chip.dispose();
      }
      phase = `noise-free chip: ${pct(noiseFreeAccuracy)}`;
      progress(0);
    }

    const points: DriftPoint[] = [];
    for (const timeS of times) {
      const accuracies: number[] = [];
      for (let first = 0; first < seeds.length; first += perPass) {
        const group = seeds.slice(first, first + perPass);
        const chip = program.sample(group, timeS);
        phase = `t = ${timeS} s: samples ${first + 1}–${first + group.length} of ${seeds.length}`;
        try {
          if (timeS === times[0]) stuckCells += chip.summaries().reduce((sum, s) => sum + s.stuckCells, 0);
          accuracies.push(...(await this.accuracies(request, chip, group.length, options, progress)));
        } finally {
          chip.dispose();
        }
      }
      points.push({ timeS, accuracy: accuracyStats(accuracies), accuracies });
    }
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      candidateId: request.candidateId,
      evaluator: this.name,
      samples: seeds.length,
      sampleSeeds: seeds,
      noiseFreeAccuracy,
      points,
      metrics: {
        wallSeconds,
        imagesEvaluated,
        cells: program.cellCount,
        meanStuckCells: stuckCells / seeds.length,
        calibrationImages: calibration.labels.length,
      },
    };
  }

  /** Accuracy of each of the `samples` chips held by `chip` on the request's images. */
  private async accuracies(
    request: RobustnessRequest,
    chip: AnalogChip,
    samples: number,
    options: EvaluateOptions,
    onImages: (images: number) => void,
  ): Promise<number[]> {
    const { data } = request;
    const count = data.labels.length;
    const batch = Math.max(1, Math.floor((this.options.imagesPerPass ?? 1024) / samples));
    const correct = new Array<number>(samples).fill(0);
    for (let start = 0; start < count; start += batch) {
      abortIfNeeded(options.signal);
      const n = Math.min(batch, count - start);
      const predicted = tf.tidy(() => {
        const images = imagesTensor(data, start, n);
        const replicated = samples > 1 ? tf.concat(Array.from({ length: samples }, () => images)) : images;
        return tf.argMax(this.forward(request.network, replicated as tf.Tensor4D, chip.linearOp), 1);
      });
      const labels = predicted.dataSync();
      predicted.dispose();
      for (let s = 0; s < samples; s++)
        for (let i = 0; i < n; i++) if (labels[s * n + i] === data.labels[start + i]) correct[s]! += 1;
      onImages(n * samples);
      await yieldToEventLoop();
    }
    return correct.map((c) => c / count);
  }

  async close(): Promise<void> {}
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

/**
 * The network's forward pass over all of `images` at once through a given linear op: what
 * ChipProgram.calibrateAdc runs to see the partial sums its ADC ranges must cover.
 */
export function forwardOver(
  network: FoldedNetwork,
  images: EvaluationImages,
  forward: ForwardFn = forwardFolded,
): (linearOp: LinearOp) => void {
  return (linearOp) => {
    const batch = imagesTensor(images, 0, images.labels.length);
    try {
      forward(network, batch, linearOp).dispose();
    } finally {
      batch.dispose();
    }
  };
}

export function imagesTensor(data: EvaluationImages, start: number, count: number): tf.Tensor4D {
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  return tf.tensor4d(data.images.subarray(start * pixels, (start + count) * pixels), [count, ...data.shape]);
}

export function firstImages(data: EvaluationImages, count: number): EvaluationImages {
  const n = Math.min(count, data.labels.length);
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  return {
    images: data.images.subarray(0, n * pixels),
    labels: data.labels.subarray(0, n),
    shape: data.shape,
  };
}
