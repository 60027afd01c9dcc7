/**
 * Hand-designed baselines: fixed networks on a fixed default chip, measured through the same retraining,
 * noisy test and cost model as the searched designs, so every report can say how much the search gained
 * (issue #15: CIMNAS compares its joint search with hand-designed networks on a fixed chip).
 *
 * A baseline network is described explicitly (stem, stages of k×k convolutions with their channels and
 * strides, identity shortcuts, bits) and is not limited to the search space: it becomes a search space of
 * exactly one choice per gene (`baselineSpace`), so the supernet, the trainer, the folded network, the chip
 * simulation and the cost model all run it unchanged. Its single genome is all zeros.
 *
 * Shortcuts (`residual: true`): every conv block with stride 1 and as many input as output channels adds
 * its input to its output, `y = ReLU(BN(conv(x))) + x` — a residual unit with one convolution inside the
 * shortcut (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016 put two; one keeps the
 * networks small enough for a CPU demo). The add is digital, beside the arrays, as for the searched
 * networks' inverted residuals (models/pathTopology.ts), and costs nothing in the cost model.
 */
import { z } from 'zod';
import type { ArchitectureSpec } from './architecture';
import { DEVICE_FAMILIES } from '../hardware/devices';
import { TECH_NODES } from '../hardware/technology';
import { decode, type Candidate } from './space/codec';
import { checkFeasible } from './space/feasibility';
import { describeCandidate } from './space/keys';
import { buildLayout } from './space/layout';
import { resolveSearchSpace } from './space/parse';
import { defaultHardwareRules } from './space/rules';
import { ADC_TYPES, CROSSBAR_SIZES, type SearchSpace } from './space/schema';

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const BaselineStemSchema = z.strictObject({
  channels: z.int().min(1).max(1024).describe('output channels of the stem conv'),
  kernel: z.literal([1, 3, 5, 7]).default(3).describe('kernel size of the stem conv'),
  stride: z.literal([1, 2]).default(1).describe('stride of the stem conv'),
});

const BaselineStageSchema = z.strictObject({
  blocks: z.int().min(1).max(16).describe('conv blocks in the stage'),
  channels: z.int().min(1).max(4096).describe('output channels of every block of the stage'),
  stride: z.literal([1, 2]).default(1).describe("stride of the stage's first block"),
});

export const BaselineNetworkSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME_PATTERN, 'must be 1–40 lower-case letters, digits, dashes or underscores (it names files)')
    .describe('names the baseline in results and its directory baseline/<name>/'),
  stem: BaselineStemSchema.describe('the first conv'),
  stages: z.array(BaselineStageSchema).min(1).max(12).describe('stages of k×k conv blocks, input to output'),
  kernel: z.literal([3, 5, 7]).default(3).describe('kernel size of every block conv'),
  residual: z
    .boolean()
    .default(false)
    .describe('identity shortcut around every block with stride 1 and in = out channels (ResNet-style)'),
  headChannels: z
    .int()
    .min(1)
    .max(4096)
    .optional()
    .describe('a 1×1 conv before global average pooling; omit for none'),
  weightBits: z.int().min(1).max(16).default(8).describe('weight bits of every layer'),
  activationBits: z.int().min(1).max(16).default(8).describe('input-activation bits of every layer'),
});
export type BaselineNetwork = z.output<typeof BaselineNetworkSchema>;
export type BaselineNetworkInput = z.input<typeof BaselineNetworkSchema>;

/**
 * The built-in networks for 28×28 grey images (Fashion-MNIST). Both use a stride-2 stem (28×28 → 14×14),
 * as examples/quick.yaml does (about 0.1 % of test accuracy for 2.7× less work), then stages that double
 * the channels when they halve the resolution (Simonyan & Zisserman, ICLR 2015; He et al., CVPR 2016).
 * - vgg: a 16-channel stem, then plain 3×3 convolutions, 32 then 64 channels, two blocks each (VGG-style,
 *   5 conv layers + the classifier, 5.4 M multiply-accumulates per image);
 * - resnet: a 32-channel stem, three blocks per stage at the same widths, identity shortcuts around the 5
 *   blocks that keep their width and resolution (ResNet-style, 10.0 M multiply-accumulates per image).
 */
export const BASELINE_PRESETS = {
  vgg: {
    name: 'vgg',
    stem: { channels: 16, kernel: 3, stride: 2 },
    stages: [
      { blocks: 2, channels: 32, stride: 1 },
      { blocks: 2, channels: 64, stride: 2 },
    ],
    kernel: 3,
    residual: false,
    weightBits: 8,
    activationBits: 8,
  },
  resnet: {
    name: 'resnet',
    stem: { channels: 32, kernel: 3, stride: 2 },
    stages: [
      { blocks: 3, channels: 32, stride: 1 },
      { blocks: 3, channels: 64, stride: 2 },
    ],
    kernel: 3,
    residual: true,
    weightBits: 8,
    activationBits: 8,
  },
} as const satisfies Record<string, BaselineNetwork>;
export type BaselinePresetName = keyof typeof BASELINE_PRESETS;
const PRESET_NAMES = Object.keys(BASELINE_PRESETS) as [BaselinePresetName, ...BaselinePresetName[]];

