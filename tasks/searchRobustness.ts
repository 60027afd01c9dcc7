/**
 * Stage 2's noisy accuracy of one candidate, for robustAccuracyMean / robustAccuracyP5 objectives and
 * constraints: its recalibrated subnet on a few Monte-Carlo samples of the chip its genome describes, on
 * the first evolution.robustImages validation images, read evolution.robustDriftSeconds after programming
 * (default robustness.reportAt). This is variation-aware search as NACIM does it (Jiang et al., "Device-
 * Circuit-Architecture Co-Exploration for Computing-in-Memory Neural Accelerators", IEEE TC 2021): the
 * search sees each design's accuracy under device variation, not only its digital accuracy.
 *
 * Three noise paths, all from the device models of hardware/noise (the ones stage 3 samples):
 * - 'chip': the simulated chip itself (evaluator/simulator.ts: bit slicing, DAC/ADC, programming
 *   error, drift, read noise, stuck-at faults), with the ADC ranges calibrated on training images;
 * - 'weight': the same cell model collapsed to one Gaussian per weight plus stuck-at faults
 *   (hardware/noise/weightNoise.ts), run through the digital folded network: no ADC, no per-read noise
 *   inside an array's partial sums, a fraction of the cost;
 * - 'weight-adc': 'weight' plus the chip's DAC/ADC readout as hardware/analog/readoutError.ts models it
 *   (per read class the ADC's least-squares gain, folded into one digital product per input cycle, and its
 *   residual as output noise: rare large read errors as events, the rest Gaussian), from the same
 *   ADC-range calibration the chip runs, and the depthwise arrays' leakage driven by the neighbouring
 *   channels' inputs: the chip's readout without the bit-serial simulation of every image on every chip.
 * The chips are drawn from seeds of their own ('search-chip'), independent of stage 3's ('chip') and stage
 * 4's ('final-chip'), so stage 3 measures the front on chips the search never selected for.
 */
import * as tf from '@tensorflow/tfjs-core';
import { searchDriftSeconds, type RobustModel, type RunConfig } from '../config/schema';
import { deriveSeed } from '../common/rng';
import type { Splits } from '../data/dataset';
import type { AnalogChip } from '../hardware/analog/chip';
import { ChipProgram } from '../hardware/analog/program';
import {
  calibratedReadoutErrors,
  readoutErrorOp,
  type LayerReadoutError,
} from '../hardware/analog/readoutError';
import { SimulatorEvaluator, forwardOver, sampleSeed } from '../evaluator/simulator';
import type { EvaluationImages } from '../evaluator/types';
import { accuracyStats } from '../evaluator/statistics';
import { noiseSettings } from '../hardware/noise/settings';
import { deviceWeightNoiseHook } from '../hardware/noise/weightNoise';
import type { HardwareConfig } from '../hardware/types';
import type { FoldedNetwork } from '../models/folded';
import { digitalLinearOp, foldedAccuracy, forwardFolded } from '../models/inference';
import { firstImages } from './evaluationImages';

/** ADC-range calibration images of stage 2's chips (training images; stage 3 uses 256). */
export const SEARCH_ADC_CALIBRATION_IMAGES = 128;

export interface SearchRobustness {
  robustAccuracyMean: number;
  robustAccuracyP5: number;
  /** Each chip's accuracy, in sample order. */
  accuracies: number[];
  driftSeconds: number;
  model: RobustModel;
}

/** The seed stage 2's chips of candidate `key` derive from (sample i: sampleSeed(seed, i)). */
export function searchChipSeed(config: RunConfig, key: string): number {
  return deriveSeed(config.seed, 'search-chip', key);
}

/** Noisy accuracy of a recalibrated, folded candidate on its own chip (see the file comment). */
export async function searchRobustness(
  network: FoldedNetwork,
  hardware: HardwareConfig,
  key: string,
  config: RunConfig,
  splits: Splits,
  model: RobustModel = config.evolution.robustModel,
  /** Called after every batch of chip images (a heartbeat: a chip simulation can take a while). */
  onProgress?: (message: string) => void,
): Promise<SearchRobustness> {
  const { robustSamples: samples, robustImages } = config.evolution;
  const timeS = searchDriftSeconds(config);
  const data = firstImages(splits.validation, robustImages);
  const seed = searchChipSeed(config, key);
  let accuracies: number[];
  if (model === 'chip') {
    const evaluator = new SimulatorEvaluator({ forward: forwardFolded, measureNoiseFree: false });
    const result = await evaluator.evaluate(
      {
        candidateId: key,
        network,
        hardware,
        samples,
        seed,
        driftSeconds: [timeS],
        noise: config.robustness.noise,
        data,
        calibration: firstImages(splits.train, SEARCH_ADC_CALIBRATION_IMAGES),
      },
      { onProgress: (p) => onProgress?.(`${key}: noisy chips ${p.done}/${p.total} images`) },
    );
    accuracies = result.points[0]!.accuracies;
  } else {
    // 'weight-adc': the ADC's readout error per layer, from the same calibration the chip does.
    const errors =
      model === 'weight-adc'
        ? adcReadoutErrors(
            network,
            hardware,
            config,
            firstImages(splits.train, SEARCH_ADC_CALIBRATION_IMAGES),
            timeS,
          )
        : null;
    accuracies = [];
    for (let i = 0; i < samples; i++) {
      const chipSeed = sampleSeed(seed, i);
      const noisy = weightNoisyNetwork(network, hardware, config, chipSeed, timeS, errors === null);
      const linearOp = errors ? readoutErrorOp(errors, network, chipSeed, digitalLinearOp) : digitalLinearOp;
      accuracies.push(foldedAccuracy(noisy, data.images, data.labels, linearOp));
    }
  }
  const stats = accuracyStats(accuracies);
  return {
    robustAccuracyMean: stats.mean,
    robustAccuracyP5: stats.p5,
    accuracies,
    driftSeconds: timeS,
    model,
  };
}

