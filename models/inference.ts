/**
 * Inference of a FoldedNetwork (models/folded.ts): the path topology of models/pathTopology.ts with every
 * weight layer computed as quantize(input) → LinearOp → + bias. The digital LinearOp is exact float
 * arithmetic; an analog chip simulator (hardware/analog) passes its own LinearOp and must agree with the
 * digital one on an ideal chip.
 *
 * The supernet's evaluation mode runs this very function on its extracted subnet, so a FoldedNetwork run
 * here with `digitalLinearOp` gives the supernet's evaluation logits bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedLayer, LinearOp } from '../hardware/folded';
import type { FoldedNetwork } from './folded';
import { describePath, executePath } from './pathTopology';
import { activationLevels, quantizeToGrid } from './quantization';

/** Conv / depthwise with 'same' padding at the layer's stride (NHWC), or a dense product; no bias. */
export const digitalLinearOp: LinearOp = (layer, input) =>
  tf.tidy(() => {
    const kernel = tf.tensor(layer.kernel, layer.kernelShape, 'float32');
    switch (layer.shape.kind) {
      case 'conv':
        return tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, layer.shape.stride, 'same');
      case 'depthwise':
        return tf.depthwiseConv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, layer.shape.stride, 'same');
      case 'dense':
        return tf.matMul(input as tf.Tensor2D, kernel as tf.Tensor2D);
    }
  });

/**
 * Quantizes a layer's input to its activation grid: clip(round(x / inputScale), lowest, highest) ·
 * inputScale, with levels [0, 2^a − 1] (unsigned) or [−(2^(a−1) − 1), 2^(a−1) − 1] (signed).
 */
export function quantizeLayerInput(layer: FoldedLayer, input: tf.Tensor): tf.Tensor {
  const { lowest, highest } = activationLevels(layer.shape.activationBits, layer.inputSigned);
  return tf.tidy(() => quantizeToGrid(input, tf.scalar(layer.inputScale, 'float32'), lowest, highest));
}

/** Problems between a folded network's layers and its architecture (empty when consistent). */
export function foldedNetworkProblems(net: FoldedNetwork): string[] {
  const expected = describePath(net.architecture, net.quantization);
  const problems: string[] = [];
  if (expected.length !== net.layers.length) {
    problems.push(
      `the architecture has ${expected.length} weight layers, the network lists ${net.layers.length}`,
    );
  }
  expected.forEach((layer, i) => {
    const folded = net.layers[i];
    if (!folded) return;
    const where = `layers[${i}] (${folded.shape.name})`;
    if (folded.shape.name !== layer.name) problems.push(`${where}: expected ${layer.name}`);
    if (folded.inputSigned !== layer.inputSigned)
      problems.push(`${where}: inputSigned ${folded.inputSigned}, the topology says ${layer.inputSigned}`);
    const size = folded.kernelShape.reduce((a, b) => a * b, 1);
    if (folded.kernel.length !== size)
      problems.push(`${where}: kernel has ${folded.kernel.length} values for shape [${folded.kernelShape}]`);
    if (folded.bias.length !== layer.shape.outChannels)
      problems.push(
        `${where}: bias has ${folded.bias.length} values for ${layer.shape.outChannels} channels`,
      );
    if (folded.weightScale.length !== layer.shape.outChannels)
      problems.push(
        `${where}: weightScale has ${folded.weightScale.length} values for ${layer.shape.outChannels} channels`,
      );
    if (!(folded.inputScale > 0)) problems.push(`${where}: inputScale must be > 0, got ${folded.inputScale}`);
  });
  return problems;
}

/**
 * Logits [n, numClasses] of a folded network on NHWC images, each weight layer computed by `linearOp`
 * on its quantized input, bias added digitally. Throws when the layers do not match the architecture.
 */
export function forwardFolded(
  net: FoldedNetwork,
  images: tf.Tensor4D,
  linearOp: LinearOp = digitalLinearOp,
): tf.Tensor2D {
  const problems = foldedNetworkProblems(net);
  if (problems.length > 0)
    throw new Error(`forwardFolded: inconsistent folded network: ${problems.join('; ')}`);
  const layers = describePath(net.architecture, net.quantization);
  const byName = new Map(net.layers.map((layer) => [layer.shape.name, layer]));
  return tf.tidy(() =>
    executePath(net.architecture, layers, images, (layer, input) => {
      const folded = byName.get(layer.name)!;
      const product = linearOp(folded, quantizeLayerInput(folded, input));
      return tf.add(product, tf.tensor1d(folded.bias, 'float32'));
    }),
  );
}

/** Top-1 accuracy of a folded network over a split (NHWC pixels, integer labels), in batches. */
export function foldedAccuracy(
  net: FoldedNetwork,
  x: Float32Array,
  y: Int32Array,
  linearOp: LinearOp = digitalLinearOp,
  batchSize = 500,
): number {
  const shape = net.architecture.inputShape;
  const pixels = shape[0] * shape[1] * shape[2];
  let correct = 0;
  for (let start = 0; start < y.length; start += batchSize) {
    const n = Math.min(batchSize, y.length - start);
    const predicted = tf.tidy(() => {
      const images = tf.tensor4d(x.subarray(start * pixels, (start + n) * pixels), [n, ...shape]);
      return tf.argMax(forwardFolded(net, images, linearOp), 1);
    });
    const labels = predicted.dataSync();
    predicted.dispose();
    for (let i = 0; i < n; i++) if (labels[i] === y[start + i]) correct++;
  }
  return y.length === 0 ? 0 : correct / y.length;
}
