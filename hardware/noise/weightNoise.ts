/**
 * Noise-aware training from the device model: a per-step weight perturbation that follows the same cell
 * model the simulated chip samples (models.ts), collapsed to the weight level so a training step pays one
 * Gaussian draw per weight instead of a cell-level chip.
 *
 * For a weight with integer level L (its channel's grid: step = max|w_c| / (2^(b−1) − 1), as
 * models/quantization.ts quantizes), bit-sliced onto cells as hardware/analog/encoding.ts maps it, a cell
 * of slice s (shift h_s, 2^w_s − 1 = M_s levels over the conductance range 1 − gMin) that errs by δg moves
 * the weight by 2^h_s · M_s/(1 − gMin) · δg levels (docs/sources.md §Noise models, bit slicing: "a cell
 * holding the bits with shift s contributes σ_G·2^s"). The weight's error is Gaussian with
 *     σ_L² = Σ_s 4^h_s · (M_s/(1 − gMin))² · (σ_g(g+_s)² + σ_g(g−_s)²)
 * where σ_g(g) is the cell's total conductance σ at the target time: programming (the model's σ(g)),
 * relaxation, the spread of drift left after global compensation (g·σ_ν·ln((t+t0)/t0)), PCM's accumulated
 * 1/f noise, and one read's noise (conductances clamped at 0 as on the chip: a rectified Gaussian). Stuck-at
 * faults are drawn per cell, exactly as on the chip. Depthwise kernels also carry the leakage of the other
 * channels packed on their arrays. What the approximation drops: correlations inside one array's partial
 * sums, the ADC (a trained network meets those only at evaluation), and the clamp's small mean shift.
 */
import * as tf from '@tensorflow/tfjs-core';
import { maxWeightLevel, sliceLayout, sliceWeight, type SliceLayout } from '../analog/encoding';
import { DEFAULT_LIBRARY, getDevice, type HardwareLibrary } from '../library';
import type { HardwareConfig } from '../types';
import {
  PCM_T0_S,
  pcmDriftStatistics,
  pcmReadNoiseSigma,
  programmingSigmaOf,
  relaxationGrowth,
  reramSigma,
} from './models';
import { bernoulliIndices, fillStandardNormal, streamFor } from './random';
import {
  type CellNoiseModel,
  type NoiseSettings,
  noiseSettings,
  resolveCellNoiseForDevice,
} from './settings';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

export type KernelKind = 'conv' | 'depthwise' | 'dense';

/**
 * Standard deviation of max(0, X) for X ~ N(mean, sigma²): the chip clamps conductances at 0 (as aihwkit
 * does), which shrinks the spread of cells programmed near Gmin — the zero-level half of every pair.
 */
export function rectifiedGaussianStd(mean: number, sigma: number): number {
  if (!(sigma > 0)) return 0;
  const z = mean / sigma;
  const pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.PI);
  const cdf = normalCdf(z);
  const first = mean * cdf + sigma * pdf;
  const second = (mean * mean + sigma * sigma) * cdf + mean * sigma * pdf;
  return math.sqrt(math.max(0, second - first * first));
}

/** Φ(z) via the complementary error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = math.abs(z) / math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    math.exp(-x * x);
  return z >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}

/**
 * Total σ (normalized to Gmax) of a cell programmed to target g, seen `timeS` seconds after programming:
 * programming and relaxation (rectified at 0 like the chip's conductances), the residual drift spread after
 * global compensation, PCM's 1/f noise, and one read's noise.
 */
