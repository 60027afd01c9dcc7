/**
 * Dataset splits for training, validation and test: validation is carved from the training images with a
 * seeded permutation, so the same seed always holds out the same images and the test split stays untouched
 * until the final evaluation. Images become float32 in [0, 1]; batches are seeded shuffles per epoch.
 */
import { Rng, deriveSeed } from '../common/rng';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from './fashionMnist';
import { DatasetError, type LabelledImages } from './idx';

export interface DatasetSpec {
  name: 'fashion-mnist' | 'idx';
  dir?: string;
  trainSubset?: number;
  validation: number;
}

/** A split as the trainer sees it: NHWC float32 pixels in [0, 1] and integer labels. */
export interface Split {
  x: Float32Array;
  y: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

export interface Splits {
  train: Split;
  validation: Split;
  test: Split;
}

function toSplit(source: LabelledImages, indices: ArrayLike<number>): Split {
  const pixels = source.height * source.width;
  const x = new Float32Array(indices.length * pixels);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i] * pixels;
    for (let p = 0; p < pixels; p++) x[i * pixels + p] = source.images[from + p] / 255;
    y[i] = source.labels[indices[i]];
  }
  return {
    x,
    y,
    count: indices.length,
    height: source.height,
    width: source.width,
    channels: 1,
    numClasses: source.numClasses,
  };
}

export async function loadSplits(spec: DatasetSpec, seed: number): Promise<Splits> {
  const dir = spec.name === 'idx' ? spec.dir! : (spec.dir ?? DEBIAN_FASHION_MNIST_DIR);
  const [trainSource, testSource] = await Promise.all([
    loadFashionMnist('train', dir),
    loadFashionMnist('test', dir),
  ]);
  const order = new Rng(deriveSeed(seed, 'dataset-split')).shuffle(
    Array.from({ length: trainSource.count }, (_, i) => i),
  );
  if (spec.validation >= trainSource.count) {
    throw new DatasetError(
      `dataset.validation (${spec.validation}) must be smaller than the ${trainSource.count} training images`,
    );
  }
  const validationIndices = order.slice(0, spec.validation);
  const rest = order.slice(spec.validation);
  const trainIndices = spec.trainSubset ? rest.slice(0, Math.min(spec.trainSubset, rest.length)) : rest;
  return {
    train: toSplit(trainSource, trainIndices),
    validation: toSplit(trainSource, validationIndices),
    test: toSplit(
      testSource,
      Array.from({ length: testSource.count }, (_, i) => i),
    ),
  };
}

/** The last few epochs' batches: a training loop asks for one batch of the same epoch every step. */
const recentEpochs = new Map<string, readonly (readonly number[])[]>();
const RECENT_EPOCHS_KEPT = 4;

/**
 * Batch index lists for one epoch: a seeded permutation cut into batches (the last one may be short).
 * Memoized: shuffling all of a 55,000-image split on every step cost ~5 % of a retraining step.
 */
export function epochBatches(
  count: number,
  batchSize: number,
  seed: number,
  epoch: number,
): readonly (readonly number[])[] {
  const key = `${count}/${batchSize}/${seed}/${epoch}`;
  const cached = recentEpochs.get(key);
  if (cached) return cached;
  const order = new Rng(deriveSeed(seed, 'epoch', epoch)).shuffle(Array.from({ length: count }, (_, i) => i));
  const batches: (readonly number[])[] = [];
  for (let start = 0; start < count; start += batchSize)
    batches.push(Object.freeze(order.slice(start, start + batchSize)));
  const frozen = Object.freeze(batches);
  recentEpochs.set(key, frozen);
  if (recentEpochs.size > RECENT_EPOCHS_KEPT) recentEpochs.delete(recentEpochs.keys().next().value!);
  return frozen;
}

/** Gathers the rows of `split` named by `indices` into contiguous buffers (the trainer's batch). */
export function gatherBatch(split: Split, indices: readonly number[]): { x: Float32Array; y: Int32Array } {
  const pixels = split.height * split.width * split.channels;
  const x = new Float32Array(indices.length * pixels);
  const y = new Int32Array(indices.length);
  indices.forEach((index, row) => {
    x.set(split.x.subarray(index * pixels, (index + 1) * pixels), row * pixels);
    y[row] = split.y[index];
  });
  return { x, y };
}
