/**
 * A small multi-layer perceptron: the foundation's real-but-tiny workload, and a baseline the supernet
 * must beat. He-normal initialisation (He et al. 2015) from the run's seeded RNG.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../common/rng';
import type { TrainableModel } from './trainable';

function heNormal(rng: Rng, fanIn: number, fanOut: number): tf.Tensor2D {
  const values = new Float32Array(fanIn * fanOut);
  const scale = Math.sqrt(2 / fanIn);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal() * scale;
  return tf.tensor2d(values, [fanIn, fanOut]);
}

export class Mlp implements TrainableModel {
  readonly variables = new Map<string, tf.Variable>();

  constructor(
    private readonly inputSize: number,
    hidden: number,
    numClasses: number,
    seed: number,
  ) {
    const rng = new Rng(seed);
    this.variables.set('dense1/kernel', tf.variable(heNormal(rng, inputSize, hidden), true, 'dense1/kernel'));
    this.variables.set('dense1/bias', tf.variable(tf.zeros([hidden]), true, 'dense1/bias'));
    this.variables.set(
      'dense2/kernel',
      tf.variable(heNormal(rng, hidden, numClasses), true, 'dense2/kernel'),
    );
    this.variables.set('dense2/bias', tf.variable(tf.zeros([numClasses]), true, 'dense2/bias'));
  }

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], this.inputSize]) as tf.Tensor2D;
      const v = (name: string) => this.variables.get(name)!;
      const hidden = tf.relu(tf.add(tf.matMul(flat, v('dense1/kernel')), v('dense1/bias')));
      return tf.add(tf.matMul(hidden, v('dense2/kernel')), v('dense2/bias')) as tf.Tensor2D;
    });
  }

  loss(x: tf.Tensor4D, labels: tf.Tensor1D): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.logits(x);
      const oneHot = tf.oneHot(labels, logits.shape[1]);
      return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
    });
  }
}