export function cellSigmaAt(model: CellNoiseModel, g: number, timeS: number): number {
  let variance = 0;
  switch (model.kind) {
    case 'aihwkit-pcm': {
      variance += rectifiedGaussianStd(g, programmingSigmaOf(model, g)) ** 2;
      if (model.driftScale > 0 && timeS > 0) {
        const spread =
          pcmDriftStatistics(g).sigma * model.driftScale * math.log((timeS + PCM_T0_S) / PCM_T0_S);
        variance += (g * spread) ** 2;
      }
      variance += (g * pcmReadNoiseSigma(g, timeS) * model.pcmReadNoiseScale) ** 2;
      break;
    }
    case 'aihwkit-reram-wan2022':
      variance += rectifiedGaussianStd(g, reramSigma(g, math.max(timeS, 1)) * model.programmingScale) ** 2;
      break;
    case 'gaussian':
      variance += rectifiedGaussianStd(g, programmingSigmaOf(model, g) * relaxationGrowth(model, timeS)) ** 2;
      break;
    case 'lognormal':
      // std of g·e^θ ≈ g·σ for the small σ of programmed devices
      variance += (g * programmingSigmaOf(model, g) * relaxationGrowth(model, timeS)) ** 2;
      break;
  }
  if (model.kind !== 'aihwkit-pcm' && model.driftScale > 0 && timeS > 0 && model.driftNuSigma > 0) {
    const spread =
      model.driftNuSigma * model.driftScale * math.log((timeS + model.driftT0S) / model.driftT0S);
    variance += (g * spread) ** 2;
  }
  variance += (model.readSigmaPerRead * (1 - model.gMin)) ** 2;
  return math.sqrt(variance);
}

/** σ of a weight at integer level `level` in level units of its grid (see the file comment). */
export function weightLevelSigma(
  model: CellNoiseModel,
  layout: SliceLayout,
  level: number,
  timeS: number,
): number {
  const S = layout.widths.length;
  const positive = new Array<number>(S).fill(0);
  const negative = new Array<number>(S).fill(0);
  sliceWeight(layout, level, positive, negative);
  let variance = 0;
  for (let s = 0; s < S; s++) {
    const spacing = (1 - model.gMin) / layout.maxLevels[s]!;
    const gain = 2 ** layout.shifts[s]! / spacing;
    const sigmaPositive = cellSigmaAt(model, model.gMin + positive[s]! * spacing, timeS);
    variance += (gain * sigmaPositive) ** 2;
    if (layout.encoding === 'differential') {
      const sigmaNegative = cellSigmaAt(model, model.gMin + negative[s]! * spacing, timeS);
      variance += (gain * sigmaNegative) ** 2;
    }
  }
  return math.sqrt(variance);
}

export interface DeviceWeightNoiseOptions {
  /** Settings on top of the device library's nominal noise (noise/settings.ts). */
  noise?: Partial<NoiseSettings>;
  library?: HardwareLibrary;
  seed: number;
  /** Seconds after programming the network should be robust at (0 = right after programming). */
  timeS?: number;
  /** Multiplies the weight σ (training often over-injects a little); stuck-at rates are not scaled. */
  scale?: number;
  /** Draw stuck-at faults per cell (default true). */
  stuckAt?: boolean;
  /**
   * Weight bits of a layer. Default: the smallest b whose per-channel grid (max|w_c| / (2^(b−1) − 1)) holds
   * every weight (fake-quantized weights lie on theirs), else 8.
   */
  weightBits?: number | ((layerName: string) => number | undefined);
  /**
   * Add the packed channels' level-0 cells to a depthwise weight's variance (default true); false when
   * the caller models that leakage with the right inputs itself (analog/readoutError.ts).
   */
  depthwiseLeakage?: boolean;
}

/** The brief's contract: perturbed weights for one layer on the chip `hw` (a constant offset, STE-friendly). */
export type WeightPerturbation = (layerName: string, weights: tf.Tensor, hw: HardwareConfig) => tf.Tensor;

/** Shape-compatible with models/weightNoise.ts WeightNoiseHook (the supernet's noise-aware training). */
export type StepWeightNoiseHook = (
  layerName: string,
  weights: tf.Tensor,
  context: { step: number; kind: KernelKind },
) => tf.Tensor;

