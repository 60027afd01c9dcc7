/**
 * The chip simulator's numbers are pinned to the simulator before the speed work of issue #16
 * (bench/reference/analogChip.ts, a verbatim copy): the same program, seeds and inputs must give the same
 * outputs within float tolerance — per-read noise, a real calibrated ADC, drift with and without
 * compensation, output noise, depthwise packing, several samples over shared and separate inputs,
 * inputs with all-zero patches, repeated calls (the read-noise stream advances), and a three-layer chain.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { ChipProgram } from '../../hardware/analog/program';
import { noiseSettings, type NoiseSettings } from '../../hardware/noise/settings';
import type { HardwareConfig } from '../../hardware/types';
import type { FoldedLayer, LinearOp } from '../../hardware/folded';
import type { FoldedNetwork } from '../../models/folded';
import { initTensorEngine } from '../../tensor/backend';
import { ChipProgram as ReferenceChipProgram } from '../../bench/reference/analogChip';
import { randomFoldedLayer, testChip } from './analogSupport';

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
});

const hardware = (overrides: Partial<HardwareConfig> = {}) => testChip({ rows: 32, ...overrides });

const rng = new Rng(2026);
const common = { stride: 1, kernelH: 1, kernelW: 1, weightBits: 6, activationBits: 6 } as const;
const conv = randomFoldedLayer(rng, {
  ...common,
  name: 'conv',
  kind: 'conv',
  inChannels: 5,
  outChannels: 12,
  kernelH: 3,
  kernelW: 3,
  stride: 2,
});
const depthwise = randomFoldedLayer(rng, {
  ...common,
  name: 'dw',
  kind: 'depthwise',
  inChannels: 12,
  outChannels: 12,
  kernelH: 3,
  kernelW: 3,
});
const dense = randomFoldedLayer(rng, {
  ...common,
  name: 'fc',
  kind: 'dense',
  inChannels: 12 * 4 * 4,
  outChannels: 10,
});
const signedDense = randomFoldedLayer(
  rng,
  { ...common, name: 'signed', kind: 'dense', inChannels: 40, outChannels: 7 },
  true,
);
const layers = [conv, depthwise, dense];
const network: FoldedNetwork = { architecture: null as never, quantization: null as never, layers };

/** Rounds to `layer`'s input grid after a ReLU (the folded network's activation quantizer, simplified). */
function toGrid(layer: FoldedLayer, values: Float32Array, shape: number[]): tf.Tensor {
  const top = 2 ** layer.shape.activationBits - 1;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++)
    out[i] = Math.min(top, Math.max(0, Math.round(values[i]! / layer.inputScale))) * layer.inputScale;
  return tf.tensor(out, shape);
}

/** Images 8×8×5 on conv's grid; about a third of the pixels all zero (whole patches fall on zeros). */
function images(count: number, seed: number): tf.Tensor {
  const local = new Rng(seed);
  const values = new Float32Array(count * 8 * 8 * 5);
  for (let p = 0; p < count * 64; p++) {
    if (local.next() < 0.35) continue;
    for (let c = 0; c < 5; c++) if (local.next() < 0.7) values[p * 5 + c] = local.int(64) * conv.inputScale;
  }
  return tf.tensor(values, [count, 8, 8, 5]);
}

/** conv → depthwise → dense through `op`, requantizing between layers; the logits. */
function chain(op: LinearOp, x: tf.Tensor): Float32Array {
  const a = op(conv, x);
  const b = op(depthwise, toGrid(depthwise, a.dataSync() as Float32Array, a.shape));
  const flat = b.dataSync() as Float32Array;
  const c = op(dense, toGrid(dense, flat, [b.shape[0]!, flat.length / b.shape[0]!]));
  const logits = c.dataSync() as Float32Array;
  for (const t of [a, b, c]) t.dispose();
  return logits;
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  expect(worst).toBeLessThanOrEqual(1e-5 * scale);
}

interface Case {
  name: string;
  hw: HardwareConfig;
  noise: Partial<NoiseSettings>;
  timeS: number;
}

