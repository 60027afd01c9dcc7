/**
 * An ONNX CNN's architecture as a hand-designed baseline (search/baseline.ts): a stem conv, stages of k×k
 * conv blocks (the first block of a stage may stride), optional identity shortcuts around the blocks that
 * keep width and resolution, an optional 1×1 head conv, global average pooling and the classifier. Such a
 * network then runs through the same retraining from scratch, noisy test and cost model as a found design
 * (its weights are not kept: every design is retrained with the same recipe, so the comparison is fair).
 *
 * Networks outside that family are refused naming the node that does not fit: depthwise convolutions,
 * pooling before the global pooling, shortcuts that skip more than one conv or project, mixed block
 * kernels, shortcuts on some eligible blocks and not others.
 */
import type { BaselineNetworkInput } from '../../search/baseline';
import { onnxLayerShapes, OnnxImportError, type OnnxLayerOptions } from './layers';
import type { OnnxModel, OnnxNode } from './model';

/** Ops a value passes through unchanged in structure (between a conv and what reads it). */
const TRANSPARENT = new Set(['BatchNormalization', 'Relu', 'Clip', 'Identity', 'Dropout']);

export function onnxBaselineNetwork(
  model: OnnxModel,
  name: string,
  options: OnnxLayerOptions & { numClasses: number },
): BaselineNetworkInput {
  const { layers } = onnxLayerShapes(model, options);
  const describe = (node: OnnxNode) => `node ${JSON.stringify(node.name)} (${node.opType})`;
  const producer = new Map<string, OnnxNode>();
  for (const node of model.nodes) for (const output of node.outputs) producer.set(output, node);
  /** The weight layer (Conv/Gemm node) a value comes from, through transparent ops; null for the input. */
  const sourceLayer = (value: string): OnnxNode | null => {
    let node = producer.get(value);
    while (node && TRANSPARENT.has(node.opType)) node = producer.get(node.inputs[0]!);
    return node ?? null;
  };

  for (const node of model.nodes) {
    if (node.opType === 'MaxPool' || node.opType === 'AveragePool')
      throw new OnnxImportError(
        `${describe(node)}: a baseline downsamples with strided convolutions; replace the pooling by a stride-2 conv, or cost the network as it is with \`imcnas cost\``,
      );
  }
  const depthwise = layers.find((layer) => layer.kind === 'depthwise');
  if (depthwise)
    throw new OnnxImportError(
      `node ${JSON.stringify(depthwise.name)} (Conv): a depthwise convolution; baselines are stacks of ordinary k×k convolutions (cost it with \`imcnas cost\`)`,
    );
  const classifier = layers[layers.length - 1]!;
  if (classifier.kind !== 'dense' || layers.slice(0, -1).some((layer) => layer.kind === 'dense'))
    throw new OnnxImportError(
      'a baseline ends in one classifier (Gemm or MatMul) after global average pooling, with no other dense layer',
    );
  if (classifier.outChannels !== options.numClasses)
    throw new OnnxImportError(
      `the classifier ${JSON.stringify(classifier.name)} has ${classifier.outChannels} outputs, the dataset ${options.numClasses} classes`,
    );

  // Identity shortcuts: an Add of a conv's output and that conv's own input.
  const residual = new Set<string>();
  for (const node of model.nodes.filter((n) => n.opType === 'Add')) {
    const [a, b] = node.inputs.map(sourceLayer);
    if (model.initializers.has(node.inputs[0]!) || model.initializers.has(node.inputs[1]!)) continue; // a bias
    const around = [a, b].find((conv) => {
      if (!conv || conv.opType !== 'Conv') return false;
      const other = conv === a ? b : a;
      return sourceLayer(conv.inputs[0]!) === other;
    });
    if (!around)
      throw new OnnxImportError(
        `${describe(node)}: only identity shortcuts around one convolution map onto a baseline (conv(x) + x)`,
      );
    residual.add(around.name);
  }

  const [stem, ...rest] = layers.slice(0, -1);
  if (!stem || stem.kind !== 'conv' || stem.stride > 2 || ![1, 3, 5, 7].includes(stem.kernelH))
    throw new OnnxImportError('a baseline starts with one conv (kernel 1, 3, 5 or 7, stride 1 or 2)');
  let head: number | undefined;
  const blocks = [...rest];
  const last = blocks[blocks.length - 1];
  if (last && last.kernelH === 1 && blocks.some((layer) => layer.kernelH !== 1)) {
    head = last.outChannels;
    blocks.pop();
  }
  if (blocks.length === 0) throw new OnnxImportError('a baseline has at least one conv block after the stem');
  const kernel = blocks[0]!.kernelH;
  const odd = blocks.find(
    (layer) => layer.kernelH !== kernel || layer.kernelW !== kernel || ![3, 5, 7].includes(layer.kernelH),
  );
  if (odd)
    throw new OnnxImportError(
      `node ${JSON.stringify(odd.name)} (Conv): its ${odd.kernelH}×${odd.kernelW} kernel differs from the first block's ${kernel}×${kernel}; a baseline's blocks share one kernel of 3, 5 or 7`,
    );
  const stages: Array<{ blocks: number; channels: number; stride: 1 | 2 }> = [];
  let eligible = 0;
  for (const layer of blocks) {
    if (layer.stride > 2)
      throw new OnnxImportError(
        `node ${JSON.stringify(layer.name)} (Conv): stride ${layer.stride}; blocks stride 1 or 2`,
      );
    const current = stages[stages.length - 1];
    if (current && layer.stride === 1 && layer.outChannels === current.channels) current.blocks++;
    else stages.push({ blocks: 1, channels: layer.outChannels, stride: layer.stride as 1 | 2 });
    if (layer.stride === 1 && layer.inChannels === layer.outChannels) eligible++;
    else if (residual.has(layer.name))
      throw new OnnxImportError(
        `node ${JSON.stringify(layer.name)} (Conv): a shortcut around a block that changes width or resolution`,
      );
  }
  if (residual.size > 0 && residual.size !== eligible)
    throw new OnnxImportError(
      `${residual.size} of the ${eligible} blocks that keep width and resolution have identity shortcuts; a baseline has them on all or none`,
    );
  const bits = new Set(layers.map((layer) => `${layer.weightBits}/${layer.activationBits}`));
  if (bits.size > 1)
    throw new OnnxImportError(
      `the layers have different bits (${[...bits].join(', ')}); a baseline takes one weight and one activation width: give --weight-bits and --activation-bits`,
    );
  return {
    name,
    stem: { channels: stem.outChannels, kernel: stem.kernelH as 1 | 3 | 5 | 7, stride: stem.stride as 1 | 2 },
    stages,
    kernel: kernel as 3 | 5 | 7,
    residual: residual.size > 0,
    ...(head === undefined ? {} : { headChannels: head }),
    weightBits: stem.weightBits,
    activationBits: stem.activationBits,
  };
}
