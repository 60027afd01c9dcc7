/**
 * The weight and input traces NeuroSim's inference engine reads, in the layout of its PyTorch wrapper
 * (Inference_pytorch/utee/hook.py): computed from a folded network's real weights and its real activations.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedLayer } from '../hardware/folded';
import type { FoldedNetwork } from '../models/folded';
import { digitalLinearOp, forwardFolded } from '../models/inference';

/** Integer weight level of kernel element `index` for output channel `out`. */
function level(layer: FoldedLayer, index: number, out: number): number {
  const scale = layer.weightScale[out]!;
  // an output channel pruned to zero has no step (its kernel is all zero)
  return scale === 0 ? 0 : Math.round(layer.kernel[index]! / scale);
}

/**
 * The weight trace of one layer as NeuroSim's wrapper writes it: (Cin·K²) rows ordered (channel, ky, kx),
 * Cout columns, each value level / 2^(b−1) in (−1, 1), which Chip.cpp LoadInWeightData turns back into
 * the integer level + 2^(b−1). Depthwise layers are the block-diagonal C·K² × C matrix.
 */
export function weightTrace(layer: FoldedLayer): number[][] {
  const s = layer.shape;
  const unit = 2 ** (s.weightBits - 1);
  if (s.kind === 'dense') {
    return Array.from({ length: s.inChannels }, (_, c) =>
      Array.from({ length: s.outChannels }, (_, o) => level(layer, c * s.outChannels + o, o) / unit),
    );
  }
  const cin = s.kind === 'depthwise' ? s.outChannels : s.inChannels;
  const rows: number[][] = [];
  for (let c = 0; c < cin; c++) {
    for (let ky = 0; ky < s.kernelH; ky++) {
      for (let kx = 0; kx < s.kernelW; kx++) {
        const at = ky * s.kernelW + kx;
        const row = new Array<number>(s.outChannels).fill(0);
        if (s.kind === 'depthwise') {
          // kernel [kh, kw, c, 1]
          row[c] = level(layer, at * cin + c, c) / unit;
        } else {
          // kernel [kh, kw, cin, cout]
          for (let o = 0; o < s.outChannels; o++)
            row[o] = level(layer, (at * cin + c) * s.outChannels + o, o) / unit;
        }
        rows.push(row);
      }
    }
  }
  return rows;
}

/**
 * Bits of one activation level, MSB first: two's complement for signed inputs (hook.py dec2bin of
 * level / 2^(n−1)), plain binary for unsigned (post-ReLU) inputs, whose levels fill all n bits.
 */
export function levelBits(value: number, bits: number, signed: boolean): number[] {
  const code = signed && value < 0 ? value + 2 ** bits : value;
  const out: number[] = [];
  for (let b = bits - 1; b >= 0; b--) out.push(Math.floor(code / 2 ** b) % 2);
  return out;
}

/** Inverse of levelBits. */
export function bitsLevel(planes: readonly number[], signed: boolean): number {
  const n = planes.length;
  let value = 0;
  planes.forEach((bit, i) => {
    value += bit * 2 ** (n - 1 - i);
  });
  return signed && planes[0] === 1 ? value - 2 ** n : value;
}

/**
 * The input trace of one layer for one image: rows (channel, ky, kx) of the layer's im2col with the
 * design's 'same' padding (TensorFlow's: the odd pixel of padding goes after), one column group of
 * `activationBits` bit planes per output pixel (row-major), as hook.py's write_matrix_activation_conv lays
 * them out. `levels` is the layer's input on its integer grid, NHWC for one image ([H, W, C]) or [Cin]
 * for a dense layer.
 */
export function inputTrace(layer: FoldedLayer, levels: Int32Array, inH: number, inW: number): Uint8Array[] {
  const s = layer.shape;
  const bits = s.activationBits;
  const signed = layer.inputSigned;
  if (s.kind === 'dense') {
    return Array.from({ length: s.inChannels }, (_, c) =>
      Uint8Array.from(levelBits(levels[c]!, bits, signed)),
    );
  }
  const channels = s.kind === 'depthwise' ? s.outChannels : s.inChannels;
  const padTop = Math.floor(Math.max((s.outH - 1) * s.stride + s.kernelH - inH, 0) / 2);
  const padLeft = Math.floor(Math.max((s.outW - 1) * s.stride + s.kernelW - inW, 0) / 2);
  const vectors = s.outH * s.outW;
  const rows: Uint8Array[] = [];
  for (let c = 0; c < channels; c++) {
    for (let ky = 0; ky < s.kernelH; ky++) {
      for (let kx = 0; kx < s.kernelW; kx++) {
        const row = new Uint8Array(vectors * bits);
        for (let oy = 0; oy < s.outH; oy++) {
          const iy = oy * s.stride + ky - padTop;
          for (let ox = 0; ox < s.outW; ox++) {
            const ix = ox * s.stride + kx - padLeft;
            const inside = iy >= 0 && iy < inH && ix >= 0 && ix < inW;
            const value = inside ? levels[(iy * inW + ix) * channels + c]! : 0;
            if (value === 0) continue;
            const planes = levelBits(value, bits, signed);
            const base = (oy * s.outW + ox) * bits;
            for (let b = 0; b < bits; b++) row[base + b] = planes[b]!;
          }
        }
        rows.push(row);
      }
    }
  }
  return rows;
}

/** One layer's recorded input for one image: integer levels and the map size. */
export interface LayerInput {
  levels: Int32Array;
  height: number;
  width: number;
}

/**
 * Runs the folded network digitally on `images` (NHWC pixels) and records every weight layer's input on
 * its integer grid, per image: result[image][layer].
 */
export function recordLayerInputs(net: FoldedNetwork, images: Float32Array, count: number): LayerInput[][] {
  const shape = net.architecture.inputShape;
  const byLayer = new Map<string, { levels: Int32Array; dims: number[] }>();
  tf.tidy(() => {
    const x = tf.tensor4d(images.subarray(0, count * shape[0] * shape[1] * shape[2]), [count, ...shape]);
    forwardFolded(net, x, (layer, input) => {
      const values = input.dataSync();
      const levels = new Int32Array(values.length);
      for (let i = 0; i < values.length; i++) levels[i] = Math.round(values[i]! / layer.inputScale);
      byLayer.set(layer.shape.name, { levels, dims: input.shape });
      return digitalLinearOp(layer, input);
    });
  });
  return Array.from({ length: count }, (_, n) =>
    net.layers.map((layer) => {
      const recorded = byLayer.get(layer.shape.name)!;
      const dims = recorded.dims;
      const perImage = recorded.levels.length / count;
      return {
        levels: recorded.levels.subarray(n * perImage, (n + 1) * perImage),
        height: dims.length === 4 ? dims[1]! : 1,
        width: dims.length === 4 ? dims[2]! : 1,
      };
    }),
  );
}
