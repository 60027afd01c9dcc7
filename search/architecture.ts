/**
 * The network half of a candidate: the operator table, a plain-JSON description of one chosen network
 * (`ArchitectureSpec`), its quantization, and the list of weight layers the crossbar cost model maps
 * (`layerShapes`). No tfjs here: the supernet builds its single-path forward from these plain objects,
 * and activities pass them around as JSON.
 */

import type { LayerShape } from '../hardware/types';
import { squareKernelLayer } from '../hardware/networks';

// ---------------------------------------------------------------------------------------------------
// Operators
// ---------------------------------------------------------------------------------------------------

/**
 * - `conv`: k×k convolution + BatchNorm + ReLU (plain, no residual).
 * - `dwsep`: depthwise-separable (MobileNetV1): k×k depthwise + BN + ReLU, then 1×1 pointwise + BN + ReLU.
 * - `mbconv`: inverted residual (MobileNetV2): 1×1 expand to in·e channels (omitted when e = 1, as in
 *   MobileNetV2), k×k depthwise, linear 1×1 project; identity shortcut when stride 1 and in = out.
 * - `skip`: identity, for variable depth. Has no weights.
 */
export type OperatorFamily = 'conv' | 'dwsep' | 'mbconv' | 'skip';

export interface OperatorDefinition {
  family: OperatorFamily;
  /** Spatial kernel of the k×k stage; 0 for skip. */
  kernel: number;
  /** Hidden-channel multiplier of an inverted residual; 1 for conv/dwsep, 0 for skip. */
  expansion: number;
}

/**
 * The declarative operator table. Kernels {3,5,7} and expansions {1,3,6} are the MobileNetV2-style
 * choices CIMNAS searches (Krestinskaya et al. 2025; docs/sources.md §Search defaults). Adding an operator
 * here makes it available to configs.
 */
export const OPERATORS = {
  conv3: { family: 'conv', kernel: 3, expansion: 1 },
  conv5: { family: 'conv', kernel: 5, expansion: 1 },
  conv7: { family: 'conv', kernel: 7, expansion: 1 },
  dwsep3: { family: 'dwsep', kernel: 3, expansion: 1 },
  dwsep5: { family: 'dwsep', kernel: 5, expansion: 1 },
  dwsep7: { family: 'dwsep', kernel: 7, expansion: 1 },
  mbconv3_e1: { family: 'mbconv', kernel: 3, expansion: 1 },
  mbconv3_e3: { family: 'mbconv', kernel: 3, expansion: 3 },
  mbconv3_e6: { family: 'mbconv', kernel: 3, expansion: 6 },
  mbconv5_e1: { family: 'mbconv', kernel: 5, expansion: 1 },
  mbconv5_e3: { family: 'mbconv', kernel: 5, expansion: 3 },
  mbconv5_e6: { family: 'mbconv', kernel: 5, expansion: 6 },
  mbconv7_e3: { family: 'mbconv', kernel: 7, expansion: 3 },
  mbconv7_e6: { family: 'mbconv', kernel: 7, expansion: 6 },
  skip: { family: 'skip', kernel: 0, expansion: 0 },
} as const satisfies Record<string, OperatorDefinition>;

export type OperatorName = keyof typeof OPERATORS;

export const OPERATOR_NAMES = Object.keys(OPERATORS) as [OperatorName, ...OperatorName[]];

export function isOperatorName(name: string): name is OperatorName {
  return Object.prototype.hasOwnProperty.call(OPERATORS, name);
}

export function operatorDefinition(name: OperatorName): OperatorDefinition {
  return OPERATORS[name];
}

// ---------------------------------------------------------------------------------------------------
// Architecture description
// ---------------------------------------------------------------------------------------------------

export interface StemSpec {
  kernel: number;
  stride: number;
  /** Input channels are `inputShape[2]`. */
  outChannels: number;
}

/** One searchable block slot, as chosen. Skip slots are kept so that slot i is always blocks[i]. */
export interface BlockSpec {
  /** Position among all searchable blocks (the supernet's choice-block index). */
  slot: number;
  stage: number;
  indexInStage: number;
  operator: OperatorName;
  family: OperatorFamily;
  /** 0 for skip. */
  kernel: number;
  /** 0 for skip; 1 for conv and dwsep. */
  expansion: number;
  /** Stride this block applies (only the first block of a stage strides; skip is always 1). */
  stride: number;
  inChannels: number;
  outChannels: number;
  /** Channels the depthwise stage works on: in·e for mbconv, in for dwsep, 0 for conv and skip. */
  hiddenChannels: number;
  /**
   * Identity shortcut around the block: mbconv when stride = 1 and in = out; a conv block only in a
   * hand-designed baseline (search/baseline.ts), under the same condition.
   */
  residual: boolean;
}

