/**
 * Conductance-level device noise (aihwkit pcm.py / reram.py; docs/sources.md §Noise models): what a cell
 * programmed to target g holds at time t after programming. All conductances are normalized to Gmax (see settings.ts).
 *
 * - aihwkit-pcm: aihwkit PCMLikeNoiseModel (Nandakumar et al., ICECS 2019) — polynomial programming σ,
 *   conductance-dependent drift exponent ν, accumulated 1/f read noise.
 * - aihwkit-reram-wan2022: aihwkit ReRamWan2022NoiseModel (NeuRRAM, Wan et al., Nature 2022) — 4th-order
 *   polynomial σ(g) fitted at 1 s, 1 day and 2 days after programming (RRAM relaxes instead of drifting).
 * - gaussian: g + N(0, σ·(1 − gMin)) (σ a fraction of the conductance range), the NAS papers' abstraction.
 * - lognormal: g·e^θ, θ ~ N(0, σ²).
 * Then, for every model: stuck-at faults (SA0 → Gmin, SA1 → Gmax at the configured rates; MNSIM defaults in
 * the device library) and conductances clamped at 0 (no negative conductance, as aihwkit does).
 *
 * A chip instance's randomness is drawn from named streams of its seed ('program', 'relax', 'nu', '1f',
 * 'sa0', 'sa1'), so the same instance seen at several times shares its programming error, its drift
 * exponents and its faults: a drift curve follows one chip as it ages.
 */
import type { Rng } from '../../common/rng';
import { bernoulliIndices, fillStandardNormal, streamFor } from './random';
import type { CellNoiseModel } from './settings';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

// --- aihwkit PCMLikeNoiseModel (aihwkit pcm.py; Nandakumar et al. 2019) --------------------------------
/** Programming σ polynomial in µS at gmax = 25 µS: c0 + c1·g + c2·g². */
export const PCM_PROGRAMMING_COEFFS = [0.26348, 1.965, -1.1731] as const;
export const PCM_GMAX_REFERENCE_US = 25;
/** Drift reference time t0 and 1/f read time t_read (aihwkit defaults). */
export const PCM_T0_S = 20;
export const PCM_T_READ_S = 250e-9;
/** aihwkit _ZERO_CLIP: g floor inside ln g for the drift statistics. */
const PCM_ZERO_CLIP = 1e-7;

// --- aihwkit ReRamWan2022NoiseModel (aihwkit reram.py; Wan et al. 2022) --------------------------------
/** σ(g) = Σ c_i g^i in µS at gmax = 40 µS, fitted 1 s, 1 day and 2 days after programming. */
export const RERAM_WAN2022_COEFFS: ReadonlyArray<{ timeS: number; coeffs: readonly number[] }> = [
  { timeS: 1, coeffs: [0.348, 16.03, -43.853, 45.393, -16.815] },
  { timeS: 86400, coeffs: [0.701, 22.086, -50.773, 47.095, -16.458] },
  { timeS: 172800, coeffs: [0.782, 20.274, -43.507, 37.062, -11.934] },
];
export const RERAM_GMAX_REFERENCE_US = 40;

function polynomial(coeffs: readonly number[], g: number): number {
  let value = 0;
  for (let i = coeffs.length - 1; i >= 0; i--) value = value * g + coeffs[i]!;
  return value;
}

/** aihwkit PCM programming σ at target g, normalized to gmax. */
export function pcmProgrammingSigma(g: number): number {
  return polynomial(PCM_PROGRAMMING_COEFFS, g) / PCM_GMAX_REFERENCE_US;
}

/** aihwkit PCM drift-exponent statistics at target g: ν ~ |N(mean, sigma)|. */
export function pcmDriftStatistics(g: number): { mean: number; sigma: number } {
  const lnG = math.log(math.max(math.abs(g), PCM_ZERO_CLIP));
  return {
    mean: math.min(math.max(-0.0155 * lnG + 0.0244, 0.049), 0.1),
    sigma: math.min(math.max(-0.0125 * lnG - 0.0059, 0.008), 0.045),
  };
}

/**
 * aihwkit PCM accumulated 1/f read-noise σ (relative to |G(t)|) at time t after programming, for a cell
 * programmed to gProg: Q_s·sqrt(ln((t + t0 + t_read)/(2·t_read))), Q_s = min(0.0088 / max(g^0.65, 1e-3), 0.2).
 * aihwkit counts t from the start of programming (t_inference + t0) and clamps g^0.65, not g; we follow its code.
 */
