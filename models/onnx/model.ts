/**
 * An ONNX model (onnx/onnx.proto, IR version ≥ 3) decoded into plain objects: the graph's nodes in file
 * order (ONNX requires topological order), its initializers (the weights) as Float32Arrays, and its
 * inputs and outputs with their shapes. Only the parts a CNN description needs are read; sparse
 * initializers, external data, sub-graphs and training information are refused or ignored as noted.
 */
import { Message, ProtobufError } from './protobuf';

/** The metadata entry where imcnas's own export records each layer's bits and input grid (models/onnx/export.ts). */
export const ONNX_LAYER_METADATA_KEY = 'imcnas.layers';

export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

export type OnnxAttribute = number | number[] | string | string[] | Float32Array;

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface OnnxValueInfo {
  name: string;
  /** Each dimension's size; null for a symbolic or unknown one (e.g. the batch). */
  shape: Array<number | null> | null;
}

export interface OnnxModel {
  irVersion: number;
  /** Version of the default ("" / ai.onnx) operator set. */
  opsetVersion: number | null;
  producer: string;
  graphName: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The model's metadata_props (key → value). */
  metadata: Map<string, string>;
}

// onnx.proto field numbers.
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  opsetImport: 8,
  graph: 7,
  metadata: 14,
} as const;
const ENTRY = { key: 1, value: 2 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, sparseInitializer: 15, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, strings: 9, type: 20 } as const;
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;
const TENSOR = {
  dims: 1,
  dataType: 2,
  floatData: 4,
  int32Data: 5,
  int64Data: 7,
  name: 8,
  rawData: 9,
} as const;
const TENSOR_LOCATION = 14;
const DATA_TYPE = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE_TENSOR = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM = { value: 1, param: 2 } as const;

function decodeTensor(message: Message, where: string): OnnxTensor {
  const name = message.string(TENSOR.name);
  const dims = message.ints(TENSOR.dims);
  const count = dims.reduce((product, d) => product * d, 1);
  if (message.int(TENSOR_LOCATION) === 1)
    throw new OnnxFormatError(
      `${where} ${JSON.stringify(name)} keeps its data in an external file: save the model with its weights inside (onnx.save_model(model, path, save_as_external_data=False))`,
    );
  const dataType = message.int(TENSOR.dataType);
  const raw = message.bytes(TENSOR.rawData);
  let data: Float32Array;
  if (raw !== undefined) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = dataType === DATA_TYPE.FLOAT || dataType === DATA_TYPE.INT32 ? 4 : 8;
    if (raw.byteLength !== count * size)
      throw new OnnxFormatError(
        `${where} ${JSON.stringify(name)}: ${raw.byteLength} bytes of data for dims [${dims.join(', ')}]`,
      );
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      if (dataType === DATA_TYPE.FLOAT) data[i] = view.getFloat32(i * 4, true);
      else if (dataType === DATA_TYPE.INT32) data[i] = view.getInt32(i * 4, true);
      else if (dataType === DATA_TYPE.INT64) data[i] = Number(view.getBigInt64(i * 8, true));
      else if (dataType === DATA_TYPE.DOUBLE) data[i] = view.getFloat64(i * 8, true);
      else
        throw new OnnxFormatError(
          `${where} ${JSON.stringify(name)} has data type ${dataType}: only float, double, int32 and int64 tensors are read`,
        );
    }
  } else if (dataType === DATA_TYPE.FLOAT) {
    data = Float32Array.from(message.floats(TENSOR.floatData));
  } else if (dataType === DATA_TYPE.INT64) {
    data = Float32Array.from(message.ints(TENSOR.int64Data));
  } else if (dataType === DATA_TYPE.INT32) {
    data = Float32Array.from(message.ints(TENSOR.int32Data));
  } else {
    throw new OnnxFormatError(
      `${where} ${JSON.stringify(name)} has data type ${dataType}: only float, double, int32 and int64 tensors are read`,
    );
  }
  if (data.length !== count)
    throw new OnnxFormatError(
      `${where} ${JSON.stringify(name)}: ${data.length} values for dims [${dims.join(', ')}]`,
    );
  return { name, dims, data };
}

