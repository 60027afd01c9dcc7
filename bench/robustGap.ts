/**
 * Where the fast noise models ('weight', 'weight-adc') lose the chip's ranking (docs/robust-search.md,
 * issue #15): for a few of robustSearch's generation-0 candidates, the chip's accuracy with its ADC made
 * ideal and each device-noise source switched on alone, against the two fast models. Same setup as
 * bench/robustSearch.ts (examples/quick.yaml, 20,000 training images, 4 epochs, drift time 3,600 s,
 * stage 2's recalibration and chip seeds, 200 validation images).
 *
 *   IMCNAS_BENCH_GAP_KEYS: comma-separated genome keys (default: two designs the fast models rank far too
 *   high and one SRAM design).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile, validateConfig } from '../config/load';
import { NO_NOISE, noiseSettings, type NoiseSettings } from '../hardware/noise/settings';
import { ChipProgram } from '../hardware/analog/program';
import { forwardOver, sampleSeed } from '../evaluator/simulator';
import { foldedAccuracy } from '../models/inference';
import { firstImages } from '../tasks/evaluationImages';
import { searchChipSeed, searchRobustness, SEARCH_ADC_CALIBRATION_IMAGES } from '../tasks/searchRobustness';
import {
  loadTrainedSupernet,
  pathAccuracy,
  recalibrationSeed,
  stageData,
  stageSpace,
  supernetDir,
} from '../tasks/shared';
import * as supernetTraining from '../tasks/supernetTraining';
import { decode } from '../search/space/codec';
import type { BenchFigures } from './run';

const DEFAULT_KEYS = ['0010121212020010', '0221201120011011', '2120301330023311'];
const round = (value: number) => Number(value.toFixed(4));

export async function run(): Promise<BenchFigures> {
  const quick = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const config = validateConfig({
    ...quick,
    dataset: { ...quick.dataset, trainSubset: 20000 },
    supernet: { ...quick.supernet, epochs: 4 },
    robustness: { ...quick.robustness, driftSeconds: [3600] },
  });
  const keys = (process.env.IMCNAS_BENCH_GAP_KEYS ?? DEFAULT_KEYS.join(',')).split(',');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-bench-gap-'));
  try {
    await supernetTraining.run(
      { dir: supernetDir(root), config, untilEpoch: config.supernet.epochs, attempt: 1 },
      { report: () => undefined },
    );
    const splits = await stageData(config);
    const space = stageSpace(config);
    const supernet = await loadTrainedSupernet(root, config);
    const data = firstImages(splits.validation, config.evolution.robustImages);
    const calibration = firstImages(splits.train, SEARCH_ADC_CALIBRATION_IMAGES);
    const figures: BenchFigures = {};
    // The chip with an ideal ADC and one noise source at its nominal scale (the others off), then all.
    // And the chip as stage 2 samples it (every source, its real ADC).
    const settings: Array<[string, Partial<NoiseSettings>]> = [
      ['ideal_adc_none', { ...NO_NOISE }],
      ['ideal_adc_programming', { ...NO_NOISE, programmingScale: 1 }],
      ['ideal_adc_read', { ...NO_NOISE, readNoiseScale: 1 }],
      ['ideal_adc_drift', { ...NO_NOISE, driftScale: 1 }],
      ['ideal_adc_stuck', { ...NO_NOISE, stuckAtScale: 1 }],
      ['ideal_adc_output', { ...NO_NOISE, outputNoiseScale: 1 }],
      ['ideal_adc_all', { idealAdc: true }],
      ['all', {}],
    ];
    try {
      for (const key of keys) {
        const decoded = decode(space, key.split('').map(Number));
        const digital = pathAccuracy(supernet, decoded, splits.train, splits.validation, {
          calibrationBatches: config.evolution.bnRecalBatches,
          batchSize: config.supernet.batchSize,
          images: config.evolution.robustImages,
          seed: recalibrationSeed(config),
        });
        const network = supernet.extractSubnet(decoded);
        figures[`${key}_hardware`] =
          `${decoded.hardware.device} ${decoded.hardware.rows} rows, ${decoded.hardware.adcBits}-bit ADC, ` +
          `${decoded.hardware.dacBits}-bit DAC, ${decoded.hardware.bitsPerCell} bit/cell`;
        figures[`${key}_digital`] = round(digital);
        const chipSeed = sampleSeed(searchChipSeed(config, key), 0);
        for (const [name, noise] of settings) {
          const program = new ChipProgram(network, decoded.hardware, noiseSettings(noise));
          program.calibrateAdc(forwardOver(network, calibration));
          const chip = program.sample([chipSeed], 3600);
          try {
            figures[`${key}_chip_${name}`] = round(
              foldedAccuracy(network, data.images, data.labels, chip.linearOp),
            );
          } finally {
            chip.dispose();
          }
        }
        for (const model of ['weight', 'weight-adc'] as const)
          figures[`${key}_${model.replace('-', '_')}`] = round(
            (await searchRobustness(network, decoded.hardware, key, config, splits, model))
              .robustAccuracyMean,
          );
      }
    } finally {
      supernet.dispose();
    }
    return figures;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
