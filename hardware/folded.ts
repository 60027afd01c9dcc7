/**
 * The chip's half of the contract between a trained network and a chip: the weight layers of a folded
 * network (BatchNorm folded in, weights on their quantization grid, each layer's input step recorded) and
 * the LinearOp that computes one of them. The network's half, with the architecture that orders the
 * layers, is models/folded.ts; keeping the layer types here lets the analog chip (hardware/analog) program
 * a network without importing models/, which sits above hardware in the layer chain (docs/design.md
 * §Layers).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerShape } from './types';

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

/** What a chip programs: a network's weight layers in execution order, named as in layerShapes(). */
export interface FoldedLayers {
  layers: FoldedLayer[];
}

/**
 * Computes one weight layer's output without bias for an input already on its quantization grid:
 * conv / depthwise with 'same' padding at the layer's stride on NHWC input, dense on [n, cin].
 */
export type LinearOp = (layer: FoldedLayer, input: tf.Tensor) => tf.Tensor;
