/**
 * The images an evaluation measures, in the form an evaluator needs. The built-in simulator takes them
 * from memory; an external evaluator loads its images itself (PROTOCOL.md: a dataset reference). The test
 * split's first N images are referenced where they lie; any other selection (the validation images are a
 * seeded choice from the training split) is written once as an IDX pair the reference points to, so the
 * evaluator reads exactly the images imcnas would have used.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Split } from '../data/dataset';
import { DEBIAN_FASHION_MNIST_DIR } from '../data/fashionMnist';
import { encodeIdx } from '../data/idx';
import type { RunConfig } from '../config/schema';
import type { EvaluationImages } from '../evaluator/types';
import { sha256, writeFileAtomic } from '../storage/atomic';

/** The first `count` images of a split, in memory. */
export function firstImages(split: Split, count: number): EvaluationImages {
  const n = Math.min(count, split.count);
  const pixels = split.height * split.width * split.channels;
  return {
    images: split.x.subarray(0, n * pixels),
    labels: split.y.subarray(0, n),
    shape: [split.height, split.width, split.channels],
  };
}

/** The test split's first images, with a reference to where they lie in the configured dataset. */
export function testImages(config: RunConfig, test: Split, count: number): EvaluationImages {
  const data = firstImages(test, count);
  const dir =
    config.dataset.dir ?? (config.dataset.name === 'fashion-mnist' ? DEBIAN_FASHION_MNIST_DIR : undefined);
  return {
    ...data,
    reference: {
      name: config.dataset.name,
      split: 'test',
      ...(dir ? { dir } : {}),
      offset: 0,
      count: data.labels.length,
    },
  };
}

/**
 * A selection of images (validation) with a reference an external evaluator can load: an IDX pair under
 * `dir`, named as a training split (train-images-idx3-ubyte, train-labels-idx1-ubyte). Pixels are stored as
 * bytes (x · 255, exact for images loaded from IDX). Written atomically, once per content.
 */
export async function referencedImages(dir: string, data: EvaluationImages): Promise<EvaluationImages> {
  const [height, width, channels] = data.shape;
  if (channels !== 1) throw new RangeError(`IDX images are greyscale; these have ${channels} channels`);
  const count = data.labels.length;
  const bytes = Uint8Array.from(data.images, (x) => Math.round(x * 255));
  const labels = Uint8Array.from(data.labels);
  const imageFile = encodeIdx([count, height, width], bytes);
  const folder = path.join(dir, `images-${sha256(imageFile).slice(0, 16)}`);
  const images = path.join(folder, 'train-images-idx3-ubyte');
  if (!existsSync(images)) {
    await writeFileAtomic(path.join(folder, 'train-labels-idx1-ubyte'), encodeIdx([count], labels));
    await writeFileAtomic(images, imageFile);
  }
  return { ...data, reference: { name: 'idx', split: 'train', dir: folder, offset: 0, count } };
}