/** The kind of a kernel from its rank and name ([kh, kw, c, 1] named '…depthwise' is depthwise). */
export function kernelKindOf(layerName: string, shape: readonly number[]): KernelKind {
  if (shape.length === 2) return 'dense';
  return shape[3] === 1 && /depthwise/.test(layerName) ? 'depthwise' : 'conv';
}

/** Output channel of flat kernel index i. */
function channelOf(kind: KernelKind, shape: readonly number[]): (i: number) => number {
  if (kind === 'depthwise') {
    const channels = shape[2]!;
    return (i) => i % channels;
  }
  const channels = shape[shape.length - 1]!;
  return (i) => i % channels;
}

/** Smallest b in 2..12 whose per-channel grid holds every weight, or null. */
export function inferWeightBits(
  values: Float32Array,
  channelMax: Float32Array,
  channel: (i: number) => number,
) {
  for (let bits = 2; bits <= 12; bits++) {
    const top = maxWeightLevel(bits);
    let fits = true;
    for (let i = 0; i < values.length && fits; i++) {
      const max = channelMax[channel(i)]!;
      if (max === 0) continue;
      const exact = (values[i]! / max) * top;
      if (math.abs(exact - math.round(exact)) > 1e-3) fits = false;
    }
    if (fits) return bits;
  }
  return null;
}

class DeviceWeightNoise {
  private readonly models = new Map<string, CellNoiseModel>();
  private readonly sigmaTables = new Map<string, Float64Array>();
  private calls = 0;

  constructor(private readonly options: DeviceWeightNoiseOptions) {}

  private model(hw: HardwareConfig): CellNoiseModel {
    let model = this.models.get(hw.device);
    if (!model) {
      const device = getDevice(this.options.library ?? DEFAULT_LIBRARY, hw.device);
      model = resolveCellNoiseForDevice(device, noiseSettings(this.options.noise ?? {}));
      this.models.set(hw.device, model);
    }
    return model;
  }

  /** σ per level (index level + top) for one (device, bits per cell, weight bits). */
  private sigmaTable(hw: HardwareConfig, bits: number, layout: SliceLayout): Float64Array {
    const key = `${hw.device}/${hw.bitsPerCell}/${bits}`;
    let table = this.sigmaTables.get(key);
    if (!table) {
      const model = this.model(hw);
      const top = maxWeightLevel(bits);
      table = new Float64Array(2 * top + 1);
      for (let level = -top; level <= top; level++)
        table[level + top] = weightLevelSigma(model, layout, level, this.options.timeS ?? 0);
      this.sigmaTables.set(key, table);
    }
    return table;
  }

  perturb(
    layerName: string,
    weights: tf.Tensor,
    hw: HardwareConfig,
    step: number,
    kind: KernelKind,
  ): tf.Tensor {
    const values = weights.dataSync() as Float32Array;
    const shape = weights.shape;
    const channel = channelOf(kind, shape);
    const channels = kind === 'depthwise' ? shape[2]! : shape[shape.length - 1]!;
    const channelMax = new Float32Array(channels);
    for (let i = 0; i < values.length; i++) {
      const c = channel(i);
      channelMax[c] = math.max(channelMax[c]!, math.abs(values[i]!));
    }
    const given = this.options.weightBits;
    const bits =
      (typeof given === 'function' ? given(layerName) : given) ??
      inferWeightBits(values, channelMax, channel) ??
      8;
    const top = maxWeightLevel(bits);
    const device = getDevice(this.options.library ?? DEFAULT_LIBRARY, hw.device);
    const layout = sliceLayout(bits, hw.bitsPerCell, device.differentialPairs);
    const table = this.sigmaTable(hw, bits, layout);
    const scale = this.options.scale ?? 1;
    // Depthwise layers share arrays block-diagonally (hardware/analog/plan.ts): a column also sums the
    // errors of the other packed channels' level-0 cells. Statistically that is (packed − 1) more level-0
    // weights per own weight, added to each weight's variance.
    let leakageVariance = 0;
    if (kind === 'depthwise' && this.options.depthwiseLeakage !== false) {
      const area = shape[0]! * shape[1]!;
      const packed = math.min(
        math.floor(hw.rows / area),
        math.floor(hw.cols / (layout.widths.length * layout.cellsPerSlice)),
        channels,
      );
      if (packed > 1) leakageVariance = (packed - 1) * table[top]! ** 2;
    }

    const rng = streamFor(this.options.seed, 'weight-noise', step, layerName);
    const eps = fillStandardNormal(rng, new Float32Array(values.length));
    const delta = new Float32Array(values.length);
    const levels = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const stepSize = channelMax[channel(i)]! / top;
      const level = stepSize > 0 ? math.max(-top, math.min(top, math.round(values[i]! / stepSize))) : 0;
      levels[i] = level;
      const sigma =
        leakageVariance > 0 ? math.sqrt(table[level + top]! ** 2 + leakageVariance) : table[level + top]!;
      delta[i] = eps[i]! * sigma * scale * stepSize;
    }

