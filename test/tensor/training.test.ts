/**
 * Whole training steps: the same gradients on wasm and cpu (and on native TensorFlow, when `npm run setup
 * -- --native` provisioned it: CI does) for models using every op family the product's models use, the
 * closed-form batch norm equal to the textbook one, and no leaks over many steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { initTensorEngine, silenceCpuBackendBanner, type BackendName } from '../../tensor/backend';
import { readProvision } from '../../tensor/nativePackage';
import { batchNormTraining } from '../../tensor/batchNorm';
import {
  createReferenceNet,
  createSmallCnn,
  crossEntropyLoss,
  syntheticBatch,
  trainStep,
} from '../../tensor/referenceNet';
import { randomHost, relativeError, type HostTensor } from './kernelTestSupport';

const TOLERANCE = 1e-4;

async function useBackend(name: BackendName): Promise<void> {
  await initTensorEngine({ backend: name, env: {} });
  silenceCpuBackendBanner();
}

/** Loss and gradients (host copies) of `loss` with respect to variables made from `weights`. */
function gradientsOf(
  weights: Record<string, HostTensor>,
  loss: (variables: Record<string, tf.Variable>) => tf.Scalar,
): { loss: number; gradients: Record<string, Float32Array> } {
  const variables: Record<string, tf.Variable> = {};
  for (const [name, host] of Object.entries(weights)) {
    variables[name] = tf.variable(tf.tensor(host.values, host.shape), true, `${name}_${Math.random()}`);
  }
  const { value, grads } = tf.variableGrads(() => loss(variables), Object.values(variables));
  const result = {
    loss: value.dataSync()[0]!,
    gradients: Object.fromEntries(
      Object.entries(variables).map(([name, variable]) => [
        name,
        Float32Array.from(grads[variable.name]!.dataSync()),
      ]),
    ),
  };
  tf.dispose([value, grads, Object.values(variables)]);
  return result;
}

/** A model touching every op family the product builds networks from. */
function coverageWeights(rng: Rng): Record<string, HostTensor> {
  const scaled = (shape: number[], scale: number, offset = 0): HostTensor => {
    const host = randomHost(rng, shape);
    for (let i = 0; i < host.values.length; i++) host.values[i] = host.values[i]! * scale + offset;
    return host;
  };
  return {
    conv1: scaled([3, 3, 3, 8], 0.4),
    gamma1: scaled([8], 0.2, 1),
    beta1: scaled([8], 0.1),
    depthwise: scaled([3, 3, 8, 2], 0.4),
    gamma2: scaled([16], 0.2, 1),
    beta2: scaled([16], 0.1),
    separableDepthwise: scaled([3, 3, 16, 1], 0.4),
    separablePointwise: scaled([1, 1, 16, 12], 0.3),
    fusedConv: scaled([3, 3, 12, 12], 0.2),
    fusedConvBias: scaled([12], 0.1),
    fusedDepthwise: scaled([3, 3, 12, 1], 0.4),
    fusedDepthwiseBias: scaled([12], 0.1),
    dense: scaled([12, 5], 0.4),
    denseBias: scaled([5], 0.1),
  };
}

function coverageLoss(
  v: Record<string, tf.Variable>,
  images: tf.Tensor4D,
  labels: tf.Tensor2D,
  avgPoolPadding: 'same' | 'valid' = 'same',
): tf.Scalar {
  return tf.tidy(() => {
    const w = v as Record<string, tf.Tensor4D> & Record<string, tf.Tensor1D> & Record<string, tf.Tensor2D>;
    let h: tf.Tensor4D = tf.conv2d(images, w.conv1 as tf.Tensor4D, 1, 'same');
    // Batch norm the textbook way: moments + batchNorm, differentiated op by op.
    const { mean, variance } = tf.moments(h, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
    h = tf.relu(tf.batchNorm4d(h, mean, variance, w.beta1 as tf.Tensor1D, w.gamma1 as tf.Tensor1D, 1e-3));
    h = tf.maxPool(h, 2, 2, 'same');
    h = tf.relu6(tf.depthwiseConv2d(h, w.depthwise as tf.Tensor4D, 1, 'same'));
    h = batchNormTraining(h, w.gamma2 as tf.Tensor1D, w.beta2 as tf.Tensor1D, { epsilon: 1e-3 });
    h = tf.separableConv2d(
      h,
      w.separableDepthwise as tf.Tensor4D,
      w.separablePointwise as tf.Tensor4D,
      2,
      'same',
    );
    h = tf.fused.conv2d({
      x: h,
      filter: w.fusedConv as tf.Tensor4D,
      bias: w.fusedConvBias,
      strides: 1,
      pad: 'same',
      activation: 'relu',
    });
    h = tf.fused.depthwiseConv2d({
      x: h,
      filter: w.fusedDepthwise as tf.Tensor4D,
      bias: w.fusedDepthwiseBias,
      strides: 1,
      pad: 'valid',
      activation: 'relu6',
    });
    h = tf.avgPool(h, 2, 1, avgPoolPadding);
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(pooled, w.dense as tf.Tensor2D), w.denseBias as tf.Tensor1D);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  });
}

