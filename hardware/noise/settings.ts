/**
 * What noise a simulated chip suffers, as the user configures it (`NoiseSettings`, plain JSON), and the
 * per-device numbers it resolves to (`CellNoiseModel`) once the candidate's device and hardware genes are
 * known. Defaults come from the device library (hardware/devices.ts), which cites its sources; the
 * settings scale or override them, so a study can sweep σ without editing the library.
 *
 * Units: conductances are normalized to the device's Gmax (g = G/Gmax ∈ [gMin, 1], gMin = 1/onOff), so
 * the published µS polynomials become scale-free (aihwkit scales them by gmax/gmax_ref the same way).
 * "Fraction of the range" means of (Gmax − Gmin) = (1 − gMin) in these units.
 */
import type { DeviceParams } from '../devices';
import { DEFAULT_LIBRARY, getDevice, type HardwareLibrary } from '../library';
import type { HardwareConfig } from '../types';

export type CellNoiseModelName = 'aihwkit-pcm' | 'aihwkit-reram-wan2022' | 'gaussian' | 'lognormal';

export interface NoiseSettings {
  /** Conductance model: 'device' = the one the device library names for the candidate's device. */
  model: 'device' | CellNoiseModelName;
  /** Multiplies programming noise of every model (aihwkit `prog_noise_scale`); 0 switches it off. */
  programmingScale: number;
  /**
   * σ of the gaussian (fraction of the conductance range) or lognormal (σ of ln g) abstraction; null = the
   * device's programming σ. Polynomial models have their own σ(g): scale them with programmingScale.
   */
  programmingSigma: number | null;
  /** Programmed with write-verify (the device's verified σ) or without (its unverified σ when known). */
  writeVerify: boolean;
  /** Multiplies read noise (per-read noise, and PCM's accumulated 1/f noise: aihwkit `read_noise_scale`). */
  readNoiseScale: number;
  /** Per-read σ of one cell, fraction of the range; null = the device's (PCM: its 1/f model instead). */
  readNoiseSigma: number | null;
  /** Multiplies drift exponents ν (aihwkit `drift_scale`); 0 = no drift. */
  driftScale: number;
  /** Global drift compensation: rescale each layer's outputs by a reference read (aihwkit). */
  driftCompensation: boolean;
  /** Multiplies the device's stuck-at rates (ignored for a rate given explicitly below). */
  stuckAtScale: number;
  /** Fraction of cells stuck at Gmin (SA0) / Gmax (SA1); null = the device's nominal rate × stuckAtScale. */
  stuckAtZeroRate: number | null;
  stuckAtOneRate: number | null;
  /**
   * Stuck-cell compensation at programming time (differential pairs only): the verify step of write-verify
   * reads a stuck cell back, so the controller knows it and programs the pair's other cell to the stuck
   * value plus the pair's target difference (clipped to the cell's range). Off by default.
   */
  stuckCompensation: boolean;
  /**
   * Additive output noise of a column read in aihwkit's `out_noise` units: σ relative to one full-weight ×
   * full-input row (aihwkit io default 0.06); null = the device's (SRAM: 0.05). Multiplied by
   * outputNoiseScale. On a bit-sliced array one row's full product is the slice's top cell level times the
   * DAC's top input value, so σ is fixed in read units whatever the ADC: it is not tied to the ADC range
   * (an earlier version scaled it by the calibrated full scale, ~1 LSB at 8 bits on every read, which the
   * slices' shift-add amplified until SRAM designs fell to chance).
   */
  outputNoise: number | null;
  outputNoiseScale: number;
  /** Ron/Roff override; null = the device's; Infinity = ideal (Gmin = 0). */
  onOffRatio: number | null;
  /** No ADC quantization or clipping at all (the reference "infinite-bit" readout). */
  idealAdc: boolean;
  /**
   * How each layer's ADC range is calibrated from the noise-free partial sums of the calibration images:
   * 'mse' (default) minimizes the conversion error weighted by each read's shift-add weight; 'percentile'
   * covers adcRangePercentile % of |partial sum| (100 = the largest seen: no clipping on calibration data).
   * The ADC step never goes below one level, so enough bits never clip (see hardware/analog/adc.ts).
   */
  adcRange: 'mse' | 'percentile';
  adcRangePercentile: number;
}