export function pcmReadNoiseSigma(gProg: number, timeS: number): number {
  const qs = math.min(0.0088 / math.max(math.pow(math.abs(gProg), 0.65), 1e-3), 0.2);
  const t = timeS + PCM_T0_S;
  return qs * math.sqrt(math.log((t + PCM_T_READ_S) / (2 * PCM_T_READ_S)));
}

/**
 * ReRAM (Wan 2022) σ at target g and time t, normalized to gmax. aihwkit only accepts the three fitted
 * times; between them we interpolate σ linearly in ln t, and hold the end values outside [1 s, 2 days].
 */
export function reramSigma(g: number, timeS: number): number {
  const fits = RERAM_WAN2022_COEFFS;
  const sigmaAt = (i: number) => polynomial(fits[i]!.coeffs, g) / RERAM_GMAX_REFERENCE_US;
  if (!(timeS > fits[0]!.timeS)) return sigmaAt(0);
  for (let i = 1; i < fits.length; i++) {
    if (timeS <= fits[i]!.timeS) {
      const lo = math.log(fits[i - 1]!.timeS);
      const hi = math.log(fits[i]!.timeS);
      const w = (math.log(timeS) - lo) / (hi - lo);
      return (1 - w) * sigmaAt(i - 1) + w * sigmaAt(i);
    }
  }
  return sigmaAt(fits.length - 1);
}

/** σ growth factor of the gaussian/lognormal abstractions at time t: 1 at ≤ 1 s, ramping in ln t. */
export function relaxationGrowth(model: CellNoiseModel, timeS: number): number {
  const relax = model.relaxation;
  if (!relax || !(timeS > 1)) return 1;
  const progress = math.min(1, math.log(timeS) / math.log(math.max(relax.afterSeconds, 1 + 1e-9)));
  return 1 + (relax.growthFactor - 1) * progress;
}

/**
 * Programming σ (normalized to gmax) at target g right after programming (the 1-s fit for ReRAM): the
 * model's formula times its scale. For lognormal it is σ of ln g, not of g.
 */
export function programmingSigmaOf(model: CellNoiseModel, g: number): number {
  switch (model.kind) {
    case 'aihwkit-pcm':
      return pcmProgrammingSigma(g) * model.programmingScale;
    case 'aihwkit-reram-wan2022':
      return reramSigma(g, 1) * model.programmingScale;
    case 'gaussian':
      return model.programmingSigma * (1 - model.gMin) * model.programmingScale;
    case 'lognormal':
      return model.programmingSigma * model.programmingScale;
  }
}

/** Conductances of one chip instance: right after programming, and at the requested time. */
export interface SampledConductances {
  /** After programming and stuck-at faults, before drift/relaxation/1-f noise (t = 0). */
  programmed: Float32Array;
  /** At `timeS` after programming. */
  atTime: Float32Array;
  /** Indices of stuck cells (SA0 then SA1), for reports and tests. */
  stuckAtZero: number[];
  stuckAtOne: number[];
}

function normals(seed: number, label: string, count: number): Float32Array {
  return fillStandardNormal(streamFor(seed, label), new Float32Array(count));
}

function drawDriftExponents(model: CellNoiseModel, targets: Float32Array, rng: Rng): Float32Array | null {
  const n = targets.length;
  if (model.driftScale === 0) return null;
  const eps = fillStandardNormal(rng, new Float32Array(n));
  const nu = new Float32Array(n);
  if (model.kind === 'aihwkit-pcm') {
    for (let i = 0; i < n; i++) {
      const { mean, sigma } = pcmDriftStatistics(targets[i]!);
      nu[i] = math.abs(mean + sigma * eps[i]!) * model.driftScale;
    }
    return nu;
  }
  if (model.driftNuMean === 0 && model.driftNuSigma === 0) return null;
  for (let i = 0; i < n; i++) {
    nu[i] = math.max(0, model.driftNuMean + model.driftNuSigma * eps[i]!) * model.driftScale;
  }
  return nu;
}

/**
 * Samples the conductances of `targets.length` cells of one chip instance (`seed`) at `timeS` seconds after
 * programming. Deterministic in (model, targets, seed, timeS); the same seed at another time gives the
 * same chip, aged.
 */