function expectSameGradients(
  wasm: ReturnType<typeof gradientsOf>,
  cpu: ReturnType<typeof gradientsOf>,
): void {
  expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(TOLERANCE);
  const errors = Object.fromEntries(
    Object.keys(cpu.gradients).map((name) => [
      name,
      relativeError(wasm.gradients[name]!, cpu.gradients[name]!),
    ]),
  );
  // Listing the offenders with their errors makes a failure say which gradient and by how much.
  expect(Object.entries(errors).filter(([, error]) => !(error <= TOLERANCE))).toEqual([]);
}

afterAll(async () => {
  await useBackend('wasm');
});

/** Loss and gradients of the every-op-family model on `backend` (fixed seeds: the same on every call). */
async function coverageGradientsOn(
  backend: BackendName,
  avgPoolPadding: 'same' | 'valid' = 'same',
): Promise<ReturnType<typeof gradientsOf>> {
  const rng = new Rng(201);
  const weights = coverageWeights(rng);
  // Unpadded pooling needs the last feature map wider than 1 (12 → 6 → 3 → 1; 16 → 8 → 4 → 2).
  const size = avgPoolPadding === 'same' ? 12 : 16;
  const images = randomHost(rng, [4, size, size, 3]);
  const labels = new Float32Array(4 * 5);
  for (let i = 0; i < 4; i++) labels[i * 5 + rng.int(5)] = 1;
  await useBackend(backend);
  const x = tf.tensor4d(images.values, images.shape as [number, number, number, number]);
  const y = tf.tensor2d(labels, [4, 5]);
  const result = gradientsOf(weights, (v) => coverageLoss(v, x, y, avgPoolPadding));
  tf.dispose([x, y]);
  return result;
}

/** Loss and gradients of the reference network (batch 8, 16×16×1: the cpu reference is slow at 28×28). */
async function referenceGradientsOn(backend: BackendName): Promise<ReturnType<typeof gradientsOf>> {
  await useBackend(backend);
  // Seeded initialization draws from a JavaScript generator: the same weights on every backend.
  const net = createReferenceNet({ seed: 3 });
  const { images, labels } = syntheticBatch(8, { seed: 11, height: 16, width: 16 });
  const { value, grads } = tf.variableGrads(() => crossEntropyLoss(net, images, labels), net.trainable);
  const result = {
    loss: value.dataSync()[0]!,
    gradients: Object.fromEntries(
      net.trainable.map((variable, i) => [`${i}`, Float32Array.from(grads[variable.name]!.dataSync())]),
    ),
  };
  tf.dispose([value, grads, images, labels]);
  net.dispose();
  return result;
}

describe('a full training step gives the same gradients on wasm and cpu', () => {
  test('model with conv, depthwise, separable, fused, pooling, batch norm and dense layers', async () => {
    expectSameGradients(await coverageGradientsOn('wasm'), await coverageGradientsOn('cpu'));
  });

  test('the reference network (batch 8, 16×16×1: the cpu reference is slow at 28×28)', async () => {
    expectSameGradients(await referenceGradientsOn('wasm'), await referenceGradientsOn('cpu'));
  });
});

// Runs where the native backend is provisioned; CI provisions it, so there a missing one is a failure.
const nativeProvisioned = readProvision() !== null;
const describeNative = nativeProvisioned || process.env.CI ? describe : describe.skip;

