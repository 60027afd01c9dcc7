/**
 * A short training of a supernet (or of one path of it, with `supernet.fixedPath` set) for the interop
 * benchmarks: enough steps that the logits carry real class evidence, far from a converged network. The
 * learning-rate schedule of SupernetTrainer: warm-up over 20 steps to 0.1, then down to 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Splits } from '../data/dataset';
import type { Supernet } from '../models/supernet';
import { batchForStep, SupernetTrainer } from '../models/supernetTrainer';

const BATCH = 64;

export function trainBriefly(
  supernet: Supernet,
  splits: Splits,
  inputShape: readonly [number, number, number],
  steps: number,
  seed: number,
): void {
  const trainer = new SupernetTrainer(supernet, { peak: 0.1, totalSteps: steps, warmupSteps: 20, final: 0 });
  try {
    for (let step = 0; step < steps; step++) {
      const batch = batchForStep(splits.train, BATCH, seed, step);
      const images = tf.tensor4d(batch.x, [BATCH, ...inputShape]);
      const labels = tf.tensor1d(batch.y, 'int32');
      trainer.trainStep(images, labels);
      tf.dispose([images, labels]);
    }
  } finally {
    trainer.dispose();
  }
}
