/**
 * A folded network (models/folded.ts) as an ONNX model (opset 17, IR version 8), the format PyTorch,
 * onnxruntime and most deployment tools read. The graph is the path's own topology (walkPath, as the
 * TensorFlow.js export walks it), in ONNX's NCHW layout:
 *
 * - each weight layer: Clip to its input grid's range (the clipping half of the input quantizer; the
 *   rounding has no standard operator, so activations stay float, as in the TensorFlow.js export), then
 *   Conv (group = channels for a depthwise kernel) with explicit pads equal to TensorFlow's 'same', or
 *   Gemm for the classifier, with the folded kernel and bias;
 * - Relu, Add for the residual shortcuts, GlobalAveragePool + Flatten before the classifier.
 *
 * The per-layer bits and input grids travel in the model's metadata (`imcnas.layers`), so a re-import
 * (models/onnx/layers.ts) costs the design exactly as the search did.
 */
import type { FoldedLayer } from '../../hardware/folded';
import type { FoldedNetwork } from '../folded';
import { foldedNetworkProblems } from '../inference';
import { describePath, walkPath, type PathLayer } from '../pathTopology';
import { activationLevels } from '../quantization';
import { ONNX_LAYER_METADATA_KEY } from './model';
import { MessageWriter } from './protobuf';

export const ONNX_OPSET = 17;
const IR_VERSION = 8;
const FLOAT = 1;

/** What the metadata entry `imcnas.layers` holds, one element per weight layer. */
export interface OnnxLayerMetadata {
  layer: string;
  weightBits: number;
  activationBits: number;
  /** The input grid: step and sign (levels as in models/quantization.ts activationLevels). */
  inputStep: number;
  inputSigned: boolean;
}

interface Value {
  name: string;
  channels: number;
  height: number;
  width: number;
}

function tensor(name: string, dims: readonly number[], values: Float32Array): MessageWriter {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  const t = new MessageWriter();
  for (const d of dims) t.int(1, d);
  return t.int(2, FLOAT).string(8, name).bytes(9, raw);
}

function attributeInts(name: string, values: readonly number[]): MessageWriter {
  const a = new MessageWriter().string(1, name).int(20, 7);
  for (const v of values) a.int(8, v);
  return a;
}

function attributeInt(name: string, value: number): MessageWriter {
  return new MessageWriter().string(1, name).int(20, 2).int(3, value);
}

function valueInfo(name: string, dims: ReadonlyArray<number | string>): MessageWriter {
  const shape = new MessageWriter();
  for (const d of dims)
    shape.message(
      1,
      typeof d === 'number' ? new MessageWriter().int(1, d) : new MessageWriter().string(2, d),
    );
  const tensorType = new MessageWriter().int(1, FLOAT).message(2, shape);
  return new MessageWriter().string(1, name).message(2, new MessageWriter().message(1, tensorType));
}

/** TensorFlow's 'same' padding as ONNX pads: the extra pixel, if any, at the end (SAME_UPPER). */
function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** [kh, kw, cin, cout] (conv) or [kh, kw, c, 1] (depthwise) → ONNX's [cout, cin/group, kh, kw]. */
function onnxKernel(layer: FoldedLayer): { dims: number[]; values: Float32Array } {
  const [kh, kw, cin, cout] = layer.kernelShape as [number, number, number, number];
  const depthwise = layer.shape.kind === 'depthwise';
  const outChannels = depthwise ? cin : cout;
  const inPerGroup = depthwise ? 1 : cin;
  const values = new Float32Array(layer.kernel.length);
  for (let o = 0; o < outChannels; o++)
    for (let i = 0; i < inPerGroup; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          const from = depthwise ? ((y * kw + x) * cin + o) * 1 : ((y * kw + x) * cin + i) * cout + o;
          values[((o * inPerGroup + i) * kh + y) * kw + x] = layer.kernel[from]!;
        }
  return { dims: [outChannels, inPerGroup, kh, kw], values };
}

