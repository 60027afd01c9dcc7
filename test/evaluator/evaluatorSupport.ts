/**
 * Shared setup of the evaluator tests: the trained Fashion-MNIST network (scripts/robustness-demo.ts, one
 * epoch, stored as evaluatorTrainedNet.json), a few hundred test images, calibration images, the chip.
 */
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { fashionMnistInstalled, loadFashionMnist } from '../../data/fashionMnist';
import { foldedNetworkFromJson, type FoldedNetworkJson } from '../../evaluator/serialize';
import type { EvaluationImages, RobustnessRequest } from '../../evaluator/types';
import type { NoiseSettings } from '../../hardware/noise/settings';
import type { HardwareConfig } from '../../hardware/types';
import { RRAM_128_CHIP } from '../hardware/analogSupport';

export const trainedNet = foldedNetworkFromJson(
  JSON.parse(readFileSync(path.join(__dirname, 'evaluatorTrainedNet.json'), 'utf8')) as FoldedNetworkJson,
);

export const CHIP: HardwareConfig = { ...RRAM_128_CHIP };

export const haveFashionMnist = fashionMnistInstalled();

/** `count` images of a split from `start`, pixels in [0, 1]. */
export async function fashionImages(
  split: 'train' | 'test',
  start: number,
  count: number,
): Promise<EvaluationImages> {
  const source = await loadFashionMnist(split);
  const pixels = source.height * source.width;
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < count * pixels; i++) images[i] = source.images[start * pixels + i]! / 255;
  return {
    images,
    labels: Int32Array.from(source.labels.subarray(start, start + count)),
    shape: [source.height, source.width, 1],
  };
}

export function firstOf(data: EvaluationImages, count: number): EvaluationImages {
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  return { ...data, images: data.images.subarray(0, count * pixels), labels: data.labels.subarray(0, count) };
}

export function requestFor(
  data: EvaluationImages,
  calibration: EvaluationImages,
  noise: Partial<NoiseSettings>,
  overrides: Partial<RobustnessRequest> = {},
): RobustnessRequest {
  return {
    candidateId: 'c',
    network: trainedNet,
    hardware: CHIP,
    noise,
    samples: 3,
    seed: 11,
    data,
    calibration,
    ...overrides,
  };
}