describeNative('native TensorFlow gives the same gradients as wasm (within the kernel tolerance)', () => {
  test('the native backend loads from the provisioned cache', async () => {
    const report = await initTensorEngine({ backend: 'tensorflow', env: {} });
    expect(report).toMatchObject({ backend: 'tensorflow', nativePackage: '@tensorflow/tfjs-node' });
    expect(tf.getBackend()).toBe('tensorflow');
  });

  test('model with conv, depthwise, separable, fused, pooling, batch norm and dense layers', async () => {
    // Average pooling unpadded: with 'same' padding tfjs's cpu and wasm AvgPoolGrad differ from
    // TensorFlow's at the border (next test), which is a difference of definitions, not of precision.
    expectSameGradients(
      await coverageGradientsOn('tensorflow', 'valid'),
      await coverageGradientsOn('wasm', 'valid'),
    );
  });

  test("average pooling with 'same' padding: native's gradient is the adjoint of the forward pass", async () => {
    // Forward, both backends average only the cells inside the image (2×2 window, stride 1, padding
    // below and right). The adjoint therefore spreads dy(i, j) over 4, 2, 2 or 1 cells; TensorFlow does;
    // tfjs's cpu and wasm AvgPoolGrad divide by the full window everywhere (0.75 instead of 1.25 at (0, 1)).
    const gradientOn = async (backend: BackendName) => {
      await useBackend(backend);
      return tf.tidy(() => {
        const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
        const forward = (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 1, 'same');
        return Array.from(
          tf
            .grad(forward)(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), dy)
            .dataSync(),
        );
      });
    };
    expect(await gradientOn('tensorflow')).toEqual([
      1 / 4,
      1 / 4 + 2 / 2,
      1 / 4 + 3 / 2,
      1 / 4 + 2 / 2 + 3 / 2 + 4,
    ]);
    expect(await gradientOn('wasm')).toEqual([
      1 / 4,
      1 / 4 + 2 / 4,
      1 / 4 + 3 / 4,
      1 / 4 + 2 / 4 + 3 / 4 + 4 / 4,
    ]);
  });

  test('the reference network', async () => {
    expectSameGradients(await referenceGradientsOn('tensorflow'), await referenceGradientsOn('wasm'));
  });

  test('training the reference network learns and leaks no tensors', async () => {
    await useBackend('tensorflow');
    const net = createReferenceNet({ seed: 6 });
    const { images, labels } = brightnessTask(8);
    const optimizer = tf.train.momentum(0.01, 0.9);
    const losses: number[] = [];
    const tensorCounts: number[] = [];
    for (let step = 0; step < 30; step++) {
      losses.push(trainStep(net, optimizer, images, labels));
      tensorCounts.push(tf.memory().numTensors);
    }
    expect(new Set(tensorCounts.slice(1)).size).toBe(1);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    tf.dispose([images, labels]);
    net.dispose();
    optimizer.dispose();
  });
});