function decodeAttribute(message: Message, nodeName: string): [string, OnnxAttribute] {
  const name = message.string(ATTRIBUTE.name);
  const type = message.int(ATTRIBUTE.type);
  switch (type) {
    case ATTRIBUTE_TYPE.FLOAT:
      return [name, message.float(ATTRIBUTE.f)];
    case ATTRIBUTE_TYPE.INT:
      return [name, message.int(ATTRIBUTE.i)];
    case ATTRIBUTE_TYPE.STRING:
      return [name, message.string(ATTRIBUTE.s)];
    case ATTRIBUTE_TYPE.TENSOR:
      return [
        name,
        decodeTensor(message.message(ATTRIBUTE.t)!, `attribute ${name} of node ${nodeName}:`).data,
      ];
    case ATTRIBUTE_TYPE.FLOATS:
      return [name, message.floats(ATTRIBUTE.floats)];
    case ATTRIBUTE_TYPE.INTS:
      return [name, message.ints(ATTRIBUTE.ints)];
    case ATTRIBUTE_TYPE.STRINGS:
      return [name, message.strings(ATTRIBUTE.strings)];
    default:
      // Graphs (If/Loop bodies), sparse tensors and type protos: kept out; a node using them is refused
      // by the network mapping anyway.
      return [name, []];
  }
}

function decodeValueInfo(message: Message): OnnxValueInfo {
  const name = message.string(VALUE_INFO.name);
  const tensorType = message.message(VALUE_INFO.type)?.message(TYPE_TENSOR);
  const shape = tensorType?.message(TENSOR_TYPE_SHAPE);
  return {
    name,
    shape:
      shape === undefined
        ? null
        : shape.messages(SHAPE_DIM).map((dim) => (dim.has(DIM.value) ? dim.int(DIM.value) : null)),
  };
}

/** Decodes an ONNX file's bytes. Throws OnnxFormatError naming what is wrong. */
export function decodeOnnxModel(bytes: Uint8Array, file = 'the model'): OnnxModel {
  let model: Message;
  try {
    model = new Message(bytes);
    const graph = model.message(MODEL.graph);
    if (!graph || !model.has(MODEL.irVersion)) throw new ProtobufError('no ir_version or graph');
  } catch (error) {
    throw new OnnxFormatError(
      `${file} is not an ONNX model (${(error as Error).message}): export one with torch.onnx.export or tf2onnx`,
    );
  }
  const graph = model.message(MODEL.graph)!;
  if (graph.has(GRAPH.sparseInitializer))
    throw new OnnxFormatError(`${file} has sparse initializers: export it with dense weights`);
  const opset = model
    .messages(MODEL.opsetImport)
    .find((entry) => ['', 'ai.onnx'].includes(entry.string(OPSET.domain)));
  const initializers = new Map<string, OnnxTensor>();
  for (const tensor of graph.messages(GRAPH.initializer)) {
    const decoded = decodeTensor(tensor, `${file}: initializer`);
    initializers.set(decoded.name, decoded);
  }
  const nodes = graph.messages(GRAPH.node).map((node, index): OnnxNode => {
    const name = node.string(NODE.name) || `#${index} (${node.string(NODE.opType)})`;
    return {
      name,
      opType: node.string(NODE.opType),
      domain: node.string(NODE.domain),
      inputs: node.strings(NODE.input),
      outputs: node.strings(NODE.output),
      attributes: new Map(node.messages(NODE.attribute).map((attribute) => decodeAttribute(attribute, name))),
    };
  });
  return {
    irVersion: model.int(MODEL.irVersion),
    opsetVersion: opset ? opset.int(OPSET.version) : null,
    producer: [model.string(MODEL.producerName), model.string(MODEL.producerVersion)]
      .filter(Boolean)
      .join(' '),
    graphName: graph.string(GRAPH.name),
    nodes,
    initializers,
    // Older exporters list the initializers among the inputs too; those are weights, not data inputs.
    inputs: graph
      .messages(GRAPH.input)
      .map(decodeValueInfo)
      .filter((input) => !initializers.has(input.name)),
    outputs: graph.messages(GRAPH.output).map(decodeValueInfo),
    metadata: new Map(
      model.messages(MODEL.metadata).map((entry) => [entry.string(ENTRY.key), entry.string(ENTRY.value)]),
    ),
  };
}