/** Stage 2's ADC-aware accuracy of one candidate (see searchChipAccuracy). */
export interface SearchChipAccuracy {
  chipAccuracy: number;
  images: number;
}

/**
 * chipAccuracy: the recalibrated, folded candidate on one simulated chip of its genome with every device
 * noise source off — bit slicing, DAC input cycles and the ADCs (ranges calibrated on the same 128
 * training images as the noisy chips), nothing random — on the first evolution.chipImages validation
 * images. Deterministic, and the stage-3 simulator's noise-free chip (SimulatorEvaluator measureNoiseFree)
 * on the same images and calibration to the last image: the digital accuracy of stage 2 cannot see what a
 * converter too coarse for its array's partial sums costs (a 6-bit flash ADC per 8 columns of a 256-row
 * SRAM array took two demo designs from 72 % digital to 43 % and 50 % on this chip, docs/baseline.md).
 * One chip and no per-read noise: a fraction of the noisy chips' cost (docs/robust-search.md).
 */
export function searchChipAccuracy(
  network: FoldedNetwork,
  hardware: HardwareConfig,
  config: RunConfig,
  splits: Splits,
): SearchChipAccuracy {
  const data = firstImages(splits.validation, config.evolution.chipImages);
  const chip = noiseFreeSearchChip(network, hardware, config, splits);
  try {
    return {
      chipAccuracy: foldedAccuracy(network, data.images, data.labels, chip.linearOp),
      images: data.labels.length,
    };
  } finally {
    chip.dispose();
  }
}

/**
 * The noise-free chip of searchChipAccuracy: `network` programmed on `hardware`, its ADC ranges calibrated
 * on the first 128 training images as stage 2's noisy chips calibrate them. The caller disposes it.
 */
export function noiseFreeSearchChip(
  network: FoldedNetwork,
  hardware: HardwareConfig,
  config: RunConfig,
  splits: Splits,
): AnalogChip {
  const calibration = firstImages(splits.train, SEARCH_ADC_CALIBRATION_IMAGES);
  const program = new ChipProgram(network, hardware, noiseSettings(config.robustness.noise ?? {}));
  program.calibrateAdc(forwardOver(network, calibration));
  return program.ideal();
}

/** The network with chip `chipSeed`'s weight-level device noise (hardware/noise/weightNoise.ts). */
function weightNoisyNetwork(
  network: FoldedNetwork,
  hardware: HardwareConfig,
  config: RunConfig,
  chipSeed: number,
  timeS: number,
  /** false when the readout model draws the depthwise leakage itself. */
  depthwiseLeakage: boolean,
): FoldedNetwork {
  // One draw per chip: the hook is seeded by (chip seed, step 0, layer name), the kind given explicitly.
  const perturb = deviceWeightNoiseHook(hardware, {
    seed: chipSeed,
    noise: config.robustness.noise,
    timeS,
    depthwiseLeakage,
    weightBits: (name) => network.layers.find((layer) => layer.shape.name === name)?.shape.weightBits,
  });
  return {
    ...network,
    layers: network.layers.map((layer) => {
      const perturbed = tf.tidy(() => {
        const kernel = tf.tensor(layer.kernel, layer.kernelShape, 'float32');
        return perturb(layer.shape.name, kernel, { step: 0, kind: layer.shape.kind });
      });
      const kernel = perturbed.dataSync() as Float32Array;
      perturbed.dispose();
      return { ...layer, kernel };
    }),
  };
}

/** Each layer's ADC readout error on `hardware`, ADC ranges calibrated on `calibration` as the chip does. */
function adcReadoutErrors(
  network: FoldedNetwork,
  hardware: HardwareConfig,
  config: RunConfig,
  calibration: EvaluationImages,
  timeS: number,
): LayerReadoutError[] {
  const program = new ChipProgram(network, hardware, noiseSettings(config.robustness.noise ?? {}));
  return calibratedReadoutErrors(program, forwardOver(network, calibration), timeS);
}