/** Every non-ideality at the device library's nominal values, ADC ranges calibrated for least error. */
export const DEVICE_NOISE: Readonly<NoiseSettings> = Object.freeze({
  model: 'device',
  programmingScale: 1,
  programmingSigma: null,
  writeVerify: true,
  readNoiseScale: 1,
  readNoiseSigma: null,
  driftScale: 1,
  driftCompensation: true,
  stuckAtScale: 1,
  stuckAtZeroRate: null,
  stuckAtOneRate: null,
  stuckCompensation: false,
  outputNoise: null,
  outputNoiseScale: 1,
  // aihwkit io.py defaults: out_noise 0.06, out_bound 12
  onOffRatio: null,
  idealAdc: false,
  adcRange: 'mse',
  adcRangePercentile: 99.9,
});

/** No device noise and an ideal ADC: the chip must reproduce the digital network exactly. */
export const NO_NOISE: Readonly<NoiseSettings> = Object.freeze({
  ...DEVICE_NOISE,
  programmingScale: 0,
  readNoiseScale: 0,
  driftScale: 0,
  stuckAtScale: 0,
  stuckAtZeroRate: 0,
  stuckAtOneRate: 0,
  outputNoiseScale: 0,
  idealAdc: true,
});

/** DEVICE_NOISE with `overrides` applied (the usual way to build settings). */
export function noiseSettings(
  overrides: Partial<NoiseSettings> = {},
  base: Readonly<NoiseSettings> = DEVICE_NOISE,
) {
  return { ...base, ...overrides } as NoiseSettings;
}

/** Every problem with `settings`, each naming its field; empty when valid. */
export function validateNoiseSettings(settings: NoiseSettings): string[] {
  const problems: string[] = [];
  const nonNegative: Array<keyof NoiseSettings> = [
    'programmingScale',
    'readNoiseScale',
    'driftScale',
    'stuckAtScale',
    'outputNoiseScale',
  ];
  for (const key of nonNegative) {
    const value = settings[key] as number;
    if (!(Number.isFinite(value) && value >= 0))
      problems.push(`noise.${key}: must be a finite number ≥ 0, got ${value}`);
  }
  for (const key of ['programmingSigma', 'readNoiseSigma', 'outputNoise'] as const) {
    const value = settings[key];
    if (value !== null && !(Number.isFinite(value) && value >= 0))
      problems.push(`noise.${key}: must be null or a finite number ≥ 0, got ${value}`);
  }
  for (const key of ['stuckAtZeroRate', 'stuckAtOneRate'] as const) {
    const value = settings[key];
    if (value !== null && !(value >= 0 && value <= 1))
      problems.push(`noise.${key}: must be null or a fraction in [0, 1], got ${value}`);
  }
  if (settings.onOffRatio !== null && !(settings.onOffRatio > 1))
    problems.push(`noise.onOffRatio: must be null or > 1 (Infinity = ideal), got ${settings.onOffRatio}`);
  if (settings.adcRange !== 'mse' && settings.adcRange !== 'percentile')
    problems.push(`noise.adcRange: must be mse or percentile, got ${String(settings.adcRange)}`);
  if (!(settings.adcRangePercentile > 0 && settings.adcRangePercentile <= 100))
    problems.push(`noise.adcRangePercentile: must be in (0, 100], got ${settings.adcRangePercentile}`);
  const models = ['device', 'aihwkit-pcm', 'aihwkit-reram-wan2022', 'gaussian', 'lognormal'];
  if (!models.includes(settings.model))
    problems.push(`noise.model: must be one of ${models.join(', ')}, got ${String(settings.model)}`);
  return problems;
}

/** The conductance-level noise of one device, every number resolved (see the file comment for units). */
export interface CellNoiseModel {
  kind: CellNoiseModelName;
  device: string;
  /** Gmin/Gmax = 1/onOff (0 for SRAM or an ideal on/off ratio). */
  gMin: number;
  /** Multiplier on the model's programming σ. */
  programmingScale: number;
  /** gaussian: σ as a fraction of the range; lognormal: σ of ln g. Unused by the polynomial models. */
  programmingSigma: number;
  /** σ growth after programming (RRAM relaxation) for the gaussian/lognormal abstractions. */
  relaxation: { growthFactor: number; afterSeconds: number } | null;
  /** Per-read additive σ of one cell, fraction of the range (aihwkit `w_noise`, ADDITIVE_CONSTANT). */
  readSigmaPerRead: number;
  /** aihwkit-pcm only: scale of the accumulated 1/f read noise. */
  pcmReadNoiseScale: number;
  /** Power-law drift of the gaussian/lognormal abstractions: ν ~ N(mean, sigma), G(t) = G·((t+t0)/t0)^−ν. */
  driftNuMean: number;
  driftNuSigma: number;
  driftT0S: number;
  /** Multiplier on every drift exponent. */
  driftScale: number;
  stuckAtZero: number;
  stuckAtOne: number;
  /** Stuck cells' differential partners are re-targeted to keep the pair's difference (see NoiseSettings). */
  stuckCompensation: boolean;
  /** Additive σ of one column read, relative to one full-weight × full-input row's product. */
  outputNoisePerRow: number;
}

