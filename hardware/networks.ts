/**
 * Reference workloads for calibration, tests and the benchmark, as LayerShape lists.
 */
import type { LayerShape } from './types';

/** A layer with a square kernel, its output map `outH` × `outW`. */
export function squareKernelLayer(
  name: string,
  kind: LayerShape['kind'],
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  outH: number,
  outW: number,
  bits: { weightBits: number; activationBits: number },
): LayerShape {
  return {
    name,
    kind,
    inChannels,
    outChannels,
    kernelH: kernel,
    kernelW: kernel,
    stride,
    outH,
    outW,
    weightBits: bits.weightBits,
    activationBits: bits.activationBits,
  };
}

/**
 * VGG-8 for CIFAR-10 as NeuroSim benchmarks it: conv 128, 128, (pool) 256, 256, (pool) 512, 512, (pool),
 * dense 8192 → 1024 → 10; 3×3 'same' convolutions on 32×32 inputs.
 */
export function vgg8Cifar10(weightBits = 8, activationBits = 8): LayerShape[] {
  const bits = { weightBits, activationBits };
  return [
    squareKernelLayer('conv1', 'conv', 3, 128, 3, 1, 32, 32, bits),
    squareKernelLayer('conv2', 'conv', 128, 128, 3, 1, 32, 32, bits),
    squareKernelLayer('conv3', 'conv', 128, 256, 3, 1, 16, 16, bits),
    squareKernelLayer('conv4', 'conv', 256, 256, 3, 1, 16, 16, bits),
    squareKernelLayer('conv5', 'conv', 256, 512, 3, 1, 8, 8, bits),
    squareKernelLayer('conv6', 'conv', 512, 512, 3, 1, 8, 8, bits),
    squareKernelLayer('fc1', 'dense', 512 * 4 * 4, 1024, 1, 1, 1, 1, bits),
    squareKernelLayer('fc2', 'dense', 1024, 10, 1, 1, 1, 1, bits),
  ];
}

/**
 * A synthetic workload that keeps every crossbar of an ISAAC-CE chip busy all the time (its published
 * figures are peak figures): `tiles` identical layers, each filling one 96-array tile exactly with 16-bit
 * weights at 2 bits per cell (8 columns per weight): 12 row tiles × 8 column tiles of 128×128, all layers
 * with the same number of output pixels so the pipeline has no bubbles.
 */
export function isaacPeakWorkload(tiles = 168, outputSize = 64): LayerShape[] {
  const layers: LayerShape[] = [];
  for (let i = 0; i < tiles; i++) {
    layers.push(
      squareKernelLayer(`fill${i}`, 'conv', 12 * 128, 128, 1, 1, outputSize, outputSize, {
        weightBits: 16,
        activationBits: 16,
      }),
    );
  }
  return layers;
}

/**
 * A 20-layer MobileNet-like network on 32×32 inputs (stem conv, 9 depthwise-separable blocks, dense
 * classifier), mixed 4–8-bit quantization: the benchmark's workload.
 */
export function mobileNetLike20(): LayerShape[] {
  const layers: LayerShape[] = [
    squareKernelLayer('stem', 'conv', 3, 32, 3, 1, 32, 32, { weightBits: 8, activationBits: 8 }),
  ];
  const blocks: Array<[channels: number, stride: number, bits: number]> = [
    [64, 1, 8],
    [96, 2, 6],
    [96, 1, 6],
    [128, 2, 6],
    [128, 1, 4],
    [192, 2, 6],
    [192, 1, 4],
    [256, 1, 6],
    [256, 1, 8],
  ];
  let channels = 32;
  let size = 32;
  blocks.forEach(([out, stride, bits], index) => {
    size = Math.ceil(size / stride);
    layers.push(
      squareKernelLayer(`block${index}.depthwise`, 'depthwise', channels, channels, 3, stride, size, size, {
        weightBits: bits,
        activationBits: bits,
      }),
    );
    layers.push(
      squareKernelLayer(`block${index}.pointwise`, 'conv', channels, out, 1, 1, size, size, {
        weightBits: bits,
        activationBits: bits,
      }),
    );
    channels = out;
  });
  layers.push(
    squareKernelLayer('classifier', 'dense', channels, 10, 1, 1, 1, 1, { weightBits: 8, activationBits: 8 }),
  );
  return layers;
}
