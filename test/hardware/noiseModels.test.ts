/**
 * Each conductance model reproduces its published formula (aihwkit pcm.py / reram.py; docs/sources.md
 * §Noise models) on sampled conductances: means and standard deviations over many cells within stated
 * statistical tolerances.
 */
import { BUILTIN_DEVICES } from '../../hardware/devices';
import {
  PCM_T0_S,
  pcmDriftStatistics,
  pcmProgrammingSigma,
  pcmReadNoiseSigma,
  reramSigma,
  sampleConductances,
} from '../../hardware/noise/models';
import { bernoulliIndices, standardNormals, streamFor } from '../../hardware/noise/random';
import {
  type CellNoiseModel,
  NO_NOISE,
  NoiseSettingsError,
  noiseSettings,
  resolveCellNoise,
  validateNoiseSettings,
} from '../../hardware/noise/settings';

const CELLS = 200_000;

function stats(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(squares / (values.length - 1)) };
}

/** Relative standard error of a sample std over n draws is ≈ 1/sqrt(2n); 5 of them is our tolerance. */
const stdTolerance = (n: number) => 5 / Math.sqrt(2 * n);

function model(device: string, overrides: Parameters<typeof noiseSettings>[0] = {}): CellNoiseModel {
  return resolveCellNoise({ device }, noiseSettings({ stuckAtScale: 0, ...overrides }));
}

function constant(value: number, n = CELLS): Float32Array {
  return new Float32Array(n).fill(value);
}

describe('standard normals and Bernoulli draws', () => {
  test('N(0,1): mean 0, std 1, reproducible from the seed', () => {
    const a = standardNormals(streamFor(1, 'x'), CELLS);
    const b = standardNormals(streamFor(1, 'x'), CELLS);
    const c = standardNormals(streamFor(2, 'x'), CELLS);
    expect(Array.from(a.subarray(0, 100))).toEqual(Array.from(b.subarray(0, 100)));
    expect(a[0]).not.toBe(c[0]);
    const { mean, std } = stats(a);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(CELLS));
    expect(Math.abs(std - 1)).toBeLessThan(stdTolerance(CELLS));
  });

  test('geometric-skip Bernoulli indices hit each cell with probability p', () => {
    for (const p of [0.001, 0.02, 0.3]) {
      const hits = bernoulliIndices(streamFor(5, p), 1_000_000, p);
      const expected = 1_000_000 * p;
      expect(Math.abs(hits.length - expected)).toBeLessThan(5 * Math.sqrt(expected * (1 - p)));
      expect(new Set(hits).size).toBe(hits.length);
      expect(hits.every((i, k) => i >= 0 && i < 1_000_000 && (k === 0 || i > hits[k - 1]!))).toBe(true);
    }
  });
});