export function sampleConductances(
  model: CellNoiseModel,
  targets: Float32Array,
  seed: number,
  timeS: number,
  /** Per cell, the other cell of its differential pair (−1: none); used by stuck-cell compensation. */
  partners: Int32Array | null = null,
): SampledConductances {
  const n = targets.length;
  const programmed = new Float32Array(n);
  const eps = normals(seed, 'program', n);

  // 1. Programming error (for ReRAM the 1-s fit: aihwkit's apply_programming_noise_to_conductance).
  const lognormalSigma = model.kind === 'lognormal' ? programmingSigmaOf(model, 0) : 0;
  const program = (g: number, e: number): number =>
    model.kind === 'lognormal'
      ? g * math.exp(lognormalSigma * e)
      : math.max(0, g + programmingSigmaOf(model, g) * e);
  for (let i = 0; i < n; i++) programmed[i] = program(targets[i]!, eps[i]!);

  // 2. Stuck-at faults replace the programmed value; stuck cells neither drift nor relax.
  const stuckAtZero = bernoulliIndices(streamFor(seed, 'sa0'), n, model.stuckAtZero);
  const stuckAtOne = bernoulliIndices(streamFor(seed, 'sa1'), n, model.stuckAtOne);
  const stuck = new Uint8Array(n);
  for (const i of stuckAtZero) {
    programmed[i] = model.gMin;
    stuck[i] = 1;
  }
  for (const i of stuckAtOne) {
    programmed[i] = 1;
    stuck[i] = 1;
  }
  // Stuck-cell compensation: the pair's other cell is programmed (with its own programming error, the same
  // draw) to the stuck value plus the pair's target difference, g_j = g_i + (t_j − t_i), within [gMin, 1];
  // later drift and relaxation act on that new target.
  let effectiveTargets = targets;
  if (model.stuckCompensation && partners !== null) {
    effectiveTargets = Float32Array.from(targets);
    for (const i of [...stuckAtZero, ...stuckAtOne]) {
      const j = partners[i]!;
      if (j < 0 || stuck[j]) continue;
      const target = math.min(1, math.max(model.gMin, programmed[i]! + targets[j]! - targets[i]!));
      effectiveTargets[j] = target;
      programmed[j] = program(target, eps[j]!);
    }
  }
  targets = effectiveTargets;

  // 3. Time: drift (power law), relaxation (σ growth) and accumulated 1/f noise.
  const atTime = Float32Array.from(programmed);
  if (model.kind === 'aihwkit-reram-wan2022') {
    // σ(t)² = σ(1 s)² + increment²: the same marginal as aihwkit's fit at t, reached from this chip's
    // own programming error (aihwkit redraws from the target at each time, losing the chip's identity).
    if (timeS > 1 && model.programmingScale > 0) {
      const relax = normals(seed, 'relax', n);
      for (let i = 0; i < n; i++) {
        if (stuck[i]) continue;
        const g = targets[i]!;
        const s0 = reramSigma(g, 1);
        const st = reramSigma(g, timeS);
        const increment = math.sqrt(math.max(0, st * st - s0 * s0)) * model.programmingScale;
        atTime[i] = math.max(0, atTime[i]! + increment * relax[i]!);
      }
    }
  } else if ((model.kind === 'gaussian' || model.kind === 'lognormal') && model.relaxation && timeS > 1) {
    const growth = relaxationGrowth(model, timeS);
    const sigma0 = programmingSigmaOf(model, 0);
    const increment = sigma0 * math.sqrt(math.max(0, growth * growth - 1));
    if (increment > 0) {
      const relax = normals(seed, 'relax', n);
      for (let i = 0; i < n; i++) {
        if (stuck[i]) continue;
        atTime[i] =
          model.kind === 'gaussian'
            ? math.max(0, atTime[i]! + increment * relax[i]!)
            : atTime[i]! * math.exp(increment * relax[i]!);
      }
    }
  }

  const nu = drawDriftExponents(model, targets, streamFor(seed, 'nu'));
  if (nu && timeS > 0) {
    const t0 = model.kind === 'aihwkit-pcm' ? PCM_T0_S : model.driftT0S;
    const lnRatio = math.log((timeS + t0) / t0);
    for (let i = 0; i < n; i++) {
      if (!stuck[i]) atTime[i] = atTime[i]! * math.exp(-nu[i]! * lnRatio);
    }
  }

  if (model.kind === 'aihwkit-pcm' && model.pcmReadNoiseScale > 0) {
    const flicker = normals(seed, '1f', n);
    for (let i = 0; i < n; i++) {
      if (stuck[i]) continue;
      const g = atTime[i]!;
      const sigma = pcmReadNoiseSigma(programmed[i]!, timeS) * model.pcmReadNoiseScale;
      atTime[i] = math.max(0, g + math.abs(g) * sigma * flicker[i]!);
    }
  }
  return { programmed, atTime, stuckAtZero, stuckAtOne };
}
