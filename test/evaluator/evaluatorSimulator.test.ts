/**
 * The built-in Monte-Carlo evaluator on a trained network (evaluatorSupport.ts): the ideal chip gives the
 * digital accuracy exactly; accuracy falls with programming σ, with more bits per cell and with fewer ADC
 * bits.
 */
import { SimulatorEvaluator } from '../../evaluator/simulator';
import { accuracyStats, percentileOfSorted } from '../../evaluator/statistics';
import type { EvaluationImages, RobustnessRequest } from '../../evaluator/types';
import { NO_NOISE, type NoiseSettings } from '../../hardware/noise/settings';
import { foldedAccuracy } from '../../models/inference';
import { initTensorEngine } from '../../tensor/backend';
import { CHIP, fashionImages, firstOf, haveFashionMnist, requestFor, trainedNet } from './evaluatorSupport';

const describeWithData = haveFashionMnist ? describe : describe.skip;
let data: EvaluationImages;
let calibration: EvaluationImages;

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
  if (!haveFashionMnist) return;
  data = await fashionImages('test', 0, 300);
  calibration = await fashionImages('train', 0, 64);
});

const request = (noise: Partial<NoiseSettings>, overrides: Partial<RobustnessRequest> = {}) =>
  requestFor(data, calibration, noise, overrides);

describe('statistics', () => {
  test('mean, sample std, min, max and the linear-interpolation 5th percentile', () => {
    const stats = accuracyStats([0.8, 0.9, 0.7, 0.85, 0.75]);
    expect(stats.mean).toBeCloseTo(0.8, 12);
    expect(stats.std).toBeCloseTo(Math.sqrt(0.025 / 4), 12);
    expect(stats.min).toBe(0.7);
    expect(stats.max).toBe(0.9);
    // numpy.percentile([0.7, 0.75, 0.8, 0.85, 0.9], 5) = 0.71
    expect(stats.p5).toBeCloseTo(0.71, 12);
    expect(percentileOfSorted([1], 5)).toBe(1);
    expect(accuracyStats([0.5]).std).toBe(0);
  });
});

describeWithData('Monte-Carlo evaluator on a trained network', () => {
  test('zero noise and an ideal ADC give the digital accuracy exactly, on every sample', async () => {
    const digital = foldedAccuracy(trainedNet, data.images, data.labels);
    expect(digital).toBeGreaterThan(0.75);
    const result = await new SimulatorEvaluator({ samplesPerPass: 2 }).evaluate(
      request(NO_NOISE, { samples: 2 }),
    );
    expect(result.noiseFreeAccuracy).toBe(digital);
    expect(result.points[0]!.accuracies).toEqual([digital, digital]);
    // Enough ADC bits for every partial sum (a step of one level) is lossless too.
    const lossless = await new SimulatorEvaluator({ measureNoiseFree: false }).evaluate(
      request({ ...NO_NOISE, idealAdc: false }, { hardware: { ...CHIP, adcBits: 12 }, samples: 1 }),
    );
    expect(lossless.points[0]!.accuracies).toEqual([digital]);
  });

  test('accuracy falls monotonically with programming σ', async () => {
    const evaluator = new SimulatorEvaluator({ measureNoiseFree: false });
    const means: number[] = [];
    for (const sigma of [0, 0.02, 0.05, 0.12]) {
      const noise = {
        model: 'gaussian' as const,
        programmingSigma: sigma,
        readNoiseScale: 0,
        stuckAtScale: 0,
        idealAdc: true,
      };
      means.push((await evaluator.evaluate(request(noise, { samples: 4 }))).points[0]!.accuracy.mean);
    }
    for (let i = 1; i < means.length; i++) expect(means[i]!).toBeLessThan(means[i - 1]!);
    expect(means[0]! - means[3]!).toBeGreaterThan(0.1);
  });

  test('accuracy falls monotonically with more bits per cell (the same σ of the conductance range)', async () => {
    const evaluator = new SimulatorEvaluator({ measureNoiseFree: false });
    const means: number[] = [];
    for (const bitsPerCell of [1, 2, 4]) {
      const noise = {
        model: 'gaussian' as const,
        programmingSigma: 0.03,
        readNoiseScale: 0,
        stuckAtScale: 0,
        idealAdc: true,
      };
      const result = await evaluator.evaluate(
        request(noise, { samples: 4, hardware: { ...CHIP, bitsPerCell } }),
      );
      means.push(result.points[0]!.accuracy.mean);
    }
    for (let i = 1; i < means.length; i++) expect(means[i]!).toBeLessThan(means[i - 1]!);
  });

  test('accuracy falls monotonically with fewer ADC bits', async () => {
    const evaluator = new SimulatorEvaluator({ measureNoiseFree: true });
    const accuracies: number[] = [];
    for (const adcBits of [8, 5, 3]) {
      const result = await evaluator.evaluate(
        request(
          { ...NO_NOISE, idealAdc: false },
          { samples: 1, hardware: { ...CHIP, adcBits }, data: firstOf(data, 200) },
        ),
      );
      accuracies.push(result.noiseFreeAccuracy!);
    }
    for (let i = 1; i < accuracies.length; i++) expect(accuracies[i]!).toBeLessThan(accuracies[i - 1]!);
  });

  test("SRAM's read-out noise (σ per row product, aihwkit units) costs little at 8 ADC bits, more when tripled", async () => {
    const sram = {
      ...CHIP,
      device: 'sram' as const,
      bitsPerCell: 1,
      adcBits: 8,
      rows: 64,
      cols: 64,
      dacBits: 2,
    };
    const evaluator = new SimulatorEvaluator();
    const nominal = await evaluator.evaluate(request({}, { hardware: sram, samples: 2 }));
    const tripled = await evaluator.evaluate(
      request({ outputNoiseScale: 3 }, { hardware: sram, samples: 2 }),
    );
    expect(nominal.points[0]!.accuracy.mean).toBeGreaterThan(nominal.noiseFreeAccuracy! - 0.02);
    expect(tripled.points[0]!.accuracy.mean).toBeLessThan(nominal.points[0]!.accuracy.mean - 0.1);
  });
});
