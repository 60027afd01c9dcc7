/**
 * The networks the tensor benchmark and tests train: built from tfjs-core ops with tf.Variables, the way
 * the product's models are, so they exercise the same kernels and gradient paths on every backend.
 *
 * - reference network (batch norm: `batchNormTraining`): stem conv 3×3 16ch → BN → relu, conv 3×3 32ch stride 2 → BN → relu,
 *   depthwise 3×3 → BN → relu, pointwise 1×1 32ch → BN → relu, global average pool, dense 10.
 * - small CNN: conv 3×3 16 → relu → max pool 2, conv 3×3 32 → relu → max pool 2, conv 3×3 32 → relu,
 *   global average pool, dense 10 (fused conv + bias + relu, no batch norm).
 *
 * Both take NHWC images (28×28×1 by default) and return logits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTraining } from './batchNorm';

export interface TrainableNet {
  readonly name: string;
  /** Parameters the optimizer updates. */
  readonly trainable: tf.Variable[];
  /** Logits for a batch; `training` uses batch statistics in batch norm and updates the running ones. */
  forward(images: tf.Tensor4D, training: boolean): tf.Tensor2D;
  dispose(): void;
}

export interface NetOptions {
  /** Seeds the weight initialization (the same seed gives the same weights on every backend). */
  seed?: number;
  inputChannels?: number;
  classes?: number;
  /** Reference network only: channels × this (bench tensor's `wide_` figures use 4: 64 and 128). */
  width?: number;
}

const BATCH_NORM_EPSILON = 1e-3;
const BATCH_NORM_MOMENTUM = 0.9;

/** Builds variables with He-normal weights, seeded per variable so the order of creation does not matter. */
class ParameterFactory {
  readonly trainable: tf.Variable[] = [];
  readonly state: tf.Variable[] = [];
  private counter = 0;

  constructor(
    private readonly seed: number,
    private readonly prefix: string,
  ) {}

  heNormal(name: string, shape: number[], fanIn: number): tf.Variable {
    const std = Math.sqrt(2 / fanIn);
    const seed = this.seed * 1000 + this.counter++;
    const variable = tf.variable(
      tf.tidy(() => tf.mul(tf.truncatedNormal(shape, 0, 1, 'float32', seed), std)),
      true,
      `${this.prefix}/${name}`,
    );
    this.trainable.push(variable);
    return variable;
  }

  constant(name: string, shape: number[], value: number, trainable: boolean): tf.Variable {
    const variable = tf.variable(tf.fill(shape, value), trainable, `${this.prefix}/${name}`);
    (trainable ? this.trainable : this.state).push(variable);
    return variable;
  }
}

let netCounter = 0;

class BatchNorm {
  private readonly gamma: tf.Variable<tf.Rank.R1>;
  private readonly beta: tf.Variable<tf.Rank.R1>;
  private readonly runningMean: tf.Variable<tf.Rank.R1>;
  private readonly runningVariance: tf.Variable<tf.Rank.R1>;

  constructor(params: ParameterFactory, name: string, channels: number) {
    this.gamma = params.constant(`${name}/gamma`, [channels], 1, true) as tf.Variable<tf.Rank.R1>;
    this.beta = params.constant(`${name}/beta`, [channels], 0, true) as tf.Variable<tf.Rank.R1>;
    this.runningMean = params.constant(
      `${name}/running_mean`,
      [channels],
      0,
      false,
    ) as tf.Variable<tf.Rank.R1>;
    this.runningVariance = params.constant(
      `${name}/running_variance`,
      [channels],
      1,
      false,
    ) as tf.Variable<tf.Rank.R1>;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    if (!training) {
      return tf.batchNorm4d(
        x,
        this.runningMean,
        this.runningVariance,
        this.beta,
        this.gamma,
        BATCH_NORM_EPSILON,
      );
    }
    return batchNormTraining(x, this.gamma, this.beta, {
      epsilon: BATCH_NORM_EPSILON,
      // Running statistics are state, not parameters: assign keeps the blended value past the op's scope.
      onStatistics: (mean, variance) => {
        this.runningMean.assign(
          tf.add(tf.mul(this.runningMean, BATCH_NORM_MOMENTUM), tf.mul(mean, 1 - BATCH_NORM_MOMENTUM)),
        );
        this.runningVariance.assign(
          tf.add(
            tf.mul(this.runningVariance, BATCH_NORM_MOMENTUM),
            tf.mul(variance, 1 - BATCH_NORM_MOMENTUM),
          ),
        );
      },
    });
  }
}

function makeNet(
  name: string,
  params: ParameterFactory,
  forward: (images: tf.Tensor4D, training: boolean) => tf.Tensor2D,
): TrainableNet {
  return {
    name,
    trainable: params.trainable,
    forward: (images, training) => tf.tidy(() => forward(images, training)),
    dispose: () => tf.dispose([...params.trainable, ...params.state]),
  };
}