describe('batchNormTraining', () => {
  test('equals the textbook moments + batchNorm, values and gradients', async () => {
    await useBackend('cpu');
    const rng = new Rng(202);
    const x = randomHost(rng, [3, 5, 4, 6]);
    const gamma = randomHost(rng, [6]);
    const beta = randomHost(rng, [6]);
    const dy = randomHost(rng, [3, 5, 4, 6]);
    const compute = (fused: boolean) =>
      tf.tidy(() => {
        const xt = tf.tensor4d(x.values, [3, 5, 4, 6]);
        const g = tf.tensor1d(gamma.values as Float32Array);
        const b = tf.tensor1d(beta.values as Float32Array);
        const upstream = tf.tensor4d(dy.values, [3, 5, 4, 6]);
        const f = (input: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D): tf.Tensor4D => {
          if (fused) return batchNormTraining(input, scale, offset, { epsilon: 1e-3 });
          const { mean, variance } = tf.moments(input, [0, 1, 2]) as {
            mean: tf.Tensor1D;
            variance: tf.Tensor1D;
          };
          return tf.batchNorm4d(input, mean, variance, offset, scale, 1e-3);
        };
        const value = f(xt, g, b);
        const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
          f(a as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D),
        )([xt, g, b], upstream);
        return [value, ...grads].map((t) => Float32Array.from(t.dataSync()));
      });
    const fused = compute(true);
    const textbook = compute(false);
    fused.forEach((values, i) => expect(relativeError(values, textbook[i]!)).toBeLessThan(TOLERANCE));
  });

  test.each([
    ['wasm SIMD (channels % 4 = 0)', 8, 0],
    ['JavaScript (other channel counts)', 6, 0],
    ['wasm SIMD, activations with a large mean', 8, 50],
  ])('the fused wasm gradient by %s equals the composed one on cpu', async (_, channels, offset) => {
    const rng = new Rng(203 + channels + offset);
    const shape: [number, number, number, number] = [4, 5, 3, channels];
    const x = randomHost(rng, shape);
    for (let i = 0; i < x.values.length; i++) x.values[i] = x.values[i]! * 3 + offset;
    const gamma = randomHost(rng, [channels]);
    const beta = randomHost(rng, [channels]);
    const dy = randomHost(rng, shape);
    const gradients = async (backend: 'wasm' | 'cpu') => {
      await useBackend(backend);
      return tf.tidy(() => {
        const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          batchNormTraining(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, { epsilon: 1e-3 }),
        )(
          [
            tf.tensor4d(x.values, shape),
            tf.tensor1d(gamma.values as Float32Array),
            tf.tensor1d(beta.values as Float32Array),
          ],
          tf.tensor4d(dy.values, shape),
        );
        return grads.map((t) => Float32Array.from(t.dataSync()));
      });
    };
    const wasm = await gradients('wasm');
    const cpu = await gradients('cpu');
    wasm.forEach((values, i) => expect(relativeError(values, cpu[i]!)).toBeLessThan(TOLERANCE));
  });

  test('reports the batch statistics for running averages', async () => {
    await useBackend('wasm');
    const seen: number[][] = [];
    tf.tidy(() => {
      const x = tf.tensor2d([1, 10, 3, 20], [2, 2]);
      batchNormTraining(x, tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, {
        epsilon: 1e-3,
        onStatistics: (mean, variance) => seen.push([...mean.dataSync(), ...variance.dataSync()]),
      });
    });
    expect(seen).toEqual([[2, 15, 1, 25]]);
  });
});

/** A task a few steps can learn: class 1 images are bright, class 0 dark (2 of 10 logits used). */
function brightnessTask(batchSize: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  const rng = new Rng(301);
  const pixels = new Float32Array(batchSize * 28 * 28);
  const labels = new Float32Array(batchSize * 10);
  for (let i = 0; i < batchSize; i++) {
    const bright = i % 2;
    labels[i * 10 + bright] = 1;
    for (let p = 0; p < 28 * 28; p++) pixels[i * 28 * 28 + p] = bright * 0.6 + rng.next() * 0.4;
  }
  return {
    images: tf.tensor4d(pixels, [batchSize, 28, 28, 1]),
    labels: tf.tensor2d(labels, [batchSize, 10]),
  };
}

describe('training on wasm', () => {
  test('leaks no tensors and no heap over many steps, and learns', async () => {
    await useBackend('wasm');
    const net = createSmallCnn({ seed: 5 });
    const reference = createReferenceNet({ seed: 6 });
    const { images, labels } = brightnessTask(8);
    const optimizer = tf.train.adam(0.01);
    const referenceOptimizer = tf.train.momentum(0.01, 0.9);
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const tensorCounts: number[] = [];
    const byteCounts: number[] = [];
    const heapSizes: number[] = [];
    const losses: number[] = [];
    const referenceLosses: number[] = [];
    for (let step = 0; step < 45; step++) {
      losses.push(trainStep(net, optimizer, images, labels));
      referenceLosses.push(trainStep(reference, referenceOptimizer, images, labels));
      tf.tidy(() => reference.forward(images, false).dataSync());
      tensorCounts.push(tf.memory().numTensors);
      byteCounts.push(tf.memory().numBytes);
      heapSizes.push(heap());
    }
    // Optimizers create their slots on the first step; from then on everything is flat.
    expect(new Set(tensorCounts.slice(1)).size).toBe(1);
    expect(new Set(byteCounts.slice(1)).size).toBe(1);
    // The wasm heap grows to its working size (the allocator settles within ~20 steps of these interleaved
    // workloads), then stays: a leak in a kernel would keep it growing.
    expect(new Set(heapSizes.slice(25)).size).toBe(1);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    expect(referenceLosses[referenceLosses.length - 1]!).toBeLessThan(referenceLosses[0]! * 0.5);
    tf.dispose([images, labels]);
    net.dispose();
    reference.dispose();
    optimizer.dispose();
    referenceOptimizer.dispose();
  });
});
