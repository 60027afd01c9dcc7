/**
 * An ONNX CNN's architecture as a hand-designed baseline: imcnas's own built-in baselines, exported to
 * ONNX and read back, give their own descriptions; networks outside the family are refused naming why.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../../common/rng';
import type { FoldedNetwork } from '../../../models/folded';
import { onnxBaselineNetwork } from '../../../models/onnx/baselineNetwork';
import { foldedNetworkToOnnx } from '../../../models/onnx/export';
import { decodeOnnxModel } from '../../../models/onnx/model';
import { describePath } from '../../../models/pathTopology';
import {
  BASELINE_PRESETS,
  BaselineChipSchema,
  BaselineNetworkSchema,
  baselineDesign,
} from '../../../search/baseline';

const SHAPE = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10 };
const OPTIONS = { inputShape: [1, 28, 28] as [number, number, number], numClasses: 10 };

/** The baseline's design with seeded weights (the mapping reads the architecture only). */
function exported(network: (typeof BASELINE_PRESETS)[keyof typeof BASELINE_PRESETS]): Uint8Array {
  const design = baselineDesign(network, BaselineChipSchema.parse({}), SHAPE);
  const { architecture, quantization } = design.candidate;
  const rng = new Rng(3);
  const net: FoldedNetwork = {
    architecture,
    quantization,
    layers: describePath(architecture, quantization).map((layer) => {
      const { shape } = layer;
      const kernelShape =
        shape.kind === 'dense'
          ? [shape.inChannels, shape.outChannels]
          : [shape.kernelH, shape.kernelW, shape.inChannels, shape.outChannels];
      return {
        shape,
        kernel: Float32Array.from({ length: kernelShape.reduce((a, b) => a * b, 1) }, () => rng.next()),
        kernelShape,
        weightScale: new Float32Array(shape.outChannels).fill(1),
        bias: new Float32Array(shape.outChannels),
        inputScale: 0.1,
        inputSigned: layer.inputSigned,
      };
    }),
  };
  return foldedNetworkToOnnx(net);
}

describe('an ONNX network as a baseline', () => {
  it.each(['vgg', 'resnet'] as const)('reads the built-in %s back as itself', (name) => {
    const preset = BASELINE_PRESETS[name];
    const model = decodeOnnxModel(exported(preset), `${name}.onnx`);
    const network = onnxBaselineNetwork(model, name, OPTIONS);
    expect(BaselineNetworkSchema.parse(network)).toEqual(BaselineNetworkSchema.parse(preset));
  });

  it('refuses pooling inside the network, naming the node and what to do', () => {
    const model = decodeOnnxModel(
      readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'onnx', 'resnet-ish.onnx')),
      'resnet-ish.onnx',
    );
    expect(() => onnxBaselineNetwork(model, 'mine', OPTIONS)).toThrow(
      /node "pool1" \(MaxPool\): a baseline downsamples with strided convolutions/,
    );
  });

  it('refuses a depthwise convolution', () => {
    const model = decodeOnnxModel(
      readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'onnx', 'mobilenet-ish.onnx')),
      'mobilenet-ish.onnx',
    );
    expect(() => onnxBaselineNetwork(model, 'mine', OPTIONS)).toThrow(
      /node "conv3" \(Conv\): a depthwise convolution/,
    );
  });
});
