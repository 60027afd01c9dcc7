import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { evaluateNetwork } from '../../../hardware/cost';
import { RRAM_128_CHIP } from '../../hardware/analogSupport';
import { decodeOnnxModel, OnnxFormatError } from '../../../models/onnx/model';
import { onnxLayerShapes, OnnxImportError } from '../../../models/onnx/layers';
import { readFields } from '../../../models/onnx/protobuf';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'onnx');
const load = (name: string) => decodeOnnxModel(readFileSync(path.join(FIXTURES, name)), name);
const FASHION = { inputShape: [1, 28, 28] as [number, number, number], weightBits: 8, activationBits: 8 };

describe('protobuf wire format', () => {
  it('reads varints, negative int64s and length-delimited fields', () => {
    // field 1 varint 150 (0x96 0x01); field 2 varint −1 (ten bytes); field 3 bytes "hi"
    const bytes = Uint8Array.from([
      0x08,
      0x96,
      0x01,
      0x10,
      ...Array(9).fill(0xff),
      0x01,
      0x1a,
      0x02,
      0x68,
      0x69,
    ]);
    const fields = readFields(bytes);
    expect(fields.map((f) => f.field)).toEqual([1, 2, 3]);
    expect(fields[0]!.value).toEqual({ wire: 0, value: 150n });
    expect(BigInt.asIntN(64, (fields[1]!.value as { value: bigint }).value)).toBe(-1n);
  });

  it('refuses a truncated message', () => {
    expect(() => readFields(Uint8Array.from([0x1a, 0x05, 0x68]))).toThrow(/claims 5 bytes, only 1 remain/);
  });
});

describe('ONNX models written by the onnx package (test/fixtures/onnx/make_fixtures.py)', () => {
  it('decodes the graph: nodes in order, weights, the input with a symbolic batch', () => {
    const model = load('mobilenet-ish.onnx');
    expect(model.opsetVersion).toBe(17);
    expect(model.producer).toBe('imcnas-fixtures');
    expect(model.inputs).toEqual([{ name: 'image', shape: [null, 1, 28, 28] }]);
    expect(model.nodes.map((n) => n.opType).slice(0, 3)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    expect(model.initializers.get('conv1.weight')?.dims).toEqual([16, 1, 3, 3]);
    expect(model.nodes[0]!.attributes.get('strides')).toEqual([2, 2]);
  });

  it('maps convolutions, the depthwise one and the classifier onto layer shapes', () => {
    const net = onnxLayerShapes(load('mobilenet-ish.onnx'), FASHION);
    expect(
      net.layers.map((l) => [l.kind, l.inChannels, l.outChannels, l.kernelH, l.stride, l.outH, l.outW]),
    ).toEqual([
      ['conv', 1, 16, 3, 2, 14, 14],
      ['conv', 16, 32, 3, 2, 7, 7],
      ['depthwise', 32, 32, 3, 1, 7, 7],
      ['conv', 32, 64, 1, 1, 7, 7],
      ['dense', 64, 10, 1, 1, 1, 1],
    ]);
    expect(net.outputShape).toEqual([10]);
    expect(net.digitalOps).toMatchObject({
      BatchNormalization: 4,
      Relu: 4,
      GlobalAveragePool: 1,
      Flatten: 1,
    });
  });

  it('follows residual adds and pooling, and costs the network on a chip', () => {
    const net = onnxLayerShapes(load('resnet-ish.onnx'), FASHION);
    expect(net.layers.map((l) => [l.outChannels, l.outH])).toEqual([
      [16, 28],
      [16, 28],
      [32, 7],
      [10, 1],
    ]);
    expect(net.digitalOps).toMatchObject({ Add: 1, MaxPool: 1 });
    const cost = evaluateNetwork(net.layers, RRAM_128_CHIP);
    // MACs: 28²·9·16 + 28²·9·16·16 + 7²·9·16·32 + 32·10
    expect(cost.macs).toBe(28 * 28 * 9 * 16 + 28 * 28 * 9 * 16 * 16 + 7 * 7 * 9 * 16 * 32 + 32 * 10);
    expect(cost.edap).toBeGreaterThan(0);
  });
});

describe('import errors name the node and the fix', () => {
  it('an unsupported operator', () => {
    expect(() => onnxLayerShapes(load('unsupported-op.onnx'), FASHION)).toThrow(
      new OnnxImportError(
        'node "lstm1" (LSTM) is not supported: imcnas maps Conv (ordinary and depthwise), Gemm and MatMul onto the arrays and runs BatchNormalization, activations, pooling, residual adds and flattening digitally; rewrite or remove this op',
      ),
    );
  });

  it('a wrong input shape', () => {
    expect(() => onnxLayerShapes(load('rgb-input.onnx'), FASHION)).toThrow(
      /input "image" has shape \[\?, 3, 32, 32\], the dataset's images are \[N, 1, 28, 28\] \(NCHW\)/,
    );
  });

  it('missing weights', () => {
    expect(() => onnxLayerShapes(load('missing-weights.onnx'), FASHION)).toThrow(
      /the model has 2 data inputs \(image, conv1\.weight\).*export them as initializers/,
    );
  });

  it('a file that is not ONNX', () => {
    expect(() => decodeOnnxModel(readFileSync(__filename), 'onnxImport.test.ts')).toThrow(OnnxFormatError);
  });
});
