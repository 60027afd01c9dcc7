/**
 * Fashion-MNIST (Xiao et al. 2017): 60,000 training + 10,000 test 28×28 grey images in 10 classes, read
 * from Debian's `dataset-fashion-mnist` package or from a directory the user names.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DatasetError, type LabelledImages, loadIdxPair } from './idx';

export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export type Split = 'train' | 'test';

const FILE_STEMS: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** Finds `<stem>.gz` or `<stem>` in `dir`. */
function locate(dir: string, stem: string): string {
  for (const candidate of [`${stem}.gz`, stem]) {
    const file = path.join(dir, candidate);
    if (existsSync(file)) return file;
  }
  throw new DatasetError(
    `${path.join(dir, `${stem}.gz`)}: not found. ` +
      (dir === DEBIAN_FASHION_MNIST_DIR
        ? 'Install it with `apt-get install dataset-fashion-mnist` (npm run setup does this as root), or set dataset.dir to a directory holding the IDX files.'
        : 'dataset.dir must hold the four (Fashion-)MNIST IDX files, gzip-compressed or not.'),
  );
}

export async function loadFashionMnist(
  split: Split,
  dir = DEBIAN_FASHION_MNIST_DIR,
): Promise<LabelledImages> {
  const stems = FILE_STEMS[split];
  return loadIdxPair({ images: locate(dir, stems.images), labels: locate(dir, stems.labels) });
}

export function fashionMnistInstalled(dir = DEBIAN_FASHION_MNIST_DIR): boolean {
  return Object.values(FILE_STEMS).every(({ images, labels }) =>
    [images, labels].every(
      (stem) => existsSync(path.join(dir, `${stem}.gz`)) || existsSync(path.join(dir, stem)),
    ),
  );
}
