/**
 * The hardware-in-the-loop contract: an Evaluator answers "how accurate is this network on this chip,
 * sample after sample?" The built-in simulator (simulator.ts) is the default; an external adapter
 * (external.ts, PROTOCOL.md) lets NeuroSim, aihwkit or a real chip answer instead. Requests and results
 * are plain data; results are small JSON (accuracies, statistics, measured metrics), never tensors.
 */
import type { FoldedNetwork } from '../models/folded';
import type { NoiseSettings } from '../hardware/noise/settings';
import type { HardwareConfig } from '../hardware/types';

/** Where an evaluator that loads its own data finds the images (external evaluators need this). */
export interface DatasetReference {
  /** 'fashion-mnist' (IDX files, Debian dataset-fashion-mnist) or 'idx' (any IDX pair in `dir`). */
  name: string;
  split: 'train' | 'test';
  /** Directory holding the IDX files; the evaluator's default when absent. */
  dir?: string;
  /** The first `offset + count` images of the split are read; [offset, offset + count) are evaluated. */
  offset: number;
  count: number;
}

/** Labelled NHWC images in [0, 1] held in memory, with the reference they were loaded from (if any). */
export interface EvaluationImages {
  images: Float32Array;
  labels: Int32Array;
  /** [height, width, channels] */
  shape: [number, number, number];
  reference?: DatasetReference;
}

export interface RobustnessRequest {
  /** Names the candidate in results, logs and file names. */
  candidateId: string;
  network: FoldedNetwork;
  hardware: HardwareConfig;
  /** Noise on top of the device library's nominal values (noise/settings.ts DEVICE_NOISE). */
  noise?: Partial<NoiseSettings>;
  /** Monte-Carlo chip instances. */
  samples: number;
  /** The candidate's seed: sample i uses deriveSeed(seed, 'mc', i). */
  seed: number;
  /** Seconds after programming to evaluate at (a drift curve when several); default [0]. */
  driftSeconds?: number[];
  /** Images the accuracies are measured on. */
  data: EvaluationImages;
  /**
   * Images for the ADC range calibration (labels unused); default: the first `calibrationImages` of
   * `data` (pass training images to keep the test set untouched).
   */
  calibration?: EvaluationImages;
}

export interface AccuracyStats {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single sample. */
  std: number;
  min: number;
  max: number;
  /** 5th percentile, linear interpolation between order statistics (numpy's default). */
  p5: number;
  count: number;
}

export interface DriftPoint {
  timeS: number;
  accuracy: AccuracyStats;
  /** One accuracy per Monte-Carlo sample, in sample order. */
  accuracies: number[];
}

export interface RobustnessResult {
  candidateId: string;
  /** Which evaluator answered ('simulator', or the external evaluator's name). */
  evaluator: string;
  samples: number;
  /** The Monte-Carlo sample seeds, in sample order. */
  sampleSeeds: number[];
  /** Accuracy on the chip without device noise (its ADCs and DACs only); null when not measured. */
  noiseFreeAccuracy: number | null;
  /** One point per requested drift time, in request order. */
  points: DriftPoint[];
  /** Measured figures (evaluation time, images, cells, and whatever an external chip reports). */
  metrics: Record<string, number>;
}

export interface EvaluationProgress {
  done: number;
  total: number;
  message: string;
}

export interface EvaluateOptions {
  /** Aborts the evaluation (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  onProgress?: (progress: EvaluationProgress) => void;
}

export interface Evaluator {
  readonly name: string;
  evaluate(request: RobustnessRequest, options?: EvaluateOptions): Promise<RobustnessResult>;
  /** Releases processes and memory; the evaluator cannot be used afterwards. */
  close(): Promise<void>;
}

/** A request that cannot be evaluated as given (non-retryable). */
export class InvalidRobustnessRequestError extends Error {
  override name = 'InvalidRobustnessRequestError';
}

/** Every problem with a request, each naming its field; empty when valid. */
export function robustnessRequestProblems(request: RobustnessRequest): string[] {
  const problems: string[] = [];
  if (!request.candidateId) problems.push('candidateId: must be a non-empty string');
  if (!(Number.isInteger(request.samples) && request.samples >= 1))
    problems.push(`samples: must be a positive integer, got ${request.samples}`);
  if (!Number.isInteger(request.seed)) problems.push(`seed: must be an integer, got ${request.seed}`);
  for (const [i, t] of (request.driftSeconds ?? [0]).entries())
    if (!(Number.isFinite(t) && t >= 0))
      problems.push(`driftSeconds[${i}]: must be a finite number ≥ 0, got ${t}`);
  const { data } = request;
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  if (data.labels.length === 0) problems.push('data: no images');
  if (data.images.length !== data.labels.length * pixels)
    problems.push(
      `data: ${data.images.length} pixel values for ${data.labels.length} images of ${pixels} pixels`,
    );
  if (request.network.layers.length === 0) problems.push('network: no weight layers');
  return problems;
}
