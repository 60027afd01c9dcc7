/**
 * The contract between a trained network and a chip. A subnet extracted from the supernet is exported as
 * a FoldedNetwork: BatchNorm folded into each weight layer, weights on their quantization grid, each
 * layer's input quantization step recorded. Inference runs the network's topology (models/) and calls a
 * LinearOp for every weight layer: the digital op is exact arithmetic; the analog chip's op
 * (hardware/analog) maps the same integer weight levels onto cells and adds DAC/ADC quantization and
 * device noise. With an ideal chip the two must agree exactly.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ArchitectureSpec, QuantizationSpec } from '../search/architecture';
import type { LayerShape } from '../hardware/types';

export interface FoldedLayer {
  /** Name, kind, channels, kernel, stride, output size and bit widths (as layerShapes() lists them). */
  shape: LayerShape;
  /**
   * Real-valued kernel already on the weight grid: kernel = level · weightScale[outChannel], with integer
   * levels in [−(2^(b−1)−1), 2^(b−1)−1] for b = shape.weightBits. Layout: conv [kh, kw, cin, cout],
   * depthwise [kh, kw, c, 1], dense [cin, cout].
   */
  kernel: Float32Array;
  kernelShape: number[];
  /** Per-output-channel quantization step of the kernel. */
  weightScale: Float32Array;
  /** Per-output-channel bias, added digitally after the matrix-vector products. */
  bias: Float32Array;
  /**
   * Quantization step of this layer's input activations: input = level · inputScale with integer levels in
   * [0, 2^a − 1] (unsigned, after ReLU) or [−(2^(a−1)−1), 2^(a−1)−1] (signed) for a = shape.activationBits.
   */
  inputScale: number;
  inputSigned: boolean;
}

export interface FoldedNetwork {
  architecture: ArchitectureSpec;
  quantization: QuantizationSpec;
  /** Every weight layer in execution order, named as in layerShapes(). */
  layers: FoldedLayer[];
}

/**
 * Computes one weight layer's output without bias for an input already on its quantization grid:
 * conv / depthwise with 'same' padding at the layer's stride on NHWC input, dense on [n, cin].
 */
export type LinearOp = (layer: FoldedLayer, input: tf.Tensor) => tf.Tensor;
