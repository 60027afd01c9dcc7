/**
 * The simulated chip as a LinearOp: exact agreement with the digital op when ideal, the bit-slicing and
 * bit-serial encodings, the ADC, Monte-Carlo batching and seeds, per-read noise and drift compensation
 * against their formulas, and the training perturbation against the chip's own weight statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { adcConvert, adcTransfer, PartialSumHistogram } from '../../hardware/analog/adc';
import { AnalogChipError } from '../../hardware/analog/plan';
import { ChipProgram } from '../../hardware/analog/program';
import { inputChunk, inputLayout, sliceLayout, sliceWeight } from '../../hardware/analog/encoding';
import { NO_NOISE, noiseSettings, resolveCellNoise } from '../../hardware/noise/settings';
import { weightLevelSigma } from '../../hardware/noise/weightNoise';
import type { FoldedLayer } from '../../hardware/folded';
import type { FoldedNetwork } from '../../models/folded';
import { initTensorEngine } from '../../tensor/backend';
import { digitalOp, maxAbsDifference, randomFoldedLayer, randomInput, testChip } from './analogSupport';

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
});

const hardware = testChip;

function single(layer: FoldedLayer): FoldedNetwork {
  return { architecture: null as never, quantization: null as never, layers: [layer] };
}

describe('encodings', () => {
  test('bit slices reassemble every weight level (differential and offset, any bits per cell)', () => {
    for (const differential of [true, false]) {
      for (const bits of [2, 4, 5, 8]) {
        for (const bitsPerCell of [1, 2, 3, 4]) {
          const layout = sliceLayout(bits, bitsPerCell, differential);
          expect(layout.widths.reduce((a, b) => a + b, 0)).toBe(differential ? bits - 1 : bits);
          const top = 2 ** (bits - 1) - 1;
          const pos: number[] = [];
          const neg: number[] = [];
          for (let level = -top; level <= top; level++) {
            sliceWeight(layout, level, pos, neg);
            let value = -layout.offset;
            layout.shifts.forEach((shift, s) => {
              expect(pos[s]).toBeLessThanOrEqual(layout.maxLevels[s]!);
              value += 2 ** shift * (pos[s]! - neg[s]!);
            });
            expect(value).toBe(level);
          }
        }
      }
    }
  });

  test('the narrow slice is the most significant one', () => {
    expect(sliceLayout(8, 3, true).widths).toEqual([3, 3, 1]);
    expect(sliceLayout(8, 4, false).widths).toEqual([4, 4]);
  });

  test('bit-serial input chunks reassemble every level (two’s complement for signed inputs)', () => {
    for (const signed of [false, true]) {
      for (const bits of [1, 4, 7, 8]) {
        for (const dac of [1, 2, 3]) {
          if (signed && bits < 2) continue;
          const layout = inputLayout(bits, signed, dac);
          expect(layout.widths.length).toBe(Math.ceil(bits / dac));
          const lo = signed ? -(2 ** (bits - 1) - 1) : 0;
          const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
          for (let x = lo; x <= hi; x++) {
            let value = 0;
            layout.shifts.forEach((shift, c) => (value += 2 ** shift * inputChunk(layout, x, c)));
            expect(value).toBe(x);
          }
        }
      }
    }
  });

  test('ADC: uniform codes over the calibrated range, clipping beyond, never finer than one level', () => {
    const adc = adcTransfer(4, true, 70, false); // ±7 codes, step 10
    expect(adc.step).toBe(10);
    expect(adcConvert(adc, 14)).toBe(10);
    expect(adcConvert(adc, 16)).toBe(20);
    expect(adcConvert(adc, 500)).toBe(70);
    expect(adcConvert(adc, -500)).toBe(-70);
    const unsigned = adcTransfer(4, false, 30, false); // 0..15, step 2
    expect(adcConvert(unsigned, -3)).toBe(0);
    expect(adcTransfer(8, true, 20, false).step).toBe(1);
    expect(adcConvert(adcTransfer(8, true, 20, false), 17)).toBe(17);
    const histogram = new PartialSumHistogram(100);
    for (let i = 0; i <= 100; i++) histogram.add(i % 2 === 0 ? i : -i);
    expect(histogram.percentile(50)).toBe(50);
    expect(histogram.percentile(100)).toBe(100);
    expect(histogram.max()).toBe(100);
  });
});

describe('ideal chip = digital op', () => {
  const cases = [
    { kind: 'conv', cin: 5, cout: 7, k: 3, stride: 1, w: 6, a: 8, signed: false, input: [2, 9, 9, 5] },
    { kind: 'conv', cin: 5, cout: 7, k: 3, stride: 2, w: 4, a: 5, signed: true, input: [2, 10, 9, 5] },
    { kind: 'conv', cin: 12, cout: 3, k: 1, stride: 1, w: 8, a: 4, signed: true, input: [1, 4, 4, 12] },
    { kind: 'depthwise', cin: 6, cout: 6, k: 3, stride: 2, w: 5, a: 4, signed: false, input: [2, 7, 8, 6] },
    { kind: 'depthwise', cin: 6, cout: 6, k: 5, stride: 1, w: 8, a: 4, signed: true, input: [2, 7, 8, 6] },
    { kind: 'dense', cin: 40, cout: 10, k: 1, stride: 1, w: 8, a: 8, signed: true, input: [3, 40] },
  ] as const;
  const devices = ['rram', 'rram-isaac', 'sram', 'pcm', 'mram'];

  test.each(devices)(
    '%s: ideal ADC, and a real ADC with enough bits, reproduce the digital layer',
    (device) => {
      const rng = new Rng(device.length * 101);
      for (const c of cases) {
        const layer = randomFoldedLayer(
          rng,
          {
            name: `${c.kind}${c.stride}`,
            kind: c.kind,
            inChannels: c.cin,
            outChannels: c.cout,
            kernelH: c.k,
            kernelW: c.k,
            stride: c.stride,
            weightBits: c.w,
            activationBits: c.a,
          },
          c.signed,
        );
        const x = randomInput(rng, layer, [...c.input]);
        const expected = digitalOp(layer, x);
        const bitsPerCell = device === 'sram' || device === 'mram' ? 1 : 2;
        for (const [idealAdc, adcBits, rows, dacBits] of [
          [true, 4, 16, 1],
          [false, 14, 16, 2],
          [false, 14, 7, 3],
        ] as const) {
          const program = new ChipProgram(
            single(layer),
            hardware({ device, rows, adcBits, dacBits, bitsPerCell }),
            noiseSettings({ idealAdc }, NO_NOISE),
          );
          program.calibrateAdc((op) => op(layer, x).dispose());
          for (const chip of [program.ideal(), program.sample([1, 2])]) {
            const input = chip.sampleCount === 1 ? x : tf.concat([x, x]);
            const y = chip.linearOp(layer, input);
            const reference = chip.sampleCount === 1 ? expected : tf.concat([expected, expected]);
            const { diff, scale } = maxAbsDifference(y, reference);
            expect(diff).toBeLessThanOrEqual(scale * 1e-6);
            tf.dispose([y, input === x ? [] : input, reference === expected ? [] : reference]);
            chip.dispose();
          }
        }
        tf.dispose([x, expected]);
      }
    },
  );

  test('depthwise kernels taller than the array are split in row chunks per channel', () => {
    const rng = new Rng(9);
    const layer = randomFoldedLayer(rng, {
      name: 'dw7',
      kind: 'depthwise',
      inChannels: 3,
      outChannels: 3,
      kernelH: 7,
      kernelW: 7,
      stride: 1,
      weightBits: 6,
      activationBits: 6,
    });
    const program = new ChipProgram(single(layer), hardware({ rows: 16, adcBits: 14 }), NO_NOISE);
    expect(program.plans[0]!.blocks.length).toBe(3 * Math.ceil(49 / 16));
    const x = randomInput(rng, layer, [1, 6, 6, 3]);
    const y = program.ideal().linearOp(layer, x);
    const { diff, scale } = maxAbsDifference(y, digitalOp(layer, x));
    expect(diff).toBeLessThanOrEqual(scale * 1e-6);
  });

  test('inputs off the layer grid and wrong shapes fail with the layer named', () => {
    const rng = new Rng(10);
    const layer = randomFoldedLayer(rng, {
      name: 'stemlike',
      kind: 'conv',
      inChannels: 1,
      outChannels: 2,
      kernelH: 3,
      kernelW: 3,
      stride: 1,
      weightBits: 4,
      activationBits: 4,
    });
    const chip = new ChipProgram(single(layer), hardware(), NO_NOISE).ideal();
    expect(() => chip.linearOp(layer, tf.fill([1, 4, 4, 1], layer.inputScale * 0.5))).toThrow(
      /stemlike.*grid/,
    );
    expect(() => chip.linearOp(layer, tf.zeros([1, 4, 4, 3]))).toThrow(AnalogChipError);
  });
});

describe('Monte-Carlo samples', () => {
  const rng = new Rng(77);
  const conv = randomFoldedLayer(rng, {
    name: 'conv',
    kind: 'conv',
    inChannels: 4,
    outChannels: 6,
    kernelH: 3,
    kernelW: 3,
    stride: 1,
    weightBits: 6,
    activationBits: 6,
  });
  let x: tf.Tensor;
  beforeAll(() => {
    x = randomInput(rng, conv, [2, 6, 6, 4]);
  });
  const noisy = noiseSettings({ readNoiseScale: 1 });

  test('a batched chip of N seeds equals N single chips (shared and separate inputs), and seeds reproduce', () => {
    const program = new ChipProgram(single(conv), hardware({ adcBits: 5 }), noisy);
    program.calibrateAdc((op) => op(conv, x).dispose());
    const batched = program.sample([5, 6, 7]);
    // Shared input (identical copies): one im2col, samples side by side in one product.
    const sharedOut = batched.linearOp(conv, tf.concat([x, x, x])).arraySync() as number[][][][];
    const x2 = randomInput(rng, conv, [2, 6, 6, 4]);
    // Separate inputs: sample 1 sees x2.
    const separateOut = batched.linearOp(conv, tf.concat([x, x2, x])).arraySync() as number[][][][];
    batched.dispose();
    [5, 6, 7].forEach((seed, n) => {
      // Per-read noise advances each sample's stream; a fresh single chip reproduces the first call only.
      const alone = program.sample([seed]);
      const first = alone.linearOp(conv, x).arraySync() as number[][][][];
      expect(first).toEqual(sharedOut.slice(2 * n, 2 * n + 2));
      alone.dispose();
    });
    expect(separateOut.slice(0, 2)).not.toEqual(separateOut.slice(2, 4));
    // Different seeds give different chips.
    expect(sharedOut.slice(0, 2)).not.toEqual(sharedOut.slice(2, 4));
  });

  test('batch sizes that are not a multiple of the samples are rejected', () => {
    const chip = new ChipProgram(single(conv), hardware(), noisy).sample([1, 2]);
    expect(() => chip.linearOp(conv, tf.slice(x, [0, 0, 0, 0], [1, 6, 6, 4]))).toThrow(/multiple/);
    chip.dispose();
  });
});

describe('noise against its formulas, through the chip', () => {
  /** A dense layer whose every weight has level `level`; identity inputs read its rows back. */
  function constantDense(
    inChannels: number,
    outChannels: number,
    level: number,
    weightBits: number,
  ): FoldedLayer {
    const scale = 0.01;
    return {
      shape: {
        name: 'dense',
        kind: 'dense',
        inChannels,
        outChannels,
        kernelH: 1,
        kernelW: 1,
        stride: 1,
        outH: 1,
        outW: 1,
        weightBits,
        activationBits: 4,
      },
      kernel: new Float32Array(inChannels * outChannels).fill(level * scale),
      kernelShape: [inChannels, outChannels],
      weightScale: new Float32Array(outChannels).fill(scale),
      bias: new Float32Array(outChannels),
      inputScale: 1,
      inputSigned: false,
    };
  }

  function std(values: number[]): number {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  }

  test.each([
    ['pcm', 2, 3, 0],
    ['pcm', 1, -5, 3600],
    ['rram', 2, 2, 86400],
    ['fefet', 3, -7, 0],
  ] as const)(
    '%s, %d bits/cell, level %d at t = %d s: effective weight σ = the training perturbation σ',
    (device, bitsPerCell, level, timeS) => {
      const weightBits = 5;
      const layer = constantDense(64, 64, level, weightBits);
      const hw = hardware({ device, bitsPerCell, rows: 64 });
      // Ideal ADC, no per-read noise, no drift (compensation would rescale): weights read back exactly.
      const settings = noiseSettings({ idealAdc: true, stuckAtScale: 0, readNoiseSigma: 0, driftScale: 0 });
      const program = new ChipProgram(single(layer), hw, settings);
      const chip = program.sample([3], timeS);
      const identity = tf.eye(64);
      const read = Array.from(chip.linearOp(layer, identity).dataSync(), (w) => w / 0.01 - level);
      chip.dispose();
      const model = resolveCellNoise(hw, settings);
      const layout = sliceLayout(weightBits, bitsPerCell, true);
      const expected = weightLevelSigma(model, layout, level, timeS);
      expect(Math.abs(std(read) / expected - 1)).toBeLessThan(5 / Math.sqrt(2 * read.length) + 0.02);
    },
  );

  test('per-read noise: output σ² = Σ_cycles Σ_slices (2^shifts · σ_read · M_s)² · pairs · Σ x²', () => {
    const layer = constantDense(32, 200, 0, 4);
    const hw = hardware({ device: 'rram', bitsPerCell: 1, rows: 32, dacBits: 2 });
    const settings = noiseSettings({
      idealAdc: true,
      programmingScale: 0,
      stuckAtScale: 0,
      readNoiseSigma: 0.02,
    });
    const chip = new ChipProgram(single(layer), hw, settings).sample([4]);
    const level = 9; // chunks 1 and 2 (dac 2 bits)
    const x = tf.fill([1, 32], level);
    const out = Array.from(chip.linearOp(layer, x).dataSync(), (v) => v / 0.01);
    chip.dispose();
    const layout = sliceLayout(4, 1, true);
    const input = inputLayout(4, false, 2);
    let variance = 0;
    input.shifts.forEach((inShift, c) => {
      const chunk = inputChunk(input, level, c);
      layout.shifts.forEach((shift, s) => {
        variance += (2 ** inShift * 2 ** shift * 0.02 * layout.maxLevels[s]!) ** 2 * 2 * 32 * chunk * chunk;
      });
    });
    expect(Math.abs(std(out) / Math.sqrt(variance) - 1)).toBeLessThan(5 / Math.sqrt(2 * out.length));
  });

  test('PCM drift: global compensation restores the scale a day later; without it outputs shrink by ((t+t0)/t0)^−ν', () => {
    const layer = constantDense(64, 64, 6, 5);
    const hw = hardware({ device: 'pcm', bitsPerCell: 2, rows: 64 });
    const base = { idealAdc: true, programmingScale: 0, readNoiseScale: 0, stuckAtScale: 0 };
    const t = 86400;
    const x = tf.fill([1, 64], 1);
    const mean = (settings: ReturnType<typeof noiseSettings>) => {
      const chip = new ChipProgram(single(layer), hw, settings).sample([8], t);
      const values = Array.from(chip.linearOp(layer, x).dataSync());
      chip.dispose();
      return values.reduce((a, b) => a + b, 0) / values.length / (64 * 6 * 0.01);
    };
    expect(mean(noiseSettings({ ...base, driftCompensation: true }))).toBeCloseTo(1, 2);
    // Level 6 on 2-bit slices: cells at g = 2/3 and g = 2/3 (6 = 0b0110): ν clamped to μ = 0.049.
    const uncompensated = mean(noiseSettings({ ...base, driftCompensation: false }));
    expect(uncompensated).toBeLessThan(0.7);
    expect(uncompensated).toBeGreaterThan(((t + 20) / 20) ** -0.06);
  });
});