/** The benchmark's reference network (see the file comment). */
export function createReferenceNet(options: NetOptions = {}): TrainableNet {
  const inputChannels = options.inputChannels ?? 1;
  const classes = options.classes ?? 10;
  const width = options.width ?? 1;
  if (!Number.isInteger(width) || width < 1) {
    throw new Error(`createReferenceNet: width must be a positive integer (got ${width})`);
  }
  const [c1, c2] = [16 * width, 32 * width];
  const params = new ParameterFactory(options.seed ?? 1, `reference${netCounter++}`);
  const stem = params.heNormal('stem/filter', [3, 3, inputChannels, c1], 9 * inputChannels);
  const stemBn = new BatchNorm(params, 'stem/bn', c1);
  const reduce = params.heNormal('reduce/filter', [3, 3, c1, c2], 9 * c1);
  const reduceBn = new BatchNorm(params, 'reduce/bn', c2);
  const depthwise = params.heNormal('depthwise/filter', [3, 3, c2, 1], 9);
  const depthwiseBn = new BatchNorm(params, 'depthwise/bn', c2);
  const pointwise = params.heNormal('pointwise/filter', [1, 1, c2, c2], c2);
  const pointwiseBn = new BatchNorm(params, 'pointwise/bn', c2);
  const dense = params.heNormal('dense/kernel', [c2, classes], c2);
  const denseBias = params.constant('dense/bias', [classes], 0, true);

  return makeNet('reference', params, (images, training) => {
    let h = tf.relu(stemBn.apply(tf.conv2d(images, stem as tf.Tensor4D, 1, 'same'), training));
    h = tf.relu(reduceBn.apply(tf.conv2d(h, reduce as tf.Tensor4D, 2, 'same'), training));
    h = tf.relu(depthwiseBn.apply(tf.depthwiseConv2d(h, depthwise as tf.Tensor4D, 1, 'same'), training));
    h = tf.relu(pointwiseBn.apply(tf.conv2d(h, pointwise as tf.Tensor4D, 1, 'same'), training));
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, dense as tf.Tensor2D), denseBias);
  });
}

/** A small plain CNN: three conv layers of 16–32 channels (see the file comment). */
export function createSmallCnn(options: NetOptions = {}): TrainableNet {
  const inputChannels = options.inputChannels ?? 1;
  const classes = options.classes ?? 10;
  const params = new ParameterFactory(options.seed ?? 1, `smallcnn${netCounter++}`);
  const layers = [
    { filter: params.heNormal('conv1/filter', [3, 3, inputChannels, 16], 9 * inputChannels), channels: 16 },
    { filter: params.heNormal('conv2/filter', [3, 3, 16, 32], 9 * 16), channels: 32 },
    { filter: params.heNormal('conv3/filter', [3, 3, 32, 32], 9 * 32), channels: 32 },
  ].map((layer, i) => ({ ...layer, bias: params.constant(`conv${i + 1}/bias`, [layer.channels], 0, true) }));
  const dense = params.heNormal('dense/kernel', [32, classes], 32);
  const denseBias = params.constant('dense/bias', [classes], 0, true);

  return makeNet('small-cnn', params, (images) => {
    let h: tf.Tensor4D = images;
    layers.forEach((layer, i) => {
      h = tf.fused.conv2d({
        x: h,
        filter: layer.filter as tf.Tensor4D,
        bias: layer.bias,
        strides: 1,
        pad: 'same',
        activation: 'relu',
      });
      if (i < layers.length - 1) h = tf.maxPool(h, 2, 2, 'same');
    });
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, dense as tf.Tensor2D), denseBias);
  });
}

/** Mean softmax cross-entropy of the net's logits against one-hot labels. */
export function crossEntropyLoss(
  net: TrainableNet,
  images: tf.Tensor4D,
  oneHotLabels: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(oneHotLabels, net.forward(images, true)) as tf.Scalar);
}

/** One optimizer step; returns the loss before the update. */
export function trainStep(
  net: TrainableNet,
  optimizer: tf.Optimizer,
  images: tf.Tensor4D,
  oneHotLabels: tf.Tensor2D,
): number {
  const cost = optimizer.minimize(() => crossEntropyLoss(net, images, oneHotLabels), true, net.trainable);
  if (!cost) throw new Error('optimizer returned no cost');
  const value = cost.dataSync()[0]!;
  cost.dispose();
  return value;
}

/** A batch of synthetic images and one-hot labels (benchmarks and tests: only shapes matter). */
export function syntheticBatch(
  batchSize: number,
  options: { height?: number; width?: number; channels?: number; classes?: number; seed?: number } = {},
): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  const { height = 28, width = 28, channels = 1, classes = 10, seed = 7 } = options;
  return tf.tidy(() => {
    const images = tf.randomUniform(
      [batchSize, height, width, channels],
      0,
      1,
      'float32',
      seed,
    ) as tf.Tensor4D;
    const classIds = tf.randomUniform([batchSize], 0, classes, 'int32', seed + 1) as tf.Tensor1D;
    return { images, labels: tf.cast(tf.oneHot(classIds, classes), 'float32') as tf.Tensor2D };
  });
}
