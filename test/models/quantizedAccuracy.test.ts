/**
 * Fake quantization on real data: a tiny network trained for a few seconds on Fashion-MNIST in float loses
 * little accuracy when evaluated at 8 bits and a lot at 2 bits (Jacob et al. 2018 report < 1 % at 8 bits;
 * 2-bit symmetric per-channel weights keep only each channel's largest weights).
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadSplits, type Splits } from '../../data/dataset';
import { DEBIAN_FASHION_MNIST_DIR } from '../../data/fashionMnist';
import { resolveSearchSpace } from '../../search/space/parse';
import { initTensorEngine } from '../../tensor/backend';
import { Supernet, type PathSpec } from '../../models/supernet';
import {
  SupernetTrainer,
  batchForStep,
  calibrationBatches,
  splitAccuracy,
} from '../../models/supernetTrainer';

const haveData = existsSync(path.join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const describeWithData = haveData ? describe : describe.skip;

function atBits(path: PathSpec, bits: number): PathSpec {
  const pair = { weightBits: bits, activationBits: bits };
  return {
    architecture: path.architecture,
    quantization: { stem: pair, head: pair, blocks: path.quantization.blocks.map((b) => (b ? pair : null)) },
  };
}

describeWithData('fake quantization on Fashion-MNIST', () => {
  let splits: Splits;
  beforeAll(async () => {
    await initTensorEngine({ backend: 'wasm' });
    splits = await loadSplits({ name: 'fashion-mnist', trainSubset: 4000, validation: 1000 }, 3);
  });

  it('costs little accuracy at 8 bits and a lot at 2 bits', () => {
    const space = resolveSearchSpace({
      network: {
        stem: { channels: 16, stride: 2 },
        stages: [{ blocks: 1, widths: [32], stride: 2 }],
        operators: ['conv3'],
      },
      quantization: { weightBits: [2, 8], activationBits: [2, 8] },
    });
    const supernet = new Supernet(space, { seed: 1, quantize: false });
    const path = supernet.largestPath();
    supernet.fixedPath = path;
    const steps = 200;
    const trainer = new SupernetTrainer(supernet, { peak: 0.1, totalSteps: steps, warmupSteps: 5, final: 0 });
    const calibration = calibrationBatches(splits.train, 100, 4, 3);
    try {
      while (trainer.step < steps) {
        const batch = batchForStep(splits.train, 32, 3, trainer.step);
        const images = tf.tensor4d(batch.x, [32, 28, 28, 1]);
        const labels = tf.tensor1d(batch.y, 'int32');
        trainer.trainStep(images, labels);
        tf.dispose([images, labels]);
      }
      const accuracyAt = (bits: number | null): number => {
        const evaluated = bits === null ? path : atBits(path, bits);
        supernet.recalibrateBatchNorm(evaluated, calibration, { quantize: bits !== null });
        return splitAccuracy(splits.validation, (images) =>
          bits === null
            ? supernet.forwardPath(images, evaluated, {
                training: false,
                evaluation: 'running',
                quantize: false,
              })
            : supernet.forwardPath(images, evaluated, { training: false }),
        );
      };
      const float = accuracyAt(null);
      const eightBits = accuracyAt(8);
      const twoBits = accuracyAt(2);
      // A few seconds of training: far from converged, but far above chance (10 %).
      expect(float).toBeGreaterThan(0.6);
      expect(Math.abs(float - eightBits)).toBeLessThan(0.02);
      expect(float - twoBits).toBeGreaterThan(0.15);
    } finally {
      trainer.dispose();
      supernet.dispose();
      tf.dispose(calibration);
    }
  });
});