/** The ONNX model's bytes. Throws when the folded network's layers do not match its architecture. */
export function foldedNetworkToOnnx(net: FoldedNetwork): Uint8Array {
  const problems = foldedNetworkProblems(net);
  if (problems.length > 0)
    throw new Error(`foldedNetworkToOnnx: inconsistent folded network: ${problems.join('; ')}`);
  const folded = new Map(net.layers.map((layer) => [layer.shape.name, layer]));
  const graph = new MessageWriter().string(2, 'imcnas');
  const initializers: MessageWriter[] = [];
  const node = (op: string, name: string, inputs: string[], attributes: MessageWriter[] = []): string => {
    const output = `${name}.out`;
    const n = new MessageWriter();
    for (const input of inputs) n.string(1, input);
    n.string(2, output).string(3, name).string(4, op);
    for (const attribute of attributes) n.message(5, attribute);
    graph.message(1, n);
    return output;
  };
  const constant = (name: string, dims: readonly number[], values: Float32Array): string => {
    initializers.push(tensor(name, dims, values));
    return name;
  };

  const [height, width, channels] = net.architecture.inputShape;
  const images: Value = { name: 'images', channels, height, width };
  const logits = walkPath<Value>(net.architecture, describePath(net.architecture, net.quantization), images, {
    layer: (pathLayer: PathLayer, input) => {
      const weights = folded.get(pathLayer.name)!;
      const { shape } = weights;
      const { lowest, highest } = activationLevels(shape.activationBits, weights.inputSigned);
      const clipped = node('Clip', `${shape.name}.input_clip`, [
        input.name,
        constant(`${shape.name}.input_min`, [], Float32Array.of(lowest * weights.inputScale)),
        constant(`${shape.name}.input_max`, [], Float32Array.of(highest * weights.inputScale)),
      ]);
      const bias = constant(`${shape.name}.bias`, [shape.outChannels], weights.bias);
      if (shape.kind === 'dense') {
        const kernel = constant(`${shape.name}.weight`, weights.kernelShape, weights.kernel);
        return {
          ...input,
          name: node('Gemm', shape.name, [clipped, kernel, bias]),
          channels: shape.outChannels,
        };
      }
      const { dims, values } = onnxKernel(weights);
      const [top, bottom] = samePads(input.height, shape.kernelH, shape.stride);
      const [left, right] = samePads(input.width, shape.kernelW, shape.stride);
      const output = node(
        'Conv',
        shape.name,
        [clipped, constant(`${shape.name}.weight`, dims, values), bias],
        [
          attributeInts('kernel_shape', [shape.kernelH, shape.kernelW]),
          attributeInts('strides', [shape.stride, shape.stride]),
          attributeInts('pads', [top, left, bottom, right]),
          attributeInt('group', shape.kind === 'depthwise' ? input.channels : 1),
        ],
      );
      return {
        name: output,
        channels: shape.outChannels,
        height: Math.ceil(input.height / shape.stride),
        width: Math.ceil(input.width / shape.stride),
      };
    },
    relu: (input, after) => ({ ...input, name: node('Relu', `${after.name}.relu`, [input.name]) }),
    residualAdd: (projected, shortcut, block) => ({
      ...projected,
      name: node('Add', `stage${block.stage}.block${block.indexInStage}.add`, [
        projected.name,
        shortcut.name,
      ]),
    }),
    globalAveragePool: (input) => {
      const pooled = node('GlobalAveragePool', 'head.pool', [input.name]);
      return {
        name: node('Flatten', 'head.flatten', [pooled], [attributeInt('axis', 1)]),
        channels: input.channels,
        height: 1,
        width: 1,
      };
    },
  });
  for (const initializer of initializers) graph.message(5, initializer);
  graph.message(11, valueInfo('images', ['N', channels, height, width]));
  graph.message(12, valueInfo(logits.name, ['N', logits.channels]));

  const metadata: OnnxLayerMetadata[] = net.layers.map((layer) => ({
    layer: layer.shape.name,
    weightBits: layer.shape.weightBits,
    activationBits: layer.shape.activationBits,
    inputStep: layer.inputScale,
    inputSigned: layer.inputSigned,
  }));
  return new MessageWriter()
    .int(1, IR_VERSION)
    .string(2, 'imcnas')
    .message(7, graph)
    .message(8, new MessageWriter().string(1, '').int(2, ONNX_OPSET))
    .message(14, new MessageWriter().string(1, ONNX_LAYER_METADATA_KEY).string(2, JSON.stringify(metadata)))
    .finish();
}
