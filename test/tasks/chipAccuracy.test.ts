/**
 * Stage 2's ADC-aware accuracy (chipAccuracy, tasks/searchRobustness.ts searchChipAccuracy): on a trained
 * network it is the stage-3 simulator's noise-free chip on the same images and ADC calibration, exactly;
 * it sees a coarse ADC the digital accuracy cannot; it is deterministic; its settings are validated.
 */
import { ConfigError } from '../../common/validation';
import { validateConfig } from '../../config/load';
import type { Split, Splits } from '../../data/dataset';
import { SimulatorEvaluator } from '../../evaluator/simulator';
import type { EvaluationImages } from '../../evaluator/types';
import { foldedAccuracy } from '../../models/inference';
import { judge, needsChipAccuracy } from '../../search/evolution';
import { SEARCH_ADC_CALIBRATION_IMAGES, searchChipAccuracy } from '../../tasks/searchRobustness';
import { initTensorEngine } from '../../tensor/backend';
import { CHIP, fashionImages, haveFashionMnist, trainedNet } from '../evaluator/evaluatorSupport';

const describeWithData = haveFashionMnist ? describe : describe.skip;

function split(data: EvaluationImages): Split {
  const [height, width, channels] = data.shape;
  return {
    x: data.images,
    y: data.labels,
    count: data.labels.length,
    height,
    width,
    channels,
    numClasses: 10,
  };
}

let splits: Splits;
beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
  if (!haveFashionMnist) return;
  // Stage 2 reads the first validation images and calibrates on the first training images.
  const validation = split(await fashionImages('test', 0, 300));
  splits = { train: split(await fashionImages('train', 0, 200)), validation, test: validation };
});

describeWithData('chipAccuracy on a trained network', () => {
  const config = validateConfig({
    name: 'chip-accuracy',
    objectives: [{ metric: 'chipAccuracy' }, { metric: 'edap' }],
    evolution: { chipImages: 150 },
  });

  test("equals the simulator's noise-free chip on the same images, and sees a coarse ADC", async () => {
    const digital = foldedAccuracy(
      trainedNet,
      splits.validation.x.subarray(0, 150 * 28 * 28),
      splits.validation.y.subarray(0, 150),
    );
    const accuracies: number[] = [];
    for (const adcBits of [8, 3]) {
      const hardware = { ...CHIP, adcBits };
      const measured = searchChipAccuracy(trainedNet, hardware, config, splits);
      expect(measured.images).toBe(150);
      const reference = await new SimulatorEvaluator({ measureNoiseFree: true }).evaluate({
        candidateId: 'c',
        network: trainedNet,
        hardware,
        noise: config.robustness.noise,
        samples: 1,
        seed: 1,
        data: splitImages(splits.validation, 150),
        calibration: splitImages(splits.train, SEARCH_ADC_CALIBRATION_IMAGES),
      });
      expect(measured.chipAccuracy).toBe(reference.noiseFreeAccuracy);
      // Deterministic: no device noise, no random draw.
      expect(searchChipAccuracy(trainedNet, hardware, config, splits).chipAccuracy).toBe(
        measured.chipAccuracy,
      );
      accuracies.push(measured.chipAccuracy);
    }
    // An 8-bit ADC keeps the digital accuracy within a few images; a 3-bit one costs far more.
    expect(Math.abs(accuracies[0]! - digital)).toBeLessThanOrEqual(0.03);
    expect(accuracies[1]!).toBeLessThan(accuracies[0]! - 0.05);
  });
});

function problemsOf(value: unknown): string[] {
  try {
    validateConfig(value);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

function splitImages(data: Split, count: number): EvaluationImages {
  const pixels = data.height * data.width * data.channels;
  return {
    images: data.x.subarray(0, count * pixels),
    labels: data.y.subarray(0, count),
    shape: [data.height, data.width, data.channels],
  };
}

describe('chipAccuracy settings', () => {
  test('validation names the field', () => {
    expect(
      problemsOf({
        name: 'x',
        evolution: { chipImages: 5 },
        constraints: { chipAccuracy: { min: 1.5 } },
      }),
    ).toEqual(
      expect.arrayContaining([
        'evolution.chipImages: must be ≥ 20, got 5',
        'constraints.chipAccuracy.min: must be ≤ 1, got 1.5',
      ]),
    );
    expect(validateConfig({ name: 'x' }).evolution.chipImages).toBe(500);
  });

  test('an objective or a constraint asks for it; the constraint judges it', () => {
    const plain = validateConfig({ name: 'x' });
    expect(needsChipAccuracy(plain.objectives, plain.constraints)).toBe(false);
    expect(needsChipAccuracy([{ metric: 'chipAccuracy' }], {})).toBe(true);
    expect(needsChipAccuracy(plain.objectives, { chipAccuracy: { min: 0.5 } })).toBe(true);
    const metrics = {
      accuracy: 0.72,
      chipAccuracy: 0.43,
      energy: 1,
      latency: 1,
      area: 1,
      edap: 1,
      edp: 1,
      topsPerWatt: 1,
      topsPerMm2: 1,
      capacityExcess: 0,
    };
    const objectives = [{ metric: 'chipAccuracy' as const }, { metric: 'edap' as const }];
    expect(judge(metrics, objectives, { chipAccuracy: { min: 0.6 } })).toEqual({
      objectives: [0.43, 1],
      constraintViolation: expect.closeTo(1 - 0.43 / 0.6, 12) as number,
    });
    expect(judge(metrics, objectives, { chipAccuracy: { min: 0.4 } }).constraintViolation).toBe(0);
  });
});
