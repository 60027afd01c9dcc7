/**
 * The fused readout (hardware/analog/readoutKernel.ts) against the dense product + JavaScript pass it
 * replaces: the same chip, seeds and inputs give bit-identical outputs in every readout mode, including
 * the read-noise stream's position after the call (a second call continues it). Also pinned: the premise
 * that the dense product (tfjs-wasm matMul) sums every output over the rows in order in float32,
 * multiply then add, so that summing only the nonzero rows gives the same value.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { ChipProgram } from '../../hardware/analog/program';
import { ReadoutKernel, setFusedReadout } from '../../hardware/analog/readoutKernel';
import type { FoldedLayer } from '../../hardware/folded';
import type { FoldedNetwork } from '../../models/folded';
import { noiseSettings, type NoiseSettings } from '../../hardware/noise/settings';
import type { HardwareConfig } from '../../hardware/types';
import { initTensorEngine } from '../../tensor/backend';
import { randomFoldedLayer, randomInput, testChip } from './analogSupport';

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
});

afterEach(() => setFusedReadout(true));

test('the fused readout is available here (wasm SIMD)', () => {
  expect(ReadoutKernel.create()).not.toBeNull();
});

test('the dense product sums the rows in order in float32, multiply then add', () => {
  const rng = new Rng(3);
  const [M, R, C] = [40, 70, 36];
  const x = new Float32Array(M * R);
  const w = new Float32Array(R * C);
  for (let i = 0; i < x.length; i++) x[i] = rng.next() < 0.3 ? rng.int(7) - 3 : 0;
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() - 0.2) * 3.3;
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(x, [M, R]), tf.tensor2d(w, [R, C])).dataSync());
  let mismatches = 0;
  for (let m = 0; m < M; m++)
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let r = 0; r < R; r++)
        if (x[m * R + r] !== 0) sum = Math.fround(sum + Math.fround(x[m * R + r]! * w[r * C + c]!));
      if (sum !== product[m * C + c]) mismatches++;
    }
  expect(mismatches).toBe(0);
});

const rng = new Rng(77);
const conv = randomFoldedLayer(rng, {
  name: 'conv',
  kind: 'conv',
  inChannels: 7,
  outChannels: 13,
  kernelH: 3,
  kernelW: 3,
  stride: 1,
  weightBits: 6,
  activationBits: 5,
});
const depthwise = randomFoldedLayer(rng, {
  name: 'dw',
  kind: 'depthwise',
  inChannels: 13,
  outChannels: 13,
  kernelH: 3,
  kernelW: 3,
  stride: 2,
  weightBits: 4,
  activationBits: 4,
});
const signedDense = randomFoldedLayer(
  rng,
  {
    name: 'fc',
    kind: 'dense',
    inChannels: 45,
    outChannels: 10,
    kernelH: 1,
    kernelW: 1,
    stride: 1,
    weightBits: 8,
    activationBits: 6,
  },
  true,
);

interface Case {
  name: string;
  hw: Partial<HardwareConfig>;
  noise: Partial<NoiseSettings>;
  timeS?: number;
}

const cases: Case[] = [
  { name: 'read noise, SAR ADC', hw: {}, noise: {} },
  {
    name: '2-bit DAC, offset weights, 3 b/cell',
    hw: { dacBits: 2, bitsPerCell: 3, device: 'sram' },
    noise: {},
  },
  { name: '2-bit DAC with read noise (multi-valued chunks)', hw: { dacBits: 2 }, noise: {} },
  { name: 'output noise (every read kept)', hw: {}, noise: { outputNoise: 0.03 } },
  { name: 'output noise alone (lane draws)', hw: {}, noise: { outputNoise: 0.03, readNoiseScale: 0 } },
  { name: 'SRAM with output noise', hw: { device: 'sram' }, noise: { outputNoise: 0.05 } },
  { name: 'ideal ADC with read noise', hw: {}, noise: { idealAdc: true } },
  { name: 'no per-read noise, real ADC', hw: {}, noise: { readNoiseScale: 0 } },
  { name: 'PCM drift a day later', hw: { device: 'pcm' }, noise: {}, timeS: 86_400 },
];

function run(
  network: FoldedNetwork,
  layer: FoldedLayer,
  hw: Partial<HardwareConfig>,
  noise: Partial<NoiseSettings>,
  timeS: number,
  input: tf.Tensor,
  fusedOn: boolean,
): Float32Array[] {
  setFusedReadout(fusedOn);
  const program = new ChipProgram(network, testChip({ rows: 32, ...hw }), noiseSettings(noise), {
    maxBlockFloats: 1 << 12,
  });
  program.calibrateAdc((op) => op(layer, input).dispose());
  const chip = program.sample([5, 6], timeS);
  const pair = tf.concat([input, input]);
  // Twice: the second call continues each sample's read-noise stream; then separate inputs per sample.
  const outputs = [0, 1].map(() => chip.linearOp(layer, pair));
  const values = outputs.map((t) => t.dataSync() as Float32Array);
  const ideal = program.ideal();
  const idealOut = ideal.linearOp(layer, input);
  values.push(idealOut.dataSync() as Float32Array);
  tf.dispose([...outputs, pair, idealOut]);
  chip.dispose();
  ideal.dispose();
  return values;
}

describe.each([
  ['conv (offset or differential, 3 row tiles)', conv, [3, 6, 6, 7]],
  ['depthwise', depthwise, [3, 6, 6, 13]],
  ['signed dense (two’s complement chunks)', signedDense, [6, 45]],
] as const)('%s', (_name, layer, shape) => {
  const network: FoldedNetwork = {
    architecture: null as never,
    quantization: null as never,
    layers: [layer],
  };
  test.each(cases)('$name: bit-identical to the dense product', ({ hw, noise, timeS }) => {
    const input = randomInput(new Rng(11), layer, [...shape], 0.5);
    const fused = run(network, layer, hw, noise, timeS ?? 0, input, true);
    const dense = run(network, layer, hw, noise, timeS ?? 0, input, false);
    expect(fused).toEqual(dense);
    input.dispose();
  });
});

describe('calibration through the fused readout', () => {
  const calibrate = (
    layer: FoldedLayer,
    input: tf.Tensor,
    hw: Partial<HardwareConfig>,
    noise: Partial<NoiseSettings>,
    fusedOn: boolean,
  ) => {
    setFusedReadout(fusedOn);
    const network: FoldedNetwork = {
      architecture: null as never,
      quantization: null as never,
      layers: [layer],
    };
    const program = new ChipProgram(network, testChip({ rows: 32, ...hw }), noiseSettings(noise), {
      maxBlockFloats: 1 << 12,
    });
    const histograms = program.calibrateAdc((op) => op(layer, input).dispose());
    return {
      histograms: histograms.map((classes) => classes.map((h) => ({ count: h.count, bins: h.entries() }))),
      ranges: program.adcRanges(),
    };
  };

  test.each([
    ['conv, percentile range', conv, [3, 6, 6, 7], {}, {}],
    [
      'conv, 2-bit DAC, 3 b/cell, MSE range',
      conv,
      [3, 6, 6, 7],
      { dacBits: 2, bitsPerCell: 3 },
      { adcRange: 'mse' },
    ],
    ['depthwise', depthwise, [3, 6, 6, 13], {}, {}],
    ['signed dense', signedDense, [6, 45], { dacBits: 2 }, { adcRange: 'mse' }],
  ] as const)(
    '%s: the same histograms and ADC ranges as the dense product',
    (_name, layer, shape, hw, noise) => {
      const input = randomInput(new Rng(12), layer, [...shape], 0.5);
      const fused = calibrate(layer, input, hw, noise as Partial<NoiseSettings>, true);
      const dense = calibrate(layer, input, hw, noise as Partial<NoiseSettings>, false);
      expect(fused.histograms[0]!.some((h) => h.count > 0)).toBe(true);
      expect(fused).toEqual(dense);
      input.dispose();
    },
  );
});