/**
 * The default chip: RRAM 1T1R, 128×128 arrays, 6-bit SAR ADCs (issue #15's "RRAM 128×128, 6-bit ADC"),
 * and otherwise DNN+NeuroSim V1.4's default configuration as in the fixture
 * bench/fixtures/neurosim/rram22_c2_a128_sar5_lbl.json: 22 nm, 2 bits per cell, one input bit per cycle,
 * 8 columns per ADC (NeuroSim's numColMuxed; docs/hardware-model.md).
 */
export const BaselineChipSchema = z
  .strictObject({
    device: z
      .string()
      .regex(new RegExp(`^(${DEVICE_FAMILIES.join('|')})(-[a-z0-9]+(-[a-z0-9]+)*)?$`), {
        error: `must be ${DEVICE_FAMILIES.join(', ')} or a preset named <family>-<preset> (e.g. rram-neurram)`,
      })
      .default('rram')
      .describe('device family or library preset'),
    rows: z
      .literal(CROSSBAR_SIZES, { error: `must be a power of two from 8 to 1024` })
      .default(128)
      .describe('array rows'),
    cols: z
      .literal(CROSSBAR_SIZES, { error: `must be a power of two from 8 to 1024` })
      .default(128)
      .describe('array columns'),
    adcBits: z.int().min(1).max(12).default(6).describe('ADC resolution'),
    adcType: z.enum(ADC_TYPES).default('sar').describe('ADC architecture: sar or flash'),
    dacBits: z.int().min(1).max(8).default(1).describe('input bits applied per cycle'),
    bitsPerCell: z.int().min(1).max(8).default(2).describe('bits stored per cell'),
    colsPerAdc: z.int().min(1).max(1024).default(8).describe('columns multiplexed onto one ADC'),
    techNode: z.literal(TECH_NODES).default(22).describe('technology node in nm'),
  })
  .superRefine((chip, ctx) => {
    if (chip.colsPerAdc > chip.cols)
      ctx.addIssue({
        code: 'custom',
        path: ['colsPerAdc'],
        message: `${chip.colsPerAdc} columns per ADC exceeds the ${chip.cols} columns of an array: use at most ${chip.cols}`,
      });
  });
export type BaselineChip = z.output<typeof BaselineChipSchema>;

export const BaselineSchema = z
  .strictObject({
    networks: z
      .array(z.union([z.string(), BaselineNetworkSchema]))
      .max(8)
      .default(() => [...PRESET_NAMES])
      .describe(
        `${PRESET_NAMES.join(', ')} (built in) or { name, stem: { channels, kernel, stride }, stages: [{ blocks, channels, stride }], kernel, residual, headChannels, weightBits, activationBits }; [] for none`,
      ),
    chip: BaselineChipSchema.prefault({}).describe(
      'the fixed chip every baseline runs on (default RRAM 22 nm, 128×128, 6-bit SAR ADC, 2 bits/cell)',
    ),
  })
  .superRefine(
    (baseline, ctx) => {
      // Runs even when other fields have problems (so every problem is listed at once): check shapes.
      if (!Array.isArray(baseline.networks)) return;
      const seen = new Map<string, number>();
      baseline.networks.forEach((network, index) => {
        if (typeof network === 'string' && !isPresetName(network)) {
          ctx.addIssue({
            code: 'custom',
            path: ['networks', index],
            message: `unknown baseline network "${network}": use ${PRESET_NAMES.join(' or ')}, or describe one as { name, stem, stages, … }`,
          });
          return;
        }
        const name =
          typeof network === 'string' ? network : (network as Partial<BaselineNetwork> | null)?.name;
        if (typeof name !== 'string') return;
        const first = seen.get(name);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['networks', index],
            message: `baseline name "${name}" is used twice (networks[${first}] too): give each a distinct name`,
          });
        seen.set(name, index);
      });
    },
    { when: () => true },
  );
export type BaselineSettings = z.output<typeof BaselineSchema>;

function isPresetName(name: string): name is BaselinePresetName {
  return Object.prototype.hasOwnProperty.call(BASELINE_PRESETS, name);
}

/** The networks of a baseline section, presets expanded. */
export function baselineNetworks(settings: BaselineSettings | undefined): BaselineNetwork[] {
  return (settings?.networks ?? []).map((network) => {
    if (typeof network !== 'string') return network;
    if (!isPresetName(network)) throw new Error(`baseline.networks: unknown network "${network}"`);
    return structuredClone(BASELINE_PRESETS[network]);
  });
}

/** Finds a baseline network of a config by name (an Error naming the known ones when absent). */
export function baselineNetworkNamed(settings: BaselineSettings | undefined, name: string): BaselineNetwork {
  const networks = baselineNetworks(settings);
  const network = networks.find((candidate) => candidate.name === name);
  if (!network)
    throw new Error(
      `baseline.networks has no network named "${name}" (it has ${networks.map((n) => n.name).join(', ') || 'none'})`,
    );
  return network;
}

