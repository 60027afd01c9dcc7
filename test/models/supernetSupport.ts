/**
 * Small search spaces and helpers for the supernet tests: narrow widths and a strided stem keep every
 * forward pass to milliseconds on the wasm backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { OPERATOR_NAMES } from '../../search/architecture';
import { resolveSearchSpace } from '../../search/space/parse';
import type { SearchSpace, SearchSpaceInput } from '../../search/space/schema';

/** Every operator of the table, two stages of two slots, 4–12 channels. */
export function tinySpace(
  overrides: NonNullable<SearchSpaceInput['network']> = {},
  quantization: SearchSpaceInput['quantization'] = {},
): SearchSpace {
  return resolveSearchSpace({
    network: {
      stem: { channels: 8, stride: 2 },
      stages: [
        { blocks: 2, widths: [4, 8], stride: 1 },
        { blocks: 2, widths: [8, 12], stride: 2 },
      ],
      operators: [...OPERATOR_NAMES],
      ...overrides,
    },
    quantization,
  });
}

/** Seeded uniform images in [0, 1] (NHWC) and labels. */
export function randomBatch(
  count: number,
  seed: number,
  shape: [number, number, number] = [28, 28, 1],
): {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
} {
  const rng = new Rng(seed);
  const pixels = new Float32Array(count * shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.next();
  const labels = Int32Array.from({ length: count }, () => rng.int(10));
  return { images: tf.tensor4d(pixels, [count, ...shape]), labels: tf.tensor1d(labels, 'int32') };
}

/** max|a − b| / max|b| (0 when both are zero). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  return scale === 0 ? worst : worst / scale;
}
