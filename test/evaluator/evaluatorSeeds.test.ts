/**
 * The built-in Monte-Carlo evaluator on a trained network (evaluatorSupport.ts): seeds reproduce, other
 * seeds differ, grouping samples into passes changes nothing; drift curves; aborts.
 */
import { SimulatorEvaluator, sampleSeed } from '../../evaluator/simulator';
import type { EvaluationImages, RobustnessRequest } from '../../evaluator/types';
import type { NoiseSettings } from '../../hardware/noise/settings';
import { initTensorEngine } from '../../tensor/backend';
import { CHIP, fashionImages, haveFashionMnist, requestFor } from './evaluatorSupport';

const describeWithData = haveFashionMnist ? describe : describe.skip;
let data: EvaluationImages;
let calibration: EvaluationImages;

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
  if (!haveFashionMnist) return;
  data = await fashionImages('test', 0, 150);
  calibration = await fashionImages('train', 0, 64);
});

const request = (noise: Partial<NoiseSettings>, overrides: Partial<RobustnessRequest> = {}) =>
  requestFor(data, calibration, noise, overrides);

describeWithData('Monte-Carlo samples', () => {
  test('seeds reproduce; other seeds differ; grouping samples per pass changes nothing without read noise', async () => {
    const noise = { readNoiseScale: 0 };
    const grouped = new SimulatorEvaluator({ measureNoiseFree: false, samplesPerPass: 3 });
    const single = new SimulatorEvaluator({ measureNoiseFree: false, samplesPerPass: 1 });
    const a = await grouped.evaluate(request(noise));
    const b = await single.evaluate(request(noise));
    const c = await grouped.evaluate(request(noise, { seed: 12 }));
    expect(a.points[0]!.accuracies).toEqual(b.points[0]!.accuracies);
    expect(a.points[0]!.accuracies).not.toEqual(c.points[0]!.accuracies);
    expect(a.sampleSeeds).toEqual([0, 1, 2].map((i) => sampleSeed(11, i)));
    expect(a.metrics.cells).toBeGreaterThan(0);
    // With per-read noise, the same evaluator options reproduce the same numbers.
    const d = await grouped.evaluate(request({}, { samples: 2 }));
    const e = await grouped.evaluate(request({}, { samples: 2 }));
    expect(d.points[0]!.accuracies).toEqual(e.points[0]!.accuracies);
  });

  test('a drift curve: one point per time; PCM without compensation loses accuracy over a day', async () => {
    const evaluator = new SimulatorEvaluator({ measureNoiseFree: false });
    const noise = { programmingScale: 0, readNoiseScale: 0, stuckAtScale: 0, driftCompensation: false };
    const result = await evaluator.evaluate(
      request(noise, { hardware: { ...CHIP, device: 'pcm' }, driftSeconds: [0, 86400], samples: 1 }),
    );
    expect(result.points.map((p) => p.timeS)).toEqual([0, 86400]);
    expect(result.points[1]!.accuracy.mean).toBeLessThan(result.points[0]!.accuracy.mean - 0.05);
  });

  test('an aborted evaluation stops', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped by the user'));
    await expect(
      new SimulatorEvaluator().evaluate(request({}), { signal: controller.signal }),
    ).rejects.toThrow('stopped by the user');
  });

  test('progress comes after every batch of images, in images through the chip, up to the total', async () => {
    const reports: Array<{ done: number; total: number }> = [];
    const evaluator = new SimulatorEvaluator({ imagesPerPass: 64, samplesPerPass: 2 });
    const result = await evaluator.evaluate(request({ readNoiseScale: 0 }, { samples: 2 }), {
      onProgress: ({ done, total }) => reports.push({ done, total }),
    });
    const images = data.labels.length;
    // A noise-free pass (batches of 64) and one pass of 2 samples (batches of 32 images × 2).
    expect(reports.length).toBeGreaterThanOrEqual(Math.ceil(images / 64) + Math.ceil(images / 32));
    expect(reports.every((r, i) => i === 0 || r.done >= reports[i - 1]!.done)).toBe(true);
    expect(reports.at(-1)).toEqual({ done: 3 * images, total: 3 * images });
    expect(result.metrics.imagesEvaluated).toBe(3 * images);
  });
});