/** The dataset's image shape and classes, which every baseline network takes from the search space. */
export interface BaselineDataShape {
  inputShape: [number, number, number];
  numClasses: number;
}

export interface BaselineDesign {
  name: string;
  /** Stable key in results and file names: `baseline-<name>`. */
  key: string;
  /** A search space with one choice per gene: the network, its bits and the chip. */
  space: SearchSpace;
  /** The space's only genome (all zeros). */
  genome: number[];
  /** The decoded design with the baseline's shortcuts. */
  candidate: Candidate;
  description: string;
}

export function baselineKey(name: string): string {
  return `baseline-${name}`;
}

function singleChoiceSpace(network: BaselineNetwork, chip: BaselineChip, shape: BaselineDataShape) {
  return {
    network: {
      inputShape: shape.inputShape,
      numClasses: shape.numClasses,
      stem: { ...network.stem },
      stages: network.stages.map((stage) => ({
        blocks: stage.blocks,
        widths: [stage.channels],
        stride: stage.stride,
      })),
      operators: [`conv${network.kernel}` as const],
      widthChoice: 'stage' as const,
      head: network.headChannels === undefined ? {} : { channels: network.headChannels },
    },
    quantization: {
      weightBits: [network.weightBits],
      activationBits: [network.activationBits],
      granularity: 'network' as const,
    },
    hardware: {
      devices: [chip.device],
      rows: [chip.rows],
      cols: [chip.cols],
      adcBits: [chip.adcBits],
      adcType: [chip.adcType],
      dacBits: [chip.dacBits],
      bitsPerCell: [chip.bitsPerCell],
      colsPerAdc: [chip.colsPerAdc],
      techNode: [chip.techNode],
    },
  };
}

/** The shortcuts a baseline asks for, on the decoded (shortcut-free) conv architecture. */
export function withShortcuts(architecture: ArchitectureSpec, residual: boolean): ArchitectureSpec {
  if (!residual) return architecture;
  return {
    ...architecture,
    blocks: architecture.blocks.map((block) => ({
      ...block,
      residual: block.family === 'conv' && block.stride === 1 && block.inChannels === block.outChannels,
    })),
  };
}

/**
 * The design of one baseline network on the baseline chip. Throws an Error naming the field
 * (`baseline.networks[i]…` or `baseline.chip…`) and the fix when the two do not make a valid design.
 */
export function baselineDesign(
  network: BaselineNetwork,
  chip: BaselineChip,
  shape: BaselineDataShape,
  where = `baseline.networks (${network.name})`,
): BaselineDesign {
  let space: SearchSpace;
  try {
    space = resolveSearchSpace(singleChoiceSpace(network, chip, shape));
  } catch (error) {
    throw new Error(`${where}: not a valid network on baseline.chip: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const genome = new Array<number>(buildLayout(space).length).fill(0);
  const problems = checkFeasible(space, genome);
  if (problems.length > 0)
    throw new Error(
      `baseline.chip: ${problems.join('; ')} (change baseline.chip so that ${chip.device} at ${chip.techNode} nm with ${chip.bitsPerCell} bits per cell is offered)`,
    );
  const decoded = decode(space, genome);
  const candidate = { ...decoded, architecture: withShortcuts(decoded.architecture, network.residual) };
  const shortcuts = candidate.architecture.blocks.filter((block) => block.residual).length;
  return {
    name: network.name,
    key: baselineKey(network.name),
    space,
    genome,
    candidate,
    description: `${network.name}${shortcuts > 0 ? ` (${shortcuts} shortcuts)` : ''}: ${describeCandidate(candidate)}`,
  };
}

/** Every problem of a config's baseline section, each naming its field; empty when valid. */
export function baselineProblems(settings: BaselineSettings | undefined, shape: BaselineDataShape): string[] {
  if (!settings) return [];
  const chip = settings.chip;
  const problems: string[] = [];
  if (!defaultHardwareRules.nodesFor(chip.device).includes(chip.techNode))
    problems.push(
      `baseline.chip.techNode: ${chip.device} is not offered at ${chip.techNode} nm (${defaultHardwareRules.nodesReason?.(chip.device) ?? 'device rules'}): use one of ${defaultHardwareRules.nodesFor(chip.device).join(', ')} nm`,
    );
  if (!defaultHardwareRules.bitsPerCellFor(chip.device).includes(chip.bitsPerCell))
    problems.push(
      `baseline.chip.bitsPerCell: ${chip.device} cannot store ${chip.bitsPerCell} bits per cell (${defaultHardwareRules.bitsPerCellReason?.(chip.device) ?? 'device rules'}): use one of ${defaultHardwareRules.bitsPerCellFor(chip.device).join(', ')}`,
    );
  if (problems.length > 0) return problems;
  baselineNetworks(settings).forEach((network, index) => {
    try {
      baselineDesign(network, chip, shape, `baseline.networks[${index}] (${network.name})`);
    } catch (error) {
      problems.push((error as Error).message);
    }
  });
  return problems;
}