    const model = this.model(hw);
    if (this.options.stuckAt !== false && (model.stuckAtZero > 0 || model.stuckAtOne > 0)) {
      // Cell index = (weight · S + slice) · cellsPerSlice + polarity, as many cells as the chip holds.
      const S = layout.widths.length;
      const cells = values.length * S * layout.cellsPerSlice;
      const positive = new Array<number>(S).fill(0);
      const negative = new Array<number>(S).fill(0);
      const fault = (index: number, stuckLevel: 'zero' | 'full') => {
        const polarity = index % layout.cellsPerSlice;
        const slice = math.floor(index / layout.cellsPerSlice) % S;
        const weight = math.floor(index / (layout.cellsPerSlice * S));
        sliceWeight(layout, levels[weight]!, positive, negative);
        const current = polarity === 0 ? positive[slice]! : negative[slice]!;
        const target = stuckLevel === 'zero' ? 0 : layout.maxLevels[slice]!;
        const change = (target - current) * 2 ** layout.shifts[slice]! * (polarity === 0 ? 1 : -1);
        delta[weight]! += change * (channelMax[channel(weight)]! / top);
      };
      for (const index of bernoulliIndices(
        streamFor(this.options.seed, 'sa0', step, layerName),
        cells,
        model.stuckAtZero,
      ))
        fault(index, 'zero');
      for (const index of bernoulliIndices(
        streamFor(this.options.seed, 'sa1', step, layerName),
        cells,
        model.stuckAtOne,
      ))
        fault(index, 'full');
    }
    return tf.tidy(() => tf.add(weights, tf.tensor(delta, shape, 'float32')));
  }

  nextCall(): number {
    return this.calls++;
  }
}

/**
 * The device-model perturbation `(layerName, weights, hw) → perturbed weights`. Each call is a fresh draw
 * (seeded by the options' seed and a call counter); use deviceWeightNoiseHook when the trainer has a step.
 */
export function deviceWeightPerturbation(options: DeviceWeightNoiseOptions): WeightPerturbation {
  const noise = new DeviceWeightNoise(options);
  return (layerName, weights, hw) =>
    noise.perturb(layerName, weights, hw, noise.nextCall(), kernelKindOf(layerName, weights.shape));
}

/**
 * The same perturbation as a supernet weight-noise hook for the chip `hw`: seeded by (seed, step, layer),
 * so a resumed training run draws exactly what the uninterrupted one would have.
 */
export function deviceWeightNoiseHook(
  hw: HardwareConfig,
  options: DeviceWeightNoiseOptions,
): StepWeightNoiseHook {
  const noise = new DeviceWeightNoise(options);
  return (layerName, weights, context) => noise.perturb(layerName, weights, hw, context.step, context.kind);
}
