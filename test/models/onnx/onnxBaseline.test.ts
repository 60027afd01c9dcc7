/**
 * An ONNX CNN's architecture as a hand-designed baseline: imcnas's own built-in baselines, exported to
 * ONNX and read back, give their own descriptions; networks outside the family are refused naming why.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { onnxBaselineNetwork } from '../../../models/onnx/baselineNetwork';
import { foldedNetworkToOnnx } from '../../../models/onnx/export';
import { decodeOnnxModel } from '../../../models/onnx/model';
import {
  BASELINE_PRESETS,
  BaselineChipSchema,
  BaselineNetworkSchema,
  baselineDesign,
} from '../../../search/baseline';
import { seededFoldedNetwork } from './seededNetwork';

const SHAPE = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10 };
const OPTIONS = { inputShape: [1, 28, 28] as [number, number, number], numClasses: 10 };

/** The baseline's design with seeded weights (the mapping reads the architecture only). */
function exported(network: (typeof BASELINE_PRESETS)[keyof typeof BASELINE_PRESETS]): Uint8Array {
  const design = baselineDesign(network, BaselineChipSchema.parse({}), SHAPE);
  const { architecture, quantization } = design.candidate;
  const net = seededFoldedNetwork(architecture, quantization, 3);
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