describe('aihwkit PCM (Nandakumar et al. 2019)', () => {
  test('programming σ follows (0.26348 + 1.9650 g − 1.1731 g²) µS / 25 µS', () => {
    expect(pcmProgrammingSigma(0)).toBeCloseTo(0.26348 / 25, 8);
    expect(pcmProgrammingSigma(1)).toBeCloseTo((0.26348 + 1.965 - 1.1731) / 25, 8);
    const m = model('pcm', { readNoiseScale: 0, driftScale: 0 });
    for (const g of [0.1, 0.5, 0.9]) {
      const { programmed } = sampleConductances(m, constant(g), 11, 0);
      const { mean, std } = stats(programmed);
      const sigma = pcmProgrammingSigma(g);
      expect(Math.abs(mean - g)).toBeLessThan((5 * sigma) / Math.sqrt(CELLS));
      expect(Math.abs(std / sigma - 1)).toBeLessThan(stdTolerance(CELLS));
    }
  });

  test('drift: ν ~ |N(μ_ν(g), σ_ν(g))| with the clamped log-g fits, G(t) = G·((t + t0)/t0)^−ν', () => {
    const m = model('pcm', { programmingScale: 0, readNoiseScale: 0 });
    const t = 86400;
    for (const g of [0.05, 0.5, 1]) {
      const { atTime } = sampleConductances(m, constant(g), 12, t);
      const nu = Array.from(atTime, (value) => -Math.log(value / g) / Math.log((t + PCM_T0_S) / PCM_T0_S));
      const { mean, std } = stats(nu);
      const expected = pcmDriftStatistics(g);
      // ν is a folded normal |N(μ, σ)|: compare with its moments, integrated numerically.
      const folded = foldedNormalMoments(expected.mean, expected.sigma);
      expect(Math.abs(mean - folded.mean)).toBeLessThan((5 * folded.std) / Math.sqrt(CELLS));
      expect(Math.abs(std / folded.std - 1)).toBeLessThan(stdTolerance(CELLS) * 2);
    }
    expect(pcmDriftStatistics(0.5)).toEqual({ mean: 0.049, sigma: 0.008 }); // both clamped at g = 0.5
    const small = pcmDriftStatistics(0.05); // inside both clamps
    expect(small.mean).toBeCloseTo(-0.0155 * Math.log(0.05) + 0.0244, 10);
    expect(small.sigma).toBeCloseTo(-0.0125 * Math.log(0.05) - 0.0059, 10);
  });

  test('1/f read noise: relative σ = Q_s·sqrt(ln((t + t0 + t_read)/(2 t_read))), Q_s = min(0.0088/g^0.65, 0.2)', () => {
    const m = model('pcm', { programmingScale: 0, driftScale: 0 });
    for (const [g, t] of [
      [0.2, 0],
      [0.8, 3600],
    ] as const) {
      const { atTime } = sampleConductances(m, constant(g), 13, t);
      const relative = Array.from(atTime, (value) => value / g - 1);
      const expected = (0.0088 / g ** 0.65) * Math.sqrt(Math.log((t + 20 + 250e-9) / (2 * 250e-9)));
      expect(pcmReadNoiseSigma(g, t)).toBeCloseTo(expected, 12);
      expect(Math.abs(stats(relative).std / expected - 1)).toBeLessThan(stdTolerance(CELLS));
    }
    expect(pcmReadNoiseSigma(1e-6, 0)).toBeCloseTo(0.2 * Math.sqrt(Math.log((20 + 250e-9) / 500e-9)), 12);
  });
});

function foldedNormalMoments(mu: number, sigma: number): { mean: number; std: number } {
  // Numerical integration of |x| under N(mu, sigma).
  let m1 = 0;
  let m2 = 0;
  const steps = 20000;
  const lo = mu - 10 * sigma;
  const dx = (20 * sigma) / steps;
  for (let i = 0; i < steps; i++) {
    const x = lo + (i + 0.5) * dx;
    const p = Math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI));
    m1 += Math.abs(x) * p * dx;
    m2 += x * x * p * dx;
  }
  return { mean: m1, std: Math.sqrt(m2 - m1 * m1) };
}

describe('aihwkit ReRAM (Wan et al. 2022)', () => {
  const poly = (c: number[], g: number) => c.reduce((sum, ci, i) => sum + ci * g ** i, 0) / 40;
  const oneSecond = [0.348, 16.03, -43.853, 45.393, -16.815];
  const oneDay = [0.701, 22.086, -50.773, 47.095, -16.458];
  const twoDays = [0.782, 20.274, -43.507, 37.062, -11.934];

  test('σ(g) polynomials at 1 s, 1 day and 2 days (µS at gmax 40 µS)', () => {
    for (const g of [0, 0.3, 0.7, 1]) {
      expect(reramSigma(g, 1)).toBeCloseTo(poly(oneSecond, g), 12);
      expect(reramSigma(g, 86400)).toBeCloseTo(poly(oneDay, g), 12);
      expect(reramSigma(g, 172800)).toBeCloseTo(poly(twoDays, g), 12);
      expect(reramSigma(g, 1e7)).toBeCloseTo(poly(twoDays, g), 12);
    }
    // Between fits: linear in ln t.
    const t = Math.sqrt(86400);
    expect(reramSigma(0.5, t)).toBeCloseTo(0.5 * poly(oneSecond, 0.5) + 0.5 * poly(oneDay, 0.5), 12);
  });

  test('sampled conductances have the fitted σ at each time, and the aged chip keeps its programming error', () => {
    const m = model('rram', { readNoiseScale: 0 });
    const g = 0.6;
    const programmed = sampleConductances(m, constant(g), 21, 1).atTime;
    const aged = sampleConductances(m, constant(g), 21, 86400).atTime;
    expect(Math.abs(stats(programmed).std / poly(oneSecond, g) - 1)).toBeLessThan(stdTolerance(CELLS));
    expect(Math.abs(stats(aged).std / poly(oneDay, g) - 1)).toBeLessThan(stdTolerance(CELLS));
    // Correlation between the two readings of one chip: σ(1 s)/σ(1 day).
    let covariance = 0;
    for (let i = 0; i < CELLS; i++) covariance += (programmed[i]! - g) * (aged[i]! - g);
    const correlation = covariance / CELLS / (stats(programmed).std * stats(aged).std);
    expect(correlation).toBeCloseTo(poly(oneSecond, g) / poly(oneDay, g), 1);
  });

  test('write-verify off scales the polynomial by the unverified/verified σ ratio (NeuRRAM 20 % vs 3.5 %)', () => {
    const verified = model('rram');
    const unverified = model('rram', { writeVerify: false });
    expect(unverified.programmingScale / verified.programmingScale).toBeCloseTo(0.2 / 0.035, 10);
  });
});