export class NoiseSettingsError extends Error {
  override name = 'NoiseSettingsError';
}

/** Resolves `settings` for the device of `hw` (named in `library`). */
export function resolveCellNoise(
  hw: Pick<HardwareConfig, 'device'>,
  settings: NoiseSettings,
  library: HardwareLibrary = DEFAULT_LIBRARY,
): CellNoiseModel {
  return resolveCellNoiseForDevice(getDevice(library, hw.device), settings);
}

export function resolveCellNoiseForDevice(device: DeviceParams, settings: NoiseSettings): CellNoiseModel {
  const problems = validateNoiseSettings(settings);
  if (problems.length > 0) throw new NoiseSettingsError(problems.join('; '));
  const kind: CellNoiseModelName = settings.model === 'device' ? device.noiseModel : settings.model;
  const polynomial = kind === 'aihwkit-pcm' || kind === 'aihwkit-reram-wan2022';
  if (polynomial && settings.programmingSigma !== null) {
    throw new NoiseSettingsError(
      `noise.programmingSigma: the ${kind} model has its own σ(g) polynomial; scale it with noise.programmingScale ` +
        `or choose model 'gaussian' / 'lognormal' to set σ directly`,
    );
  }
  const onOff = settings.onOffRatio ?? device.onOffRatio;
  const gMin = onOff === null || !Number.isFinite(onOff) ? 0 : 1 / onOff;

  const verified = device.programmingSigma?.nominal ?? 0;
  const unverified = device.programmingSigmaUnverified?.nominal ?? verified;
  // Without write-verify the polynomial models (fitted on verified devices) are scaled by the device's
  // unverified/verified σ ratio (NeuRRAM: 2.5–5 % verified vs 10–30 % unverified, Wan et al., Nature 2022).
  const verifyFactor = settings.writeVerify || verified === 0 ? 1 : unverified / verified;
  const deviceSigma = settings.writeVerify ? verified : unverified;

  const nu = device.driftNu;
  // The library gives ν as a nominal value and a published range; we read the range as ±2σ (assumption).
  const nuSigma = (nu.max - nu.min) / 4;

  const deviceOutputNoise = device.outputNoiseFullScale?.nominal ?? 0;
  const outputNoise = (settings.outputNoise ?? deviceOutputNoise) * settings.outputNoiseScale;

  return {
    kind,
    device: device.name,
    gMin,
    programmingScale: settings.programmingScale * (polynomial ? verifyFactor : 1),
    programmingSigma: settings.programmingSigma ?? deviceSigma,
    relaxation: device.relaxation
      ? {
          growthFactor: device.relaxation.sigmaGrowthFactor.nominal,
          afterSeconds: device.relaxation.afterSeconds.nominal,
        }
      : null,
    readSigmaPerRead:
      (settings.readNoiseSigma ?? (kind === 'aihwkit-pcm' ? 0 : (device.readNoiseSigma?.nominal ?? 0))) *
      settings.readNoiseScale,
    pcmReadNoiseScale: kind === 'aihwkit-pcm' ? settings.readNoiseScale : 0,
    driftNuMean: nu.nominal,
    driftNuSigma: nuSigma,
    driftT0S: device.driftT0S,
    driftScale: settings.driftScale,
    stuckAtZero: settings.stuckAtZeroRate ?? device.stuckAtZero.nominal * settings.stuckAtScale,
    stuckAtOne: settings.stuckAtOneRate ?? device.stuckAtOne.nominal * settings.stuckAtScale,
    stuckCompensation: settings.stuckCompensation,
    outputNoisePerRow: outputNoise,
  };
}
