/**
 * Stage 2's noisy accuracy of one candidate, for robustAccuracyMean / robustAccuracyP5 objectives and
 * constraints: its recalibrated subnet on a few Monte-Carlo samples of the chip its genome describes, on
 * the first evolution.robustImages validation images, read evolution.robustDriftSeconds after programming
 * (default robustness.reportAt). This is variation-aware search as NACIM does it (Jiang et al., "Device-
 * Circuit-Architecture Co-Exploration for Computing-in-Memory Neural Accelerators", IEEE TC 2021): the
 * search sees each design's accuracy under device variation, not only its digital accuracy.
 *
 * Two noise paths, both from the device models of hardware/noise (the ones stage 3 samples):
 * - 'chip': the simulated chip itself (evaluator/simulator.ts: bit slicing, DAC/ADC, programming
 *   error, drift, read noise, stuck-at faults), with the ADC ranges calibrated on training images;
 * - 'weight': the same cell model collapsed to one Gaussian per weight plus stuck-at faults
 *   (hardware/noise/weightNoise.ts), run through the digital folded network: no ADC, no per-read noise
 *   inside an array's partial sums, a fraction of the cost.
 * The chips are drawn from seeds of their own ('search-chip'), independent of stage 3's ('chip') and stage
 * 4's ('final-chip'), so stage 3 measures the front on chips the search never selected for.
 */
import * as tf from '@tensorflow/tfjs-core';
import { searchDriftSeconds, type RunConfig } from '../config/schema';
import { deriveSeed } from '../common/rng';
import type { Splits } from '../data/dataset';
import { SimulatorEvaluator, sampleSeed } from '../evaluator/simulator';
import { accuracyStats } from '../evaluator/statistics';
import { deviceWeightNoiseHook } from '../hardware/noise/weightNoise';
import type { HardwareConfig } from '../hardware/types';
import type { FoldedNetwork } from '../models/folded';
import { foldedAccuracy, forwardFolded } from '../models/inference';
import { firstImages } from './evaluationImages';

/** ADC-range calibration images of stage 2's chips (training images; stage 3 uses 256). */
export const SEARCH_ADC_CALIBRATION_IMAGES = 128;

export interface SearchRobustness {
  robustAccuracyMean: number;
  robustAccuracyP5: number;
  /** Each chip's accuracy, in sample order. */
  accuracies: number[];
  driftSeconds: number;
  model: 'chip' | 'weight';
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
  model: 'chip' | 'weight' = config.evolution.robustModel,
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
    accuracies = [];
    for (let i = 0; i < samples; i++) {
      // One draw per chip: the hook is seeded by (chip seed, step 0, layer name), the kind given explicitly.
      const perturb = deviceWeightNoiseHook(hardware, {
        seed: sampleSeed(seed, i),
        noise: config.robustness.noise,
        timeS,
        weightBits: (name) => network.layers.find((layer) => layer.shape.name === name)?.shape.weightBits,
      });
      const noisy: FoldedNetwork = {
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
      accuracies.push(foldedAccuracy(noisy, data.images, data.labels));
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