describe('gaussian and lognormal abstractions', () => {
  test('gaussian: G + N(0, σ·(Gmax − Gmin)) with configurable σ', () => {
    const m = model('fefet', { model: 'gaussian', programmingSigma: 0.07, driftScale: 0, readNoiseScale: 0 });
    expect(m.gMin).toBeCloseTo(1 / 100, 12);
    const { programmed } = sampleConductances(m, constant(0.5), 31, 0);
    const { mean, std } = stats(programmed);
    expect(Math.abs(std / (0.07 * 0.99) - 1)).toBeLessThan(stdTolerance(CELLS));
    expect(Math.abs(mean - 0.5)).toBeLessThan((5 * std) / Math.sqrt(CELLS));
  });

  test('lognormal: ln(G/G_target) ~ N(0, σ²)', () => {
    const m = model('rram', { model: 'lognormal', programmingSigma: 0.1, readNoiseScale: 0 });
    const { programmed } = sampleConductances(m, constant(0.4), 32, 0);
    const logs = Array.from(programmed, (value) => Math.log(value / 0.4));
    const { mean, std } = stats(logs);
    expect(Math.abs(mean)).toBeLessThan((5 * 0.1) / Math.sqrt(CELLS));
    expect(Math.abs(std / 0.1 - 1)).toBeLessThan(stdTolerance(CELLS));
  });

  test('relaxation: σ grows to σ·growthFactor by afterSeconds (rram-mnsim preset)', () => {
    const m = model('rram-mnsim', { readNoiseScale: 0 });
    expect(m.kind).toBe('gaussian');
    const relax = m.relaxation!;
    const { atTime } = sampleConductances(m, constant(0.5), 33, relax.afterSeconds);
    const expected = m.programmingSigma * (1 - m.gMin) * relax.growthFactor;
    expect(Math.abs(stats(atTime).std / expected - 1)).toBeLessThan(stdTolerance(CELLS));
  });

  test('power-law drift of the abstractions: mean ν = the device nominal (FeFET)', () => {
    const m = model('fefet', { programmingScale: 0, readNoiseScale: 0 });
    const t = 3600;
    const { atTime } = sampleConductances(m, constant(0.5), 34, t);
    const nu = Array.from(atTime, (value) => -Math.log(value / 0.5) / Math.log((t + 20) / 20));
    expect(Math.abs(stats(nu).mean - m.driftNuMean)).toBeLessThan((5 * m.driftNuSigma) / Math.sqrt(CELLS));
  });
});

