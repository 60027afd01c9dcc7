/**
 * From an ONNX CNN to the weight layers a chip maps (hardware/types.ts LayerShape), by walking the graph
 * in its (topological) order with each tensor's NCHW shape:
 *
 * - Conv with group 1 → a conv layer; with group = input channels = output channels → depthwise (as the
 *   chip maps a depthwise kernel: block-diagonal, hardware/mapping.ts); other groups are refused.
 * - Gemm, or MatMul with a constant matrix → a dense layer.
 * - Digital work beside the arrays, which the cost model charges nothing for (as for the searched
 *   networks' BatchNorm, activations and shortcut adds): BatchNormalization (folded into the weights at
 *   deployment), Relu / Clip / LeakyRelu / Sigmoid / HardSigmoid / HardSwish / Tanh, Add / Mul / Sub / Div
 *   with a constant or a same-shaped tensor (bias, scaling, residual shortcuts), Dropout / Identity,
 *   MaxPool / AveragePool, GlobalAveragePool / ReduceMean over H and W, Flatten / Reshape / Squeeze to a
 *   vector, Softmax / LogSoftmax at the end.
 *
 * Anything else is refused with the node's name and op, so a network is never costed with a piece silently
 * missing. Weights must be initializers (constant folding on export); a weight fed as a graph input is
 * refused as missing.
 */
import type { LayerShape } from '../../hardware/types';
import { ONNX_LAYER_METADATA_KEY, type OnnxAttribute, type OnnxModel, type OnnxNode } from './model';

export class OnnxImportError extends Error {
  override name = 'OnnxImportError';
}

export interface OnnxLayerOptions {
  /** The image the network takes, [channels, height, width]: the dataset's (Fashion-MNIST [1, 28, 28]). */
  inputShape: [number, number, number];
  /**
   * Bits of every layer. Unset: each layer's own from the model's `imcnas.layers` metadata (a design
   * imcnas exported, models/onnx/export.ts), else 8.
   */
  weightBits?: number;
  activationBits?: number;
}

const DEFAULT_BITS = 8;

/** Per-layer bits recorded by imcnas's own export, by layer (node) name. */
function recordedBits(model: OnnxModel): Map<string, { weightBits: number; activationBits: number }> {
  const text = model.metadata.get(ONNX_LAYER_METADATA_KEY);
  if (text === undefined) return new Map();
  try {
    const layers = JSON.parse(text) as Array<{ layer: string; weightBits: number; activationBits: number }>;
    return new Map(
      layers.map((l) => [l.layer, { weightBits: l.weightBits, activationBits: l.activationBits }]),
    );
  } catch (error) {
    throw new OnnxImportError(
      `the model's ${ONNX_LAYER_METADATA_KEY} metadata is not valid JSON (${(error as Error).message}): re-export the design`,
    );
  }
}

export interface ImportedNetwork {
  layers: LayerShape[];
  /** Ops run digitally beside the arrays, by op type, with their counts. */
  digitalOps: Record<string, number>;
  /** The output's shape (without the batch), e.g. [10]. */
  outputShape: number[];
}

const ELEMENTWISE = new Set([
  'Relu',
  'Clip',
  'LeakyRelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Dropout',
  'Identity',
  'BatchNormalization',
  'Softmax',
  'LogSoftmax',
]);
const BINARY = new Set(['Add', 'Mul', 'Sub', 'Div']);

const ints = (value: OnnxAttribute | undefined, fallback: number[]): number[] =>
  Array.isArray(value) ? (value as number[]) : fallback;
const int = (value: OnnxAttribute | undefined, fallback: number): number =>
  typeof value === 'number' ? value : fallback;