export interface HeadSpec {
  /** Optional 1×1 conv + BN + ReLU before global average pooling; null = none. */
  convChannels: number | null;
  numClasses: number;
}

/** A chosen network as plain JSON: stem → blocks → (1×1 conv) → global average pool → dense. */
export interface ArchitectureSpec {
  /** [height, width, channels]; convolutions use 'same' padding. */
  inputShape: [number, number, number];
  stem: StemSpec;
  blocks: BlockSpec[];
  head: HeadSpec;
}

export interface LayerBits {
  weightBits: number;
  /** Bits of the activations entering the layer (what the DACs feed the array). */
  activationBits: number;
}

/**
 * Bits per quantization unit. Every weight layer inside one block shares the block's bits (a block's
 * operator decides how many layers it has, so a fixed-length genome cannot give each its own gene).
 * Skip blocks have no weights, hence `null`. `head` covers the optional head conv and the classifier.
 */
export interface QuantizationSpec {
  stem: LayerBits;
  blocks: Array<LayerBits | null>;
  head: LayerBits;
}

/** Hidden channels of the depthwise stage of a block (see BlockSpec.hiddenChannels). */
export function hiddenChannelsOf(family: OperatorFamily, inChannels: number, expansion: number): number {
  switch (family) {
    case 'mbconv':
      return inChannels * expansion;
    case 'dwsep':
      return inChannels;
    case 'conv':
    case 'skip':
      return 0;
  }
}

/** Whether a block gets an identity shortcut (the inverted-residual rule of MobileNetV2). */
export function hasResidual(family: OperatorFamily, stride: number, inChannels: number, outChannels: number) {
  return family === 'mbconv' && stride === 1 && inChannels === outChannels;
}