describe('stuck-at faults and finite on/off ratio', () => {
  test('SA0 cells read Gmin = Gmax/onOff, SA1 cells read Gmax, at the configured rates', () => {
    const m = model('rram', { stuckAtZeroRate: 0.0175, stuckAtOneRate: 0.0904, programmingScale: 0 });
    expect(m.gMin).toBeCloseTo(1 / 17, 12);
    const { programmed, stuckAtZero, stuckAtOne } = sampleConductances(m, constant(0.5), 41, 0);
    for (const [hits, p] of [
      [stuckAtZero, 0.0175],
      [stuckAtOne, 0.0904],
    ] as const) {
      expect(Math.abs(hits.length - CELLS * p)).toBeLessThan(5 * Math.sqrt(CELLS * p * (1 - p)));
    }
    const atMin = Array.from(programmed).filter((g) => g === Math.fround(1 / 17)).length;
    const atMax = Array.from(programmed).filter((g) => g === 1).length;
    // A cell drawn for both faults ends stuck at Gmax.
    expect(atMin + atMax).toBe(new Set([...stuckAtZero, ...stuckAtOne]).size);
    expect(atMax).toBe(stuckAtOne.length);
  });

  test('stuck-cell compensation: the other cell of a pair keeps the pair’s difference where it can', () => {
    const pairs = 20_000;
    const targets = new Float32Array(2 * pairs);
    const partners = new Int32Array(2 * pairs);
    for (let k = 0; k < pairs; k++) {
      // A differential pair: one cell at a level, the other at Gmin (1/17).
      targets[2 * k] = k % 2 === 0 ? 0.5 : 1 / 17;
      targets[2 * k + 1] = k % 2 === 0 ? 1 / 17 : 0.9;
      partners[2 * k] = 2 * k + 1;
      partners[2 * k + 1] = 2 * k;
    }
    const settings = { stuckAtZeroRate: 0.05, stuckAtOneRate: 0.05, programmingScale: 0 };
    const plain = sampleConductances(model('rram', settings), targets, 42, 0, partners);
    const compensated = sampleConductances(
      model('rram', { ...settings, stuckCompensation: true }),
      targets,
      42,
      0,
      partners,
    );
    const stuck = new Set([...plain.stuckAtZero, ...plain.stuckAtOne]);
    let repaired = 0;
    let broken = 0;
    for (let k = 0; k < pairs; k++) {
      const [i, j] = [2 * k, 2 * k + 1];
      if (stuck.has(i) === stuck.has(j)) continue;
      const wanted = targets[i]! - targets[j]!;
      const error = (g: Float32Array) => Math.abs(g[i]! - g[j]! - wanted);
      if (error(plain.programmed) > 1e-6) broken++;
      // Reachable: the partner's new target lies in [Gmin, 1].
      const stuckCell = stuck.has(i) ? i : j;
      const other = stuckCell === i ? j : i;
      const needed = plain.programmed[stuckCell]! + targets[other]! - targets[stuckCell]!;
      if (needed >= 1 / 17 && needed <= 1) {
        expect(error(compensated.programmed)).toBeLessThan(1e-6);
        repaired++;
      }
    }
    expect(broken).toBeGreaterThan(1000);
    expect(repaired).toBeGreaterThan(broken / 2);
    // Without partners (offset encoding) nothing changes.
    const alone = sampleConductances(model('rram', { ...settings, stuckCompensation: true }), targets, 42, 0);
    expect(alone.programmed).toEqual(plain.programmed);
  });

  test('device defaults come from the library (MNSIM 0.1 % / 0.1 % for RRAM)', () => {
    const m = resolveCellNoise({ device: 'rram' }, noiseSettings());
    expect(m.stuckAtZero).toBe(0.001);
    expect(m.stuckAtOne).toBe(0.001);
    expect(m.readSigmaPerRead).toBe(0.01);
  });

  test('an ideal on/off ratio gives Gmin = 0', () => {
    expect(model('rram', { onOffRatio: Infinity }).gMin).toBe(0);
  });
});

describe('settings', () => {
  test('zero noise leaves every conductance at its target for every device', () => {
    for (const device of BUILTIN_DEVICES) {
      const m = resolveCellNoise({ device: device.name }, NO_NOISE);
      const targets = Float32Array.from({ length: 1000 }, (_, i) => m.gMin + ((1 - m.gMin) * i) / 999);
      const { atTime } = sampleConductances(m, targets, 51, 86400);
      expect(Array.from(atTime)).toEqual(Array.from(targets));
    }
  });

  test('invalid settings name every offending field', () => {
    const problems = validateNoiseSettings(
      noiseSettings({ programmingScale: -1, stuckAtOneRate: 2, adcRangePercentile: 0, onOffRatio: 0.5 }),
    );
    expect(problems.join('\n')).toMatch(/noise.programmingScale/);
    expect(problems.join('\n')).toMatch(/noise.stuckAtOneRate/);
    expect(problems.join('\n')).toMatch(/noise.adcRangePercentile/);
    expect(problems.join('\n')).toMatch(/noise.onOffRatio/);
    expect(() => resolveCellNoise({ device: 'pcm' }, noiseSettings({ programmingSigma: 0.05 }))).toThrow(
      NoiseSettingsError,
    );
  });

  test('the same seed gives the same chip, another seed another chip', () => {
    const m = model('pcm');
    const targets = Float32Array.from({ length: 5000 }, (_, i) => (i % 100) / 100);
    const a = sampleConductances(m, targets, 61, 3600).atTime;
    const b = sampleConductances(m, targets, 61, 3600).atTime;
    const c = sampleConductances(m, targets, 62, 3600).atTime;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});