function outSize(
  size: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
) {
  return Math.floor((size + padBegin + padEnd - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * The spatial output size and pads of a Conv or pool node, from its kernel, strides, pads, dilations and
 * auto_pad (onnx/docs/Operators.md, Conv).
 */
function spatial(node: OnnxNode, inH: number, inW: number, kernel: [number, number]): [number, number] {
  const strides = ints(node.attributes.get('strides'), [1, 1]);
  const dilations = ints(node.attributes.get('dilations'), [1, 1]);
  const autoPad = node.attributes.get('auto_pad');
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')
    return [Math.ceil(inH / strides[0]!), Math.ceil(inW / strides[1]!)];
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : ints(node.attributes.get('pads'), [0, 0, 0, 0]);
  return [
    outSize(inH, kernel[0], strides[0]!, pads[0]!, pads[2]!, dilations[0]!),
    outSize(inW, kernel[1], strides[1]!, pads[1]!, pads[3]!, dilations[1]!),
  ];
}

export function onnxLayerShapes(model: OnnxModel, options: OnnxLayerOptions): ImportedNetwork {
  const describe = (node: OnnxNode) => `node ${JSON.stringify(node.name)} (${node.opType})`;
  if (model.inputs.length !== 1)
    throw new OnnxImportError(
      `the model has ${model.inputs.length} data inputs (${model.inputs.map((i) => i.name).join(', ') || 'none'}): ` +
        'an image classifier takes one; if the extra ones are weights, export them as initializers (constant folding)',
    );
  const input = model.inputs[0]!;
  const [channels, height, width] = options.inputShape;
  const declared = input.shape;
  if (declared !== null) {
    const expected = [channels, height, width];
    const given = declared.slice(1);
    if (declared.length !== 4 || given.some((d, i) => d !== null && d !== expected[i]))
      throw new OnnxImportError(
        `input ${JSON.stringify(input.name)} has shape [${declared.map((d) => d ?? '?').join(', ')}], the dataset's images are ` +
          `[N, ${expected.join(', ')}] (NCHW): export the model for ${channels}-channel ${height}×${width} images`,
      );
  }
  const shapes = new Map<string, number[]>([[input.name, [channels, height, width]]]);
  const constant = (name: string) => model.initializers.get(name);
  const shapeOf = (node: OnnxNode, name: string): number[] => {
    const shape = shapes.get(name);
    if (shape) return shape;
    const value = constant(name);
    if (value) return value.dims;
    throw new OnnxImportError(
      `${describe(node)} reads ${JSON.stringify(name)}, which is neither computed before it nor an initializer: the graph is incomplete or not in topological order`,
    );
  };
  const weightOf = (node: OnnxNode, name: string | undefined, what: string) => {
    const value = name === undefined ? undefined : constant(name);
    if (!value)
      throw new OnnxImportError(
        `${describe(node)}: its ${what} ${JSON.stringify(name ?? '')} is not an initializer (missing weights): ` +
          'export with the weights inside the model and constant folding on (torch.onnx.export(..., do_constant_folding=True))',
      );
    return value;
  };

  const layers: LayerShape[] = [];
  const digitalOps: Record<string, number> = {};
  const digital = (node: OnnxNode) => (digitalOps[node.opType] = (digitalOps[node.opType] ?? 0) + 1);
  const recorded = recordedBits(model);
  const bitsOf = (node: OnnxNode) => ({
    weightBits: options.weightBits ?? recorded.get(node.name)?.weightBits ?? DEFAULT_BITS,
    activationBits: options.activationBits ?? recorded.get(node.name)?.activationBits ?? DEFAULT_BITS,
  });
  let lastOutput = input.name;

  for (const node of model.nodes) {
    if (node.domain !== '' && node.domain !== 'ai.onnx')
      throw new OnnxImportError(
        `${describe(node)} is from operator domain ${JSON.stringify(node.domain)}: only standard ONNX operators are imported`,
      );
    const x = () => shapeOf(node, node.inputs[0]!);
    let out: number[];
    switch (node.opType) {
      case 'Conv': {
        const [c, h, w] = x();
        if (c === undefined || h === undefined || w === undefined)
          throw new OnnxImportError(`${describe(node)}: its input is not an NCHW feature map`);
        const kernel = weightOf(node, node.inputs[1], 'weight');
        const [m, perGroup, kh, kw] = kernel.dims;
        if (kernel.dims.length !== 4 || m === undefined || kh === undefined || kw === undefined)
          throw new OnnxImportError(
            `${describe(node)}: only 2-D convolutions are imported (weight dims [${kernel.dims.join(', ')}])`,
          );
        const group = int(node.attributes.get('group'), 1);
        const depthwise = group > 1 && group === c && m === c && perGroup === 1;
        if (group !== 1 && !depthwise)
          throw new OnnxImportError(
            `${describe(node)}: grouped convolution with ${group} groups of ${c} channels; only ordinary (group 1) and depthwise (group = channels) convolutions map onto the arrays`,
          );
        const strides = ints(node.attributes.get('strides'), [1, 1]);
        if (strides[0] !== strides[1])
          throw new OnnxImportError(
            `${describe(node)}: strides [${strides.join(', ')}] differ; only equal strides are imported`,
          );
        const [oh, ow] = spatial(node, h, w, [kh, kw]);
        layers.push({
          name: node.name,
          kind: depthwise ? 'depthwise' : 'conv',
          inChannels: c,
          outChannels: m,
          kernelH: kh,
          kernelW: kw,
          stride: strides[0]!,
          outH: oh,
          outW: ow,
          ...bitsOf(node),
        });
        out = [m, oh, ow];
        break;
      }
      case 'Gemm':
      case 'MatMul': {
        const features = x();
        if (features.length !== 1)
          throw new OnnxImportError(
            `${describe(node)}: its input has shape [${features.join(', ')}]; flatten the feature map first (Flatten or global pooling)`,
          );
        const matrix = weightOf(node, node.inputs[1], 'weight matrix');
        const transposed = node.opType === 'Gemm' && int(node.attributes.get('transB'), 0) === 1;
        if (node.opType === 'Gemm' && int(node.attributes.get('transA'), 0) === 1)
          throw new OnnxImportError(
            `${describe(node)}: transA = 1 is not imported (the input must be the left operand)`,
          );
        const [rows, cols] = transposed ? [matrix.dims[1], matrix.dims[0]] : [matrix.dims[0], matrix.dims[1]];
        if (matrix.dims.length !== 2 || rows !== features[0] || cols === undefined)
          throw new OnnxImportError(
            `${describe(node)}: weight dims [${matrix.dims.join(', ')}] do not take ${features[0]} input features`,
          );
        layers.push({
          name: node.name,
          kind: 'dense',
          inChannels: rows,
          outChannels: cols,
          kernelH: 1,
          kernelW: 1,
          stride: 1,
          outH: 1,
          outW: 1,
          ...bitsOf(node),
        });
        out = [cols];
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const [c, h, w] = x();
        const kernel = ints(node.attributes.get('kernel_shape'), []);
        if (c === undefined || h === undefined || w === undefined || kernel.length !== 2)
          throw new OnnxImportError(`${describe(node)}: only 2-D pooling of a feature map is imported`);
        out = [c, ...spatial(node, h, w, [kernel[0]!, kernel[1]!])];
        digital(node);
        break;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        out = [x()[0]!, 1, 1];
        digital(node);
        break;
      case 'ReduceMean': {
        const shape = x();
        const axes = ints(
          node.attributes.get('axes'),
          node.inputs[1] ? Array.from(weightOf(node, node.inputs[1], 'axes').data) : [],
        );
        const keep = int(node.attributes.get('keepdims'), 1) === 1;
        if (shape.length !== 3 || [...axes].sort().join() !== '2,3')
          throw new OnnxImportError(
            `${describe(node)}: only a mean over the spatial axes [2, 3] is imported (axes [${axes.join(', ')}])`,
          );
        out = keep ? [shape[0]!, 1, 1] : [shape[0]!];
        digital(node);
        break;
      }
      case 'Flatten':
      case 'Reshape':
      case 'Squeeze': {
        const shape = x();
        const size = shape.reduce((p, d) => p * d, 1);
        if (node.opType === 'Flatten' && int(node.attributes.get('axis'), 1) !== 1)
          throw new OnnxImportError(
            `${describe(node)}: only Flatten with axis 1 (keep the batch) is imported`,
          );
        if (node.opType === 'Reshape') {
          const target = Array.from(weightOf(node, node.inputs[1], 'target shape').data);
          const rest = target.slice(1);
          if (!(rest.length === 1 && (rest[0] === -1 || rest[0] === size)))
            throw new OnnxImportError(
              `${describe(node)}: reshapes to [${target.join(', ')}]; only a reshape to [N, features] is imported`,
            );
        }
        out = [size];
        digital(node);
        break;
      }
      default: {
        if (ELEMENTWISE.has(node.opType)) {
          out = x();
          digital(node);
          break;
        }
        if (BINARY.has(node.opType)) {
          const [a, b] = [shapeOf(node, node.inputs[0]!), shapeOf(node, node.inputs[1]!)];
          // A constant operand (a bias or a scale) takes the other operand's shape.
          out = constant(node.inputs[0]!) ? b : a;
          if (!constant(node.inputs[0]!) && !constant(node.inputs[1]!) && a.join() !== b.join())
            throw new OnnxImportError(
              `${describe(node)}: adds tensors of shapes [${a.join(', ')}] and [${b.join(', ')}]; only same-shaped residual adds are imported`,
            );
          digital(node);
          break;
        }
        throw new OnnxImportError(
          `${describe(node)} is not supported: imcnas maps Conv (ordinary and depthwise), Gemm and MatMul onto the arrays and runs BatchNormalization, activations, pooling, residual adds and flattening digitally; rewrite or remove this op`,
        );
      }
    }
    // Only the first output carries the data (Dropout's second is its mask).
    if (node.outputs[0] !== undefined) {
      shapes.set(node.outputs[0], out);
      lastOutput = node.outputs[0];
    }
  }
  if (layers.length === 0)
    throw new OnnxImportError('the model has no Conv, Gemm or MatMul: nothing to map onto the arrays');
  return { layers, digitalOps, outputShape: shapes.get(model.outputs[0]?.name ?? lastOutput) ?? [] };
}
