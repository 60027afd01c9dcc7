/**
 * The quick supernet diagnosis: its configuration from the environment, and one real (tiny) run on
 * Fashion-MNIST whose figures describe what it trained.
 */
import { quickConfig, run } from '../../bench/supernetQuick';

describe('quickConfig', () => {
  it('defaults to the recipe with in-place distillation and reads overrides', () => {
    const defaults = quickConfig({});
    expect(defaults.inPlaceDistillation).toBe(true);
    expect(defaults.largestPathShare).toBe(0);
    expect(defaults.trainImages).toBe(1500);
    expect(defaults.sandwichSmallestPath).toBe(false);
    expect(defaults.lowBitRangeClipping).toBe(false);
    const variant = quickConfig({
      IMCNAS_BENCH_QUICK_SMALLEST_PATH: '1',
      IMCNAS_BENCH_QUICK_LOW_BIT_CLIPPING: '1',
    });
    expect(variant.sandwichSmallestPath).toBe(true);
    expect(variant.lowBitRangeClipping).toBe(true);
    const previous = quickConfig({
      IMCNAS_BENCH_QUICK_DISTILLATION: '0',
      IMCNAS_BENCH_QUICK_LARGEST_PATH_SHARE: '0.6',
      IMCNAS_BENCH_QUICK_EPOCHS: '12',
    });
    expect(previous.inPlaceDistillation).toBe(false);
    expect(previous.largestPathShare).toBe(0.6);
    expect(previous.epochs).toBe(12);
    expect(() => quickConfig({ IMCNAS_BENCH_QUICK_PATHS: '0' })).toThrow(/IMCNAS_BENCH_QUICK_PATHS/);
  });
});

describe('run', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('trains a tiny supernet and reports every path it evaluated', async () => {
    Object.assign(process.env, {
      IMCNAS_BENCH_QUICK_TRAIN_IMAGES: '320',
      IMCNAS_BENCH_QUICK_VALIDATION_IMAGES: '100',
      IMCNAS_BENCH_QUICK_EPOCHS: '1',
      IMCNAS_BENCH_QUICK_PATHS: '2',
    });
    const figures = await run();
    expect(figures.supernet_steps).toBe(10);
    const pairs = JSON.parse(String(figures.pairs_path_inherited_unquantized_standalone)) as Array<
      [string, number, number, number]
    >;
    expect(pairs).toHaveLength(2);
    for (const [, inherited, unquantized, standalone] of pairs) {
      for (const accuracy of [inherited, unquantized, standalone]) {
        expect(accuracy).toBeGreaterThanOrEqual(0);
        expect(accuracy).toBeLessThanOrEqual(1);
      }
    }
    expect(figures.largest_path_val_acc).toBeGreaterThan(0);
  }, 600_000);
});