/** 'Same' padding: the output is ⌈input / stride⌉ whatever the kernel. */
export function sameOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/** Every inconsistency in a spec (channel chain, operator fields, residual rule); empty when valid. */
export function validateArchitecture(spec: ArchitectureSpec): string[] {
  const problems: string[] = [];
  const [height, width, channels] = spec.inputShape;
  for (const [name, value] of [
    ['inputShape height', height],
    ['inputShape width', width],
    ['inputShape channels', channels],
    ['stem.kernel', spec.stem.kernel],
    ['stem.stride', spec.stem.stride],
    ['stem.outChannels', spec.stem.outChannels],
    ['head.numClasses', spec.head.numClasses],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      problems.push(`${name}: must be a positive integer, got ${value}`);
  }
  if (
    spec.head.convChannels !== null &&
    !(Number.isInteger(spec.head.convChannels) && spec.head.convChannels > 0)
  ) {
    problems.push(`head.convChannels: must be a positive integer or null, got ${spec.head.convChannels}`);
  }
  let current = spec.stem.outChannels;
  spec.blocks.forEach((block, i) => {
    const where = `blocks[${i}] (${block.operator})`;
    if (block.slot !== i) problems.push(`${where}: slot is ${block.slot}, expected ${i}`);
    if (!isOperatorName(block.operator)) {
      problems.push(`${where}: unknown operator`);
      return;
    }
    const op = OPERATORS[block.operator];
    if (block.family !== op.family) problems.push(`${where}: family ${block.family}, expected ${op.family}`);
    if (block.kernel !== op.kernel) problems.push(`${where}: kernel ${block.kernel}, expected ${op.kernel}`);
    if (block.expansion !== op.expansion)
      problems.push(`${where}: expansion ${block.expansion}, expected ${op.expansion}`);
    if (block.inChannels !== current)
      problems.push(`${where}: inChannels ${block.inChannels} ≠ previous output ${current}`);
    if (!(Number.isInteger(block.outChannels) && block.outChannels > 0))
      problems.push(`${where}: outChannels must be a positive integer, got ${block.outChannels}`);
    if (block.stride !== 1 && block.stride !== 2) problems.push(`${where}: stride must be 1 or 2`);
    if (op.family === 'skip' && (block.stride !== 1 || block.outChannels !== block.inChannels)) {
      problems.push(`${where}: skip is an identity, so it needs stride 1 and in = out channels`);
    }
    const hidden = hiddenChannelsOf(op.family, block.inChannels, op.expansion);
    if (block.hiddenChannels !== hidden)
      problems.push(`${where}: hiddenChannels ${block.hiddenChannels}, expected ${hidden}`);
    const residual = hasResidual(op.family, block.stride, block.inChannels, block.outChannels);
    // A conv block may also carry a shortcut when stride 1 and in = out (the ResNet-style hand-designed
    // baselines, search/baseline.ts); the search never sets one.
    const optionalShortcut =
      op.family === 'conv' && block.stride === 1 && block.inChannels === block.outChannels;
    if (block.residual !== residual && !(optionalShortcut && block.residual))
      problems.push(`${where}: residual ${block.residual}, expected ${residual}`);
    current = block.outChannels;
  });
  return problems;
}

/** The channels entering the head (the last block's output, or the stem's when there are no blocks). */
export function finalFeatureChannels(spec: ArchitectureSpec): number {
  const last = spec.blocks[spec.blocks.length - 1];
  return last ? last.outChannels : spec.stem.outChannels;
}

/** Weights feeding one output channel: a depthwise filter sees one input channel, the others all. */
function weightsPerOutputChannel(layer: LayerShape): number {
  const kernelArea = layer.kernelH * layer.kernelW;
  return layer.kind === 'depthwise' ? kernelArea : layer.inChannels * kernelArea;
}

/** Multiply-accumulates per image (for quick reporting; the cost model derives its own from layers). */
export function macsPerImage(layers: LayerShape[]): number {
  let macs = 0;
  for (const layer of layers)
    macs += weightsPerOutputChannel(layer) * layer.outChannels * layer.outH * layer.outW;
  return macs;
}

/** Number of weights (no biases/BN; those stay digital) per image. */
export function weightCount(layers: LayerShape[]): number {
  let weights = 0;
  for (const layer of layers) weights += weightsPerOutputChannel(layer) * layer.outChannels;
  return weights;
}

/**
 * Every weight layer of the network in execution order, as the crossbar mapper sees it: the stem conv,
 * each conv / depthwise / pointwise (expand, project) in every non-skip block, the optional head conv and
 * the classifier dense layer. Output sizes follow 'same' padding and the strides. A depthwise layer lists
 * inChannels = outChannels = channels (multiplier 1), each output channel seeing only its own input.
 * Layers of one block share that block's bits; the head conv and the classifier share `quantization.head`.
 */
export function layerShapes(spec: ArchitectureSpec, quantization: QuantizationSpec): LayerShape[] {
  if (quantization.blocks.length !== spec.blocks.length) {
    throw new Error(
      `layerShapes: quantization has ${quantization.blocks.length} block entries, the architecture has ${spec.blocks.length} blocks`,
    );
  }
  const layers: LayerShape[] = [];
  const [inputH, inputW, inputChannels] = spec.inputShape;
  let h = sameOutputSize(inputH, spec.stem.stride);
  let w = sameOutputSize(inputW, spec.stem.stride);
  const add = (...args: Parameters<typeof squareKernelLayer>) => layers.push(squareKernelLayer(...args));

  add(
    'stem',
    'conv',
    inputChannels,
    spec.stem.outChannels,
    spec.stem.kernel,
    spec.stem.stride,
    h,
    w,
    quantization.stem,
  );

  spec.blocks.forEach((block, i) => {
    if (block.family === 'skip') return;
    const bits = quantization.blocks[i];
    if (!bits)
      throw new Error(`layerShapes: block ${i} (${block.operator}) has weights but no quantization entry`);
    const prefix = `stage${block.stage}.block${block.indexInStage}`;
    const outH = sameOutputSize(h, block.stride);
    const outW = sameOutputSize(w, block.stride);
    switch (block.family) {
      case 'conv':
        add(
          `${prefix}.conv`,
          'conv',
          block.inChannels,
          block.outChannels,
          block.kernel,
          block.stride,
          outH,
          outW,
          bits,
        );
        break;
      case 'dwsep':
        add(
          `${prefix}.depthwise`,
          'depthwise',
          block.inChannels,
          block.inChannels,
          block.kernel,
          block.stride,
          outH,
          outW,
          bits,
        );
        add(`${prefix}.pointwise`, 'conv', block.inChannels, block.outChannels, 1, 1, outH, outW, bits);
        break;
      case 'mbconv':
        if (block.expansion > 1) {
          // The expand conv runs before the stride, at the block's input resolution.
          add(`${prefix}.expand`, 'conv', block.inChannels, block.hiddenChannels, 1, 1, h, w, bits);
        }
        add(
          `${prefix}.depthwise`,
          'depthwise',
          block.hiddenChannels,
          block.hiddenChannels,
          block.kernel,
          block.stride,
          outH,
          outW,
          bits,
        );
        add(`${prefix}.project`, 'conv', block.hiddenChannels, block.outChannels, 1, 1, outH, outW, bits);
        break;
    }
    h = outH;
    w = outW;
  });

  let channels = finalFeatureChannels(spec);
  if (spec.head.convChannels !== null) {
    add('head.conv', 'conv', channels, spec.head.convChannels, 1, 1, h, w, quantization.head);
    channels = spec.head.convChannels;
  }
  // After global average pooling the classifier is one matrix-vector product per image.
  add('head.classifier', 'dense', channels, spec.head.numClasses, 1, 1, 1, 1, quantization.head);
  return layers;
}