const cases: Case[] = [
  { name: 'RRAM, per-read noise, 6-bit ADC', hw: hardware(), noise: {}, timeS: 0 },
  { name: 'RRAM, 2-bit DAC, 4-bit ADC', hw: hardware({ dacBits: 2, adcBits: 4 }), noise: {}, timeS: 0 },
  {
    name: 'PCM a day later, drift compensated',
    hw: hardware({ device: 'pcm' }),
    noise: { readNoiseSigma: 0.01 },
    timeS: 86_400,
  },
  {
    name: 'PCM a day later, no compensation',
    hw: hardware({ device: 'pcm' }),
    noise: { readNoiseSigma: 0.01, driftCompensation: false },
    timeS: 86_400,
  },
  { name: 'output noise on', hw: hardware(), noise: { outputNoise: 0.02 }, timeS: 0 },
  {
    name: 'ideal ADC, no read noise (linear readout)',
    hw: hardware(),
    noise: { idealAdc: true, readNoiseScale: 0 },
    timeS: 0,
  },
  { name: 'ideal ADC with read noise', hw: hardware(), noise: { idealAdc: true }, timeS: 0 },
  {
    name: 'percentile ADC range, no read noise',
    hw: hardware(),
    noise: { readNoiseScale: 0, adcRange: 'percentile' },
    timeS: 0,
  },
];

describe('seeded chip outputs equal the pre-#16 simulator', () => {
  test.each(cases)(
    '$name: calibrated ADC ranges and the logits of a 3-layer chain',
    ({ hw, noise, timeS }) => {
      const settings = noiseSettings(noise);
      const program = new ChipProgram(network, hw, settings);
      const reference = new ReferenceChipProgram(network, hw, settings);
      const calibrationImages = images(6, 1);
      program.calibrateAdc((op) => void chain(op, calibrationImages));
      reference.calibrateAdc((op) => void chain(op, calibrationImages));
      expect(program.adcRanges()).toEqual(reference.adcRanges());

      const x = images(5, 2);
      const seeds = [11, 12, 13];
      const chip = program.sample(seeds, timeS);
      const referenceChip = reference.sample(seeds, timeS);
      const replicatedImages = tf.concat([x, x, x]);
      // Twice: the second call continues each sample's read-noise stream.
      for (let call = 0; call < 2; call++)
        expectClose(chain(chip.linearOp, replicatedImages), chain(referenceChip.linearOp, replicatedImages));
      // Separate inputs per sample (no shared first layer).
      const mixed = tf.concat([x, images(5, 3), x]);
      expectClose(chain(chip.linearOp, mixed), chain(referenceChip.linearOp, mixed));
      chip.dispose();
      referenceChip.dispose();

      const ideal = program.ideal();
      const referenceIdeal = reference.ideal();
      expectClose(chain(ideal.linearOp, x), chain(referenceIdeal.linearOp, x));
      ideal.dispose();
      referenceIdeal.dispose();
      tf.dispose([calibrationImages, x, replicatedImages, mixed]);
    },
  );

  test('signed inputs (two’s complement chunks, a bipolar ADC)', () => {
    const single: FoldedNetwork = {
      architecture: null as never,
      quantization: null as never,
      layers: [signedDense],
    };
    const local = new Rng(9);
    const values = new Float32Array(8 * 40);
    for (let i = 0; i < values.length; i++)
      if (local.next() < 0.6) values[i] = (local.int(63) - 31) * signedDense.inputScale;
    const x = tf.tensor(values, [8, 40]);
    const settings = noiseSettings({});
    const program = new ChipProgram(single, hardware({ dacBits: 2 }), settings);
    const reference = new ReferenceChipProgram(single, hardware({ dacBits: 2 }), settings);
    program.calibrateAdc((op) => op(signedDense, x).dispose());
    reference.calibrateAdc((op) => op(signedDense, x).dispose());
    const chip = program.sample([4, 5]);
    const referenceChip = reference.sample([4, 5]);
    const pair = tf.concat([x, x]);
    const actual = chip.linearOp(signedDense, pair);
    const expected = referenceChip.linearOp(signedDense, pair);
    expectClose(actual.dataSync() as Float32Array, expected.dataSync() as Float32Array);
    tf.dispose([x, pair, actual, expected]);
    chip.dispose();
    referenceChip.dispose();
  });
});
