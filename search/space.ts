/**
 * The joint search space: network topology, quantization and crossbar hardware, declared in a config
 * (zod, strict, with defaults) and encoded as a fixed-length vector of small integers (gene i holds an
 * index into `layout.genes[i].values`).
 *
 * Rules of the encoding, in one place:
 * - Every searchable block slot has an operator gene. The first block of a stage sets the stage's stride
 *   and width, so its operator choices exclude `skip`; later blocks may be `skip` (identity), which gives
 *   every stage a depth of 1..blocks with a fixed-length genome and no infeasible operator value.
 * - Widths are chosen per stage (`widthChoice: 'stage'`, default; every block of a stage outputs the
 *   stage width) or per block (`'block'`). Quantization bits are chosen for the whole network, per stage
 *   (stem and head get their own pair), or per layer, where a "layer" is one block slot (its weight
 *   layers share the bits; see QuantizationSpec) plus the stem and the head.
 * - A gene owned by a skip block (its per-block width or bits) has no effect. Its canonical value is 0:
 *   `canonicalize` sets it, `encode` writes it, and the space size and `sampleGenome` count and draw
 *   canonical genomes only, so each distinct candidate is counted and drawn once.
 * - Hardware constraints (device ↔ node, device ↔ bits per cell, node ↔ supply voltage, columns per ADC
 *   ≤ columns) only relate genes of the same gene group, so the feasible space is a product over groups:
 *   it is counted exactly and sampled uniformly, and a crossover that swaps whole groups between two
 *   feasible parents yields a feasible child. Capacity (a tiles budget, when `hardware.tiles` is given)
 *   depends on the whole genome: it is checked per candidate, and sampling rejects and redraws.
 * - `repair` moves an infeasible gene to the nearest feasible value and says why; `checkFeasible` lists
 *   what is wrong without changing anything.
 */

import { z } from 'zod';
import type { AdcType, HardwareConfig, LayerShape, TechNode } from '../hardware/types';
import {
  OPERATORS,
  OPERATOR_NAMES,
  hasResidual,
  hiddenChannelsOf,
  layerShapes,
  macsPerImage,
  type ArchitectureSpec,
  type BlockSpec,
  type LayerBits,
  type OperatorName,
  type QuantizationSpec,
} from './architecture';
import type { GeneSpec as OptimizerGene, OptimizerHooks } from './optimizer';

// ---------------------------------------------------------------------------------------------------
// Vocabulary and defaults
// ---------------------------------------------------------------------------------------------------

export const DEVICE_FAMILIES = ['rram', 'pcm', 'fefet', 'sram', 'mram'] as const;

/** Technology nodes of the node table (NeuroSim V1.4 Technology.cpp; docs/sources.md §Technology nodes). */
export const TECH_NODES = [130, 90, 65, 45, 32, 22, 14, 10, 7, 5] as const satisfies readonly TechNode[];

export const ADC_TYPES = ['sar', 'flash'] as const satisfies readonly AdcType[];

/** Crossbar sizes: powers of two from 8 to 1024. */
export const CROSSBAR_SIZES = [8, 16, 32, 64, 128, 256, 512, 1024] as const;

/** Default hardware value sets (rows/cols 32..512, as CIMNAS searches: docs/sources.md §Search defaults). */
const DEFAULT_ARRAY_SIZES: readonly number[] = [32, 64, 128, 256, 512];

/** A small two-stage network for 28×28 inputs (the first two stages of examples/full.yaml, two blocks each). */
const DEFAULT_STAGES: ReadonlyArray<{ blocks: number; widths: readonly number[]; stride: 1 | 2 }> = [
  { blocks: 2, widths: [16, 24, 32], stride: 1 },
  { blocks: 2, widths: [32, 48, 64], stride: 2 },
];
const DEFAULT_OPERATORS: readonly OperatorName[] = ['conv3', 'conv5', 'mbconv3_e3', 'mbconv5_e3', 'skip'];

// ---------------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------------

const show = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

/** A strict object whose unknown-key error lists the keys that are allowed (a typo is never a default). */
function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: allowed keys are ${allowed} (check the spelling)`
        : issue.code === 'invalid_type'
          ? `expected an object with keys ${allowed}, got ${show(issue.input)}`
          : undefined,
  });
}

function integerFrom(min: number, max: number, what: string) {
  const message = (issue: { input?: unknown }) =>
    `${what} must be an integer from ${min} to ${max}, got ${show(issue.input)}`;
  return z.int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

function numberFrom(min: number, max: number, what: string) {
  const message = (issue: { input?: unknown }) =>
    `${what} must be a number from ${min} to ${max}, got ${show(issue.input)}`;
  return z.number({ error: message }).min(min, { error: message }).max(max, { error: message });
}

/** A non-empty list of distinct choices; a duplicate would silently double a value's sampling weight. */
function choiceList<Item extends z.ZodType>(item: Item, what: string) {
  return z
    .array(item, { error: (issue) => `expected a list of ${what}, got ${show(issue.input)}` })
    .min(1, { error: `give at least one ${what.replace(/s$/, '')}` })
    .superRefine((values, ctx) => {
      const seen = new Set<unknown>();
      values.forEach((value, index) => {
        if (seen.has(value)) {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `${show(value)} is listed twice: remove the duplicate`,
          });
        }
        seen.add(value);
      });
    });
}

const crossbarSize = z
  .int({ error: (issue) => `crossbar sizes must be integers, got ${show(issue.input)}` })
  .refine((size) => (CROSSBAR_SIZES as readonly number[]).includes(size), {
    error: (issue) =>
      `crossbar size must be a power of two from 8 to 1024 (e.g. 64, 128, 256), got ${show(issue.input)}`,
  });

const operatorName = z.enum(OPERATOR_NAMES, {
  error: (issue) => `unknown operator ${show(issue.input)}: choose from ${OPERATOR_NAMES.join(', ')}`,
});

const deviceName = z
  .string({ error: (issue) => `a device name is a string, got ${show(issue.input)}` })
  .regex(new RegExp(`^(${DEVICE_FAMILIES.join('|')})(-[a-z0-9]+(-[a-z0-9]+)*)?$`), {
    error: (issue) =>
      `unknown device ${show(issue.input)}: use ${DEVICE_FAMILIES.join(', ')} or a preset named <family>-<preset> (e.g. rram-neurram)`,
  });

const techNode = z.literal(TECH_NODES, {
  error: (issue) => `technology node must be one of ${TECH_NODES.join(', ')} nm, got ${show(issue.input)}`,
});

const adcType = z.enum(ADC_TYPES, {
  error: (issue) => `ADC type must be ${ADC_TYPES.join(' or ')}, got ${show(issue.input)}`,
});

const StemSchema = strictObject({
  channels: integerFrom(1, 1024, 'stem channels').default(16).describe('output channels of the stem conv'),
  kernel: z
    .literal([1, 3, 5, 7], { error: (issue) => `stem kernel must be 1, 3, 5 or 7, got ${show(issue.input)}` })
    .default(3)
    .describe('kernel size of the stem conv'),
  stride: z
    .literal([1, 2], { error: (issue) => `stem stride must be 1 or 2, got ${show(issue.input)}` })
    .default(1)
    .describe('stride of the stem conv'),
});

const StageSchema = strictObject({
  blocks: integerFrom(1, 16, 'blocks per stage').describe(
    'block slots in the stage: its maximum depth (every block after the first may be skip)',
  ),
  widths: choiceList(integerFrom(1, 4096, 'a width (output channels)'), 'widths').describe(
    'output-channel choices of the stage',
  ),
  stride: z
    .literal([1, 2], { error: (issue) => `stage stride must be 1 or 2, got ${show(issue.input)}` })
    .default(1)
    .describe("stride of the stage's first block"),
});

const HeadSchema = strictObject({
  channels: integerFrom(1, 4096, 'head channels')
    .optional()
    .describe('channels of a 1×1 conv before global average pooling; omit for none'),
});

export const NetworkSpaceSchema = strictObject({
  inputShape: z
    .tuple(
      [
        integerFrom(1, 4096, 'input height'),
        integerFrom(1, 4096, 'input width'),
        integerFrom(1, 64, 'input channels'),
      ],
      {
        error: (issue) =>
          `inputShape is [height, width, channels], e.g. [28, 28, 1], got ${show(issue.input)}`,
      },
    )
    .default((): [number, number, number] => [28, 28, 1])
    .describe('[height, width, channels] of one input image'),
  numClasses: integerFrom(2, 100000, 'numClasses').default(10).describe('classifier outputs'),
  stem: StemSchema.prefault({}).describe('the fixed first conv'),
  stages: z
    .array(StageSchema, {
      error: (issue) => `stages is a list of { blocks, widths, stride }, got ${show(issue.input)}`,
    })
    .min(1, { error: 'give at least one stage' })
    .max(12, { error: 'at most 12 stages' })
    .default(() => DEFAULT_STAGES.map((stage) => ({ ...stage, widths: [...stage.widths] })))
    .describe('searchable stages, input to output'),
  operators: choiceList(operatorName, 'operators')
    .default(() => [...DEFAULT_OPERATORS])
    .describe(
      `operator choices of every block (${OPERATOR_NAMES.join(', ')}); skip never on a stage's first block`,
    ),
  widthChoice: z
    .enum(['stage', 'block'], {
      error: (issue) => `widthChoice must be stage or block, got ${show(issue.input)}`,
    })
    .default('stage')
    .describe('choose output widths once per stage (stage) or for every block (block)'),
  head: HeadSchema.prefault({}).describe('optional 1×1 conv, then global average pooling and the classifier'),
}).superRefine((network, ctx) => {
  if (!network.operators.some((name) => name !== 'skip')) {
    ctx.addIssue({
      code: 'custom',
      path: ['operators'],
      message:
        'add at least one operator other than skip: the first block of every stage must compute something',
    });
  }
});

export const QuantizationSpaceSchema = strictObject({
  weightBits: choiceList(integerFrom(1, 16, 'weight bits'), 'weight bit widths')
    .default(() => [2, 4, 6, 8])
    .describe('weight bit-width choices'),
  activationBits: choiceList(integerFrom(1, 16, 'activation bits'), 'activation bit widths')
    .default(() => [2, 4, 6, 8])
    .describe('input-activation bit-width choices'),
  granularity: z
    .enum(['network', 'stage', 'layer'], {
      error: (issue) => `granularity must be network, stage or layer, got ${show(issue.input)}`,
    })
    .default('stage')
    .describe(
      'one bits pair for the network; per stage (+ stem, head); or per layer (each block, stem, head)',
    ),
});

const HardwareSpaceObject = strictObject({
  devices: choiceList(deviceName, 'devices')
    .default(() => [...DEVICE_FAMILIES])
    .describe('device families (rram, pcm, fefet, sram, mram) or library presets such as rram-neurram'),
  crossbar: choiceList(crossbarSize, 'crossbar sizes')
    .optional()
    .describe('square array sizes (one gene); give this or rows/cols'),
  rows: choiceList(crossbarSize, 'row counts').optional().describe('array rows (default 32..512)'),
  cols: choiceList(crossbarSize, 'column counts').optional().describe('array columns (default 32..512)'),
  adcBits: choiceList(integerFrom(1, 12, 'ADC resolution (bits)'), 'ADC resolutions')
    .default(() => [3, 4, 5, 6, 7, 8])
    .describe('ADC resolution choices'),
  adcType: choiceList(adcType, 'ADC types')
    .default(() => [...ADC_TYPES])
    .describe('ADC architectures: sar, flash'),
  dacBits: choiceList(integerFrom(1, 8, 'DAC bits per cycle'), 'DAC resolutions')
    .default(() => [1, 2, 4])
    .describe('input bits applied per cycle'),
  bitsPerCell: choiceList(integerFrom(1, 8, 'bits per cell'), 'bits-per-cell values')
    .default(() => [1, 2, 4])
    .describe('bits stored per cell (limited by device)'),
  colsPerAdc: choiceList(integerFrom(1, 1024, 'columns per ADC'), 'columns-per-ADC values')
    .default(() => [1, 2, 4, 8])
    .describe('columns multiplexed onto one ADC'),
  techNode: choiceList(techNode, 'technology nodes')
    .default((): TechNode[] => [65, 45, 32, 22, 14, 7])
    .describe('technology nodes in nm (limited by device)'),
  supplyVoltage: choiceList(numberFrom(0.3, 1.5, 'supply voltage (V)'), 'supply voltages')
    .optional()
    .describe("supply-voltage choices in V, at most the node's nominal VDD; omit for nominal VDD"),
  tiles: choiceList(integerFrom(1, 1_000_000, 'tiles'), 'tile counts')
    .optional()
    .describe('tile-budget choices; when given, the network must fit (weights stay resident)'),
});

type HardwareSpaceParsed = z.output<typeof HardwareSpaceObject>;

/** Columns the space can have, whichever way the array size was given. */
function columnChoices(hardware: HardwareSpaceParsed): number[] {
  return hardware.crossbar ?? hardware.cols ?? [...DEFAULT_ARRAY_SIZES];
}

export const HardwareSpaceSchema = HardwareSpaceObject.superRefine((hardware, ctx) => {
  if (hardware.crossbar !== undefined && (hardware.rows !== undefined || hardware.cols !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['crossbar'],
      message: 'give either crossbar (square arrays) or rows and cols (rectangular arrays), not both',
    });
  }
})
  .superRefine(
    (hardware, ctx) => {
      const cols = columnChoices(hardware);
      const fewestCols = Math.min(...cols);
      const mostCols = Math.max(...cols);
      hardware.colsPerAdc.forEach((shared, index) => {
        if (shared > mostCols) {
          ctx.addIssue({
            code: 'custom',
            path: ['colsPerAdc', index],
            message: `${shared} columns per ADC exceeds every column count (at most ${mostCols}): remove it or allow wider arrays`,
          });
        }
      });
      if (Math.min(...hardware.colsPerAdc) > fewestCols) {
        ctx.addIssue({
          code: 'custom',
          path: ['colsPerAdc'],
          message: `every value exceeds the narrowest array (${fewestCols} columns): add a value ≤ ${fewestCols} or remove the narrow arrays`,
        });
      }
    },
    // Compare the lists only once their values are valid, or one bad size would echo as more problems.
    { when: (payload) => payload.issues.length === 0 },
  )
  .transform((hardware): HardwareSpaceParsed =>
    // Resolve the array-size defaults here so the parsed space names its genes explicitly (and stays
    // valid input when written back to a run's config.yaml).
    hardware.crossbar !== undefined
      ? hardware
      : {
          ...hardware,
          rows: hardware.rows ?? [...DEFAULT_ARRAY_SIZES],
          cols: hardware.cols ?? [...DEFAULT_ARRAY_SIZES],
        },
  );

export const SearchSpaceSchema = strictObject({
  network: NetworkSpaceSchema.prefault({}).describe('network topology choices'),
  quantization: QuantizationSpaceSchema.prefault({}).describe('weight and activation bit-width choices'),
  hardware: HardwareSpaceSchema.prefault({}).describe('crossbar chip choices'),
});

/** A validated search space (all defaults filled in). Treat it as immutable: layouts are cached by identity. */
export type SearchSpace = z.output<typeof SearchSpaceSchema>;
export type SearchSpaceInput = z.input<typeof SearchSpaceSchema>;
export type NetworkSpace = SearchSpace['network'];
export type QuantizationSpace = SearchSpace['quantization'];
export type HardwareSpace = SearchSpace['hardware'];

/**
 * One line per problem, each starting with the field path: `hardware.adcBits[2]: ...`. pathPrefix names
 * where the space sits in a larger config (e.g. 'space').
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], pathPrefix = ''): string[] {
  return issues.map((issue) => {
    let path = pathPrefix;
    for (const key of issue.path) {
      path += typeof key === 'number' ? `[${key}]` : `${path ? '.' : ''}${String(key)}`;
    }
    return `${path || '(root)'}: ${issue.message}`;
  });
}

export type ParseResult = { ok: true; space: SearchSpace } | { ok: false; problems: string[] };

/**
 * Validate a space config: the schema, then the hardware rules (every listed device must have at least
 * one feasible node and bits-per-cell value in the space). Problems name the field and the fix.
 */
export function parseSearchSpace(input: unknown, rules: HardwareRules = defaultHardwareRules): ParseResult {
  const parsed = SearchSpaceSchema.safeParse(input ?? {});
  if (!parsed.success) return { ok: false, problems: formatIssues(parsed.error.issues) };
  const problems = spaceRuleProblems(parsed.data, rules);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, space: parsed.data };
}

/** Like parseSearchSpace, but throws one error listing every problem. */
export function resolveSearchSpace(input: unknown, rules: HardwareRules = defaultHardwareRules): SearchSpace {
  const result = parseSearchSpace(input, rules);
  if (!result.ok) throw new Error(`invalid search space:\n  ${result.problems.join('\n  ')}`);
  return result.space;
}

// ---------------------------------------------------------------------------------------------------
// Hardware rules
// ---------------------------------------------------------------------------------------------------

/**
 * Which hardware combinations exist. The default table below follows docs/sources.md §Devices; the device
 * library in hardware/ may export its own implementation (same interface) so the space and the cost model agree.
 */
export interface HardwareRules {
  /** Technology nodes (nm) at which a device (family or preset name) is offered. */
  nodesFor(device: string): readonly number[];
  /** Bits per cell a device can store. */
  bitsPerCellFor(device: string): readonly number[];
  /** Why nodesFor(device) is limited, with its source (used in explanations). */
  nodesReason?(device: string): string;
  /** Why bitsPerCellFor(device) is limited, with its source. */
  bitsPerCellReason?(device: string): string;
  /** Highest supply voltage a node allows; undefined = unlimited. */
  maxSupplyVoltage?(techNode: number): number | undefined;
  /** Tiles a network needs on this hardware (weights resident on chip); absent = capacity not checked. */
  capacityNeed?(
    layers: readonly LayerShape[],
    hardware: HardwareConfig,
  ): { tiles: number; explanation: string };
}

/** The device family of a family or preset name ('rram-neurram' → 'rram'). */
export function deviceFamilyOf(device: string): (typeof DEVICE_FAMILIES)[number] {
  const family = device.split('-')[0];
  const known = DEVICE_FAMILIES.find((name) => name === family);
  if (!known)
    throw new Error(`unknown device family in "${device}": expected one of ${DEVICE_FAMILIES.join(', ')}`);
  return known;
}

interface DeviceRuleRow {
  nodes: readonly number[];
  nodesReason: string;
  bitsPerCell: readonly number[];
  bitsPerCellReason: string;
}

const ALL_NODES: readonly number[] = TECH_NODES;

/** docs/sources.md §Devices (the device table and the rules derived from it) and §Technology nodes. */
const DEFAULT_DEVICE_RULES: Record<(typeof DEVICE_FAMILIES)[number], DeviceRuleRow> = {
  rram: {
    // "NeuroSim refuses RRAM below 22 nm" (NeuroSim V1.4 Technology.cpp / Param.cpp).
    nodes: ALL_NODES.filter((node) => node >= 22),
    nodesReason: 'NeuroSim refuses RRAM below 22 nm',
    // RRAM 1T1R row: "1–2 (≤4 with verify)"; 3–4 bits assume write-verify programming (NeuRRAM, Wan 2022).
    bitsPerCell: [1, 2, 3, 4],
    bitsPerCellReason: 'RRAM holds 1–2 bits per cell, up to 4 only with write-verify (NeuRRAM, Wan 2022)',
  },
  pcm: {
    // No node floor is known for PCM (IBM HERMES is 14 nm PCM: Le Gallo et al., Nature Electronics 2023).
    nodes: ALL_NODES,
    nodesReason: 'no node limit known for PCM',
    // PCM row: "analog"; with programming σ of 1–4.2 % of gmax (aihwkit pcm.py; docs/sources.md §Noise
    // models) 16 levels are ~6 % of the range apart, about the most that stay distinguishable, so we cap
    // at 4 bits.
    bitsPerCell: [1, 2, 3, 4],
    bitsPerCellReason:
      'PCM is analog but its 1–4 % programming noise leaves at most ~16 usable levels (4 bits)',
  },
  fefet: {
    // The reference gives no node floor for FeFET (GF 22 nm is its data point).
    nodes: ALL_NODES,
    nodesReason: 'no node limit known for FeFET',
    // FeFET row: "1–5" bits per cell (NeuroSim manual / V2.1 Param.cpp).
    bitsPerCell: [1, 2, 3, 4, 5],
    bitsPerCellReason: 'FeFET stores 1–5 bits per cell (NeuroSim V2.1)',
  },
  sram: {
    // "SRAM available at every node" (SRAM 6T row lists cell areas from ≥22 nm down to 5 nm).
    nodes: ALL_NODES,
    nodesReason: 'SRAM is available at every node',
    bitsPerCell: [1],
    bitsPerCellReason: 'an SRAM 6T cell stores 1 bit (NeuroSim Param.cpp)',
  },
  mram: {
    // No node floor in the reference (Intel 22FFL is its data point).
    nodes: ALL_NODES,
    nodesReason: 'no node limit known for STT-MRAM',
    // STT-MRAM row: 1 bit per cell (on/off 2.8 leaves no room for more levels).
    bitsPerCell: [1],
    bitsPerCellReason: 'STT-MRAM stores 1 bit per cell (on/off ratio 2.8, NeuroSim manual)',
  },
};

/**
 * Nominal VDD per node (NeuroSim V1.4 Technology.cpp; docs/sources.md §Technology nodes). A higher supply
 * is not modelled.
 */
const NOMINAL_SUPPLY_VOLTAGE: Record<number, number> = {
  130: 1.3,
  90: 1.2,
  65: 1.1,
  45: 1.0,
  32: 0.9,
  22: 0.85,
  14: 0.8,
  10: 0.75,
  7: 0.7,
  5: 0.7,
};

export interface DefaultRulesOptions {
  /**
   * Crossbar arrays per tile for the capacity check. 96 = ISAAC's 12 IMAs × 8 crossbars per tile
   * (Shafiee et al., ISCA 2016). The hardware cost model's own tile definition should replace this.
   */
  arraysPerTile?: number;
  /** Signed weights on two columns (differential pairs, docs/hardware-model.md §Mapping). */
  differentialPairs?: boolean;
}

/**
 * Crossbar arrays one layer needs, with the mapping of docs/hardware-model.md §Mapping: rows = Cin·K², cols =
 * Cout·⌈Wbits/bitsPerCell⌉ (×2 differential), arrays = ⌈rows/Nr⌉·⌈cols/Nc⌉. A depthwise layer has one
 * K²-row kernel per channel; channels are packed block-diagonally, as many per array as fit.
 */
export function arraysForLayer(
  layer: LayerShape,
  hardware: HardwareConfig,
  differentialPairs = true,
): number {
  const slices = Math.ceil(layer.weightBits / hardware.bitsPerCell) * (differentialPairs ? 2 : 1);
  const kernelArea = layer.kernelH * layer.kernelW;
  if (layer.kind === 'depthwise') {
    const perArray = Math.min(Math.floor(hardware.rows / kernelArea), Math.floor(hardware.cols / slices));
    if (perArray >= 1) return Math.ceil(layer.outChannels / perArray);
    return layer.outChannels * Math.ceil(kernelArea / hardware.rows) * Math.ceil(slices / hardware.cols);
  }
  const rows = layer.inChannels * kernelArea;
  const cols = layer.outChannels * slices;
  return Math.ceil(rows / hardware.rows) * Math.ceil(cols / hardware.cols);
}

/** The device table of docs/sources.md §Devices as HardwareRules; options tune the capacity check. */
export function createDefaultHardwareRules(options: DefaultRulesOptions = {}): HardwareRules {
  const arraysPerTile = options.arraysPerTile ?? 96;
  const differentialPairs = options.differentialPairs ?? true;
  const row = (device: string) => DEFAULT_DEVICE_RULES[deviceFamilyOf(device)];
  return {
    nodesFor: (device) => row(device).nodes,
    bitsPerCellFor: (device) => row(device).bitsPerCell,
    nodesReason: (device) => row(device).nodesReason,
    bitsPerCellReason: (device) => row(device).bitsPerCellReason,
    maxSupplyVoltage: (node) => NOMINAL_SUPPLY_VOLTAGE[node],
    capacityNeed: (layers, hardware) => {
      let arrays = 0;
      for (const layer of layers) arrays += arraysForLayer(layer, hardware, differentialPairs);
      const tiles = Math.ceil(arrays / arraysPerTile);
      return {
        tiles,
        explanation: `the network needs ${arrays} arrays of ${hardware.rows}×${hardware.cols} = ${tiles} tiles of ${arraysPerTile} arrays`,
      };
    },
  };
}

export const defaultHardwareRules: HardwareRules = createDefaultHardwareRules();

const VOLTAGE_TOLERANCE = 1e-9;

function voltageAllowed(rules: HardwareRules, node: number, volts: number): boolean {
  const max = rules.maxSupplyVoltage?.(node);
  return max === undefined || volts <= max + VOLTAGE_TOLERANCE;
}

/** Problems between a parsed space and the rules: a listed device with no feasible combination. */
export function spaceRuleProblems(space: SearchSpace, rules: HardwareRules = defaultHardwareRules): string[] {
  const problems: string[] = [];
  const hardware = space.hardware;
  hardware.devices.forEach((device, index) => {
    const where = `hardware.devices[${index}]`;
    const nodes = hardware.techNode.filter((node) => rules.nodesFor(device).includes(node));
    if (nodes.length === 0) {
      problems.push(
        `${where}: ${device} is offered at none of hardware.techNode [${hardware.techNode.join(', ')}] — ${rules.nodesReason?.(device) ?? 'device rules'}: add one of ${rules.nodesFor(device).join(', ')} nm or remove ${device}`,
      );
      return;
    }
    const bits = hardware.bitsPerCell.filter((value) => rules.bitsPerCellFor(device).includes(value));
    if (bits.length === 0) {
      problems.push(
        `${where}: ${device} supports none of hardware.bitsPerCell [${hardware.bitsPerCell.join(', ')}] — ${rules.bitsPerCellReason?.(device) ?? 'device rules'}: add one of ${rules.bitsPerCellFor(device).join(', ')} or remove ${device}`,
      );
    }
    const voltages = hardware.supplyVoltage;
    if (voltages && !nodes.some((node) => voltages.some((volts) => voltageAllowed(rules, node, volts)))) {
      problems.push(
        `hardware.supplyVoltage: no value fits any node ${device} is offered at (nominal VDD: ${nodes.map((node) => `${node} nm ${rules.maxSupplyVoltage?.(node)} V`).join(', ')}): add a lower voltage`,
      );
    }
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Genome layout
// ---------------------------------------------------------------------------------------------------

export type GeneDomain = 'network' | 'quantization' | 'hardware';

export interface LayoutGene {
  index: number;
  /** Dotted name, e.g. 'stage1.block0.operator', 'hardware.techNode'. */
  name: string;
  domain: GeneDomain;
  /** Index into layout.groups. */
  group: number;
  cardinality: number;
  /** The gene's value is values[genome[index]]. Numeric values are sorted ascending. */
  values: ReadonlyArray<string | number>;
  /** Numeric values in order (widths, bits, sizes, nodes): neighbouring indices are similar designs. */
  ordinal: boolean;
}

/**
 * How a group's genes constrain each other: 'block' (a skip operator makes the block's other genes
 * inactive, canonical 0), 'cell' (device ↔ node ↔ bits per cell ↔ supply voltage), 'array' (columns per
 * ADC ≤ columns), 'free' (no constraint).
 */
export type GeneGroupKind = 'free' | 'block' | 'cell' | 'array';

/** Genes that belong together: NSGA-II's per-block crossover swaps whole groups. Groups are contiguous. */
export interface GeneGroup {
  index: number;
  name: string;
  kind: GeneGroupKind;
  genes: number[];
}

export interface QuantizationGenes {
  weightBits: number;
  activationBits: number;
}

/** One searchable block slot of the supernet and the genes that decide it. */
export interface BlockSlot {
  slot: number;
  stage: number;
  indexInStage: number;
  /** Stride if chosen block is not skip: the stage stride on its first block, 1 elsewhere. */
  stride: number;
  /** Operator choices (the operator gene's values). */
  operators: OperatorName[];
  widths: number[];
  operatorGene: number;
  /** Gene of this block's output width (shared by the stage when widthChoice = 'stage'). */
  widthGene: number;
  widthGeneIsPerBlock: boolean;
  bits: QuantizationGenes;
  bitsGenesArePerBlock: boolean;
}

export interface HardwareGenes {
  device: number;
  techNode: number;
  bitsPerCell: number;
  supplyVoltage: number | null;
  /** rows and cols point to the same 'hardware.crossbar' gene when arrays are square. */
  rows: number;
  cols: number;
  squareArrays: boolean;
  colsPerAdc: number;
  adcBits: number;
  adcType: number;
  dacBits: number;
  tiles: number | null;
}

/** Everything NSGA-II and the decoder need to know about the integer vector. Plain JSON. */
export interface GenomeLayout {
  length: number;
  genes: LayoutGene[];
  /** cardinalities[i] = genes[i].cardinality: gene i takes values 0..cardinalities[i]−1. */
  cardinalities: number[];
  groups: GeneGroup[];
  blockSlots: BlockSlot[];
  stemBits: QuantizationGenes;
  headBits: QuantizationGenes;
  hardware: HardwareGenes;
}

const layoutCache = new WeakMap<SearchSpace, GenomeLayout>();

/** The gene layout of a space (cached per space object). */
export function buildLayout(space: SearchSpace): GenomeLayout {
  const cached = layoutCache.get(space);
  if (cached) return cached;
  const layout = buildLayoutUncached(space);
  layoutCache.set(space, layout);
  return layout;
}

function buildLayoutUncached(space: SearchSpace): GenomeLayout {
  const genes: LayoutGene[] = [];
  const groups: GeneGroup[] = [];
  const addGene = (
    groupName: string,
    kind: GeneGroupKind,
    name: string,
    domain: GeneDomain,
    values: ReadonlyArray<string | number>,
  ): number => {
    let group = groups[groups.length - 1];
    if (!group || group.name !== groupName) {
      group = { index: groups.length, name: groupName, kind, genes: [] };
      groups.push(group);
    }
    const index = genes.length;
    const ordinal = values.every((value) => typeof value === 'number');
    // Sorted numeric choices let a mutation step to a neighbouring value (optimizer 'ordinal' genes).
    const ordered = ordinal ? [...(values as number[])].sort((a, b) => a - b) : [...values];
    genes.push({
      index,
      name,
      domain,
      group: group.index,
      cardinality: values.length,
      values: ordered,
      ordinal,
    });
    group.genes.push(index);
    return index;
  };
  const { network, quantization, hardware } = space;
  const addBits = (groupName: string, kind: GeneGroupKind, prefix: string): QuantizationGenes => ({
    weightBits: addGene(groupName, kind, `${prefix}.weightBits`, 'quantization', quantization.weightBits),
    activationBits: addGene(
      groupName,
      kind,
      `${prefix}.activationBits`,
      'quantization',
      quantization.activationBits,
    ),
  });

  const networkBits =
    quantization.granularity === 'network' ? addBits('quantization', 'free', 'quantization') : null;
  const stemBits = networkBits ?? addBits('stem', 'free', 'stem');

  const blockSlots: BlockSlot[] = [];
  network.stages.forEach((stage, stageIndex) => {
    const stageName = `stage${stageIndex}`;
    const stageWidthGene =
      network.widthChoice === 'stage'
        ? addGene(stageName, 'free', `${stageName}.width`, 'network', stage.widths)
        : null;
    const stageBits = quantization.granularity === 'stage' ? addBits(stageName, 'free', stageName) : null;
    for (let indexInStage = 0; indexInStage < stage.blocks; indexInStage++) {
      const blockName = `${stageName}.block${indexInStage}`;
      // The first block sets the stage's stride and width, so it can't be an identity (see file header).
      const operators =
        indexInStage === 0 ? network.operators.filter((name) => name !== 'skip') : [...network.operators];
      const kind: GeneGroupKind = operators.includes('skip') ? 'block' : 'free';
      const operatorGene = addGene(blockName, kind, `${blockName}.operator`, 'network', operators);
      const widthGene =
        stageWidthGene ?? addGene(blockName, kind, `${blockName}.width`, 'network', stage.widths);
      const bits = networkBits ?? stageBits ?? addBits(blockName, kind, blockName);
      blockSlots.push({
        slot: blockSlots.length,
        stage: stageIndex,
        indexInStage,
        stride: indexInStage === 0 ? stage.stride : 1,
        operators,
        widths: [...stage.widths].sort((a, b) => a - b),
        operatorGene,
        widthGene,
        widthGeneIsPerBlock: stageWidthGene === null,
        bits,
        bitsGenesArePerBlock: networkBits === null && stageBits === null,
      });
    }
  });
  const headBits = networkBits ?? addBits('head', 'free', 'head');

  const device = addGene('hardware.cell', 'cell', 'hardware.device', 'hardware', hardware.devices);
  const techNodeGene = addGene('hardware.cell', 'cell', 'hardware.techNode', 'hardware', hardware.techNode);
  const bitsPerCell = addGene(
    'hardware.cell',
    'cell',
    'hardware.bitsPerCell',
    'hardware',
    hardware.bitsPerCell,
  );
  const supplyVoltage = hardware.supplyVoltage
    ? addGene('hardware.cell', 'cell', 'hardware.supplyVoltage', 'hardware', hardware.supplyVoltage)
    : null;
  let rows: number;
  let cols: number;
  if (hardware.crossbar) {
    rows = cols = addGene('hardware.array', 'array', 'hardware.crossbar', 'hardware', hardware.crossbar);
  } else {
    rows = addGene(
      'hardware.array',
      'array',
      'hardware.rows',
      'hardware',
      hardware.rows ?? DEFAULT_ARRAY_SIZES,
    );
    cols = addGene(
      'hardware.array',
      'array',
      'hardware.cols',
      'hardware',
      hardware.cols ?? DEFAULT_ARRAY_SIZES,
    );
  }
  const colsPerAdc = addGene(
    'hardware.array',
    'array',
    'hardware.colsPerAdc',
    'hardware',
    hardware.colsPerAdc,
  );
  const adcBits = addGene('hardware.periphery', 'free', 'hardware.adcBits', 'hardware', hardware.adcBits);
  const adcTypeGene = addGene('hardware.periphery', 'free', 'hardware.adcType', 'hardware', hardware.adcType);
  const dacBits = addGene('hardware.periphery', 'free', 'hardware.dacBits', 'hardware', hardware.dacBits);
  const tiles = hardware.tiles
    ? addGene('hardware.tiles', 'free', 'hardware.tiles', 'hardware', hardware.tiles)
    : null;

  return {
    length: genes.length,
    genes,
    cardinalities: genes.map((gene) => gene.cardinality),
    groups,
    blockSlots,
    stemBits,
    headBits,
    hardware: {
      device,
      techNode: techNodeGene,
      bitsPerCell,
      supplyVoltage,
      rows,
      cols,
      squareArrays: hardware.crossbar !== undefined,
      colsPerAdc,
      adcBits,
      adcType: adcTypeGene,
      dacBits,
      tiles,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Decode / encode
// ---------------------------------------------------------------------------------------------------

/** One point of the space, decoded. */
export interface Candidate {
  architecture: ArchitectureSpec;
  quantization: QuantizationSpec;
  hardware: HardwareConfig;
}

export type Genome = number[];

/** Problems with a genome's length and gene ranges (empty when every gene indexes a value). */
export function genomeShapeProblems(layout: GenomeLayout, genome: readonly number[]): string[] {
  if (!Array.isArray(genome)) return [`a genome is an array of integers, got ${show(genome)}`];
  if (genome.length !== layout.length)
    return [`genome has ${genome.length} genes, this space has ${layout.length}`];
  const problems: string[] = [];
  genome.forEach((value, index) => {
    const gene = layout.genes[index];
    if (!Number.isInteger(value) || value < 0 || value >= gene.cardinality) {
      problems.push(
        `${gene.name}: gene value ${show(value)} is not an integer in 0..${gene.cardinality - 1}`,
      );
    }
  });
  return problems;
}

function assertGenomeShape(layout: GenomeLayout, genome: readonly number[]): void {
  const problems = genomeShapeProblems(layout, genome);
  if (problems.length > 0) throw new RangeError(`malformed genome: ${problems.join('; ')}`);
}

function geneValue(layout: GenomeLayout, genome: readonly number[], gene: number): string | number {
  return layout.genes[gene].values[genome[gene]];
}

function decodeBits(layout: GenomeLayout, genome: readonly number[], genes: QuantizationGenes): LayerBits {
  return {
    weightBits: geneValue(layout, genome, genes.weightBits) as number,
    activationBits: geneValue(layout, genome, genes.activationBits) as number,
  };
}

function decodeHardware(layout: GenomeLayout, genome: readonly number[]): HardwareConfig {
  const genes = layout.hardware;
  const value = (gene: number) => geneValue(layout, genome, gene);
  const config: HardwareConfig = {
    device: value(genes.device) as string,
    rows: value(genes.rows) as number,
    cols: value(genes.cols) as number,
    adcBits: value(genes.adcBits) as number,
    adcType: value(genes.adcType) as AdcType,
    dacBits: value(genes.dacBits) as number,
    bitsPerCell: value(genes.bitsPerCell) as number,
    colsPerAdc: value(genes.colsPerAdc) as number,
    techNode: value(genes.techNode) as TechNode,
  };
  if (genes.supplyVoltage !== null) config.supplyVoltage = value(genes.supplyVoltage) as number;
  if (genes.tiles !== null) config.tiles = value(genes.tiles) as number;
  return config;
}

/**
 * The candidate a genome stands for. Throws on a malformed genome (wrong length, gene out of range); does
 * not check hardware feasibility (use checkFeasible or repair first). Inactive genes are ignored.
 */
export function decode(space: SearchSpace, genome: readonly number[]): Candidate {
  const layout = buildLayout(space);
  assertGenomeShape(layout, genome);
  const { network } = space;
  let channels = network.stem.channels;
  const blocks: BlockSpec[] = [];
  const blockBits: Array<LayerBits | null> = [];
  for (const slot of layout.blockSlots) {
    const operator = geneValue(layout, genome, slot.operatorGene) as OperatorName;
    const op = OPERATORS[operator];
    const common = {
      slot: slot.slot,
      stage: slot.stage,
      indexInStage: slot.indexInStage,
      operator,
      family: op.family,
    };
    if (op.family === 'skip') {
      blocks.push({
        ...common,
        kernel: 0,
        expansion: 0,
        stride: 1,
        inChannels: channels,
        outChannels: channels,
        hiddenChannels: 0,
        residual: false,
      });
      blockBits.push(null);
      continue;
    }
    const outChannels = geneValue(layout, genome, slot.widthGene) as number;
    blocks.push({
      ...common,
      kernel: op.kernel,
      expansion: op.expansion,
      stride: slot.stride,
      inChannels: channels,
      outChannels,
      hiddenChannels: hiddenChannelsOf(op.family, channels, op.expansion),
      residual: hasResidual(op.family, slot.stride, channels, outChannels),
    });
    blockBits.push(decodeBits(layout, genome, slot.bits));
    channels = outChannels;
  }
  return {
    architecture: {
      inputShape: [...network.inputShape],
      stem: { kernel: network.stem.kernel, stride: network.stem.stride, outChannels: network.stem.channels },
      blocks,
      head: { convChannels: network.head.channels ?? null, numClasses: network.numClasses },
    },
    quantization: {
      stem: decodeBits(layout, genome, layout.stemBits),
      blocks: blockBits,
      head: decodeBits(layout, genome, layout.headBits),
    },
    hardware: decodeHardware(layout, genome),
  };
}

/** A genome with every inactive gene (per-block width/bits of a skip block) set to 0. */
export function canonicalize(space: SearchSpace, genome: readonly number[]): Genome {
  const layout = buildLayout(space);
  assertGenomeShape(layout, genome);
  const canonical = [...genome];
  for (const gene of inactiveGenes(layout, genome)) canonical[gene] = 0;
  return canonical;
}

function inactiveGenes(layout: GenomeLayout, genome: readonly number[]): number[] {
  const inactive: number[] = [];
  for (const slot of layout.blockSlots) {
    if (geneValue(layout, genome, slot.operatorGene) !== 'skip') continue;
    if (slot.widthGeneIsPerBlock) inactive.push(slot.widthGene);
    if (slot.bitsGenesArePerBlock) inactive.push(slot.bits.weightBits, slot.bits.activationBits);
  }
  return inactive;
}

export function isCanonical(space: SearchSpace, genome: readonly number[]): boolean {
  const layout = buildLayout(space);
  return inactiveGenes(layout, genome).every((gene) => genome[gene] === 0);
}

/**
 * The canonical genome of a candidate. Throws, naming the first mismatch, when the candidate is not in
 * the space (a value not among the choices, an inconsistent channel chain, unequal bits in a stage...).
 * decode(encode(c)) deep-equals c; encode(decode(g)) equals canonicalize(g).
 */
export function encode(space: SearchSpace, candidate: Candidate): Genome {
  const layout = buildLayout(space);
  const genome: Genome = new Array<number>(layout.length).fill(0);
  const assign = (gene: number, value: unknown, what: string) => {
    const index = layout.genes[gene].values.indexOf(value as string | number);
    if (index < 0) {
      throw new Error(
        `encode: ${what} = ${show(value)} is not a choice of ${layout.genes[gene].name} (${layout.genes[gene].values.join(', ')})`,
      );
    }
    genome[gene] = index;
  };
  const { architecture, quantization, hardware } = candidate;
  if (
    architecture.blocks.length !== layout.blockSlots.length ||
    quantization.blocks.length !== layout.blockSlots.length
  ) {
    throw new Error(
      `encode: the space has ${layout.blockSlots.length} block slots, the candidate has ${architecture.blocks.length} blocks and ${quantization.blocks.length} quantization entries`,
    );
  }
  for (const slot of layout.blockSlots) {
    const block = architecture.blocks[slot.slot];
    const where = `block ${slot.slot} (stage ${slot.stage}, block ${slot.indexInStage})`;
    if (block.operator === 'skip' && !slot.operators.includes('skip')) {
      throw new Error(
        `encode: ${where} is skip, but the first block of a stage sets the stride and width and cannot be skipped`,
      );
    }
    assign(slot.operatorGene, block.operator, `${where} operator`);
    if (block.operator === 'skip') continue; // its own genes stay 0 (canonical); shared genes come from others
    assign(slot.widthGene, block.outChannels, `${where} outChannels`);
    const bits = quantization.blocks[slot.slot];
    if (!bits) throw new Error(`encode: ${where} has weights but its quantization entry is null`);
    assign(slot.bits.weightBits, bits.weightBits, `${where} weightBits`);
    assign(slot.bits.activationBits, bits.activationBits, `${where} activationBits`);
  }
  // Shared genes (network-level bits) may be first written by a block: stem and head must agree with them.
  assign(layout.stemBits.weightBits, quantization.stem.weightBits, 'stem weightBits');
  assign(layout.stemBits.activationBits, quantization.stem.activationBits, 'stem activationBits');
  assign(layout.headBits.weightBits, quantization.head.weightBits, 'head weightBits');
  assign(layout.headBits.activationBits, quantization.head.activationBits, 'head activationBits');
  const genes = layout.hardware;
  assign(genes.device, hardware.device, 'hardware.device');
  assign(genes.techNode, hardware.techNode, 'hardware.techNode');
  assign(genes.bitsPerCell, hardware.bitsPerCell, 'hardware.bitsPerCell');
  assign(genes.rows, hardware.rows, 'hardware.rows');
  assign(genes.cols, hardware.cols, 'hardware.cols');
  assign(genes.colsPerAdc, hardware.colsPerAdc, 'hardware.colsPerAdc');
  assign(genes.adcBits, hardware.adcBits, 'hardware.adcBits');
  assign(genes.adcType, hardware.adcType, 'hardware.adcType');
  assign(genes.dacBits, hardware.dacBits, 'hardware.dacBits');
  if (genes.supplyVoltage !== null)
    assign(genes.supplyVoltage, hardware.supplyVoltage, 'hardware.supplyVoltage');
  if (genes.tiles !== null) assign(genes.tiles, hardware.tiles, 'hardware.tiles');

  // Shared genes were written once per block: decoding back and comparing catches every disagreement
  // (blocks of one stage with different widths or bits, wrong derived fields, extra hardware keys).
  const difference = firstDifference(decode(space, genome), candidate, 'candidate');
  if (difference) throw new Error(`encode: the candidate is not in this space: ${difference}`);
  return genome;
}

function firstDifference(expected: unknown, actual: unknown, path: string): string | null {
  if (Object.is(expected, actual)) return null;
  if (typeof expected !== 'object' || typeof actual !== 'object' || expected === null || actual === null) {
    return `${path} is ${show(actual)}, the space gives ${show(expected)}`;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return `${path} has the wrong type`;
  const expectedRecord = expected as Record<string, unknown>;
  const actualRecord = actual as Record<string, unknown>;
  const keys = new Set([...Object.keys(expectedRecord), ...Object.keys(actualRecord)]);
  for (const key of keys) {
    if (expectedRecord[key] === undefined && actualRecord[key] === undefined) continue;
    const childPath = Array.isArray(expected) ? `${path}[${key}]` : `${path}.${key}`;
    const difference = firstDifference(expectedRecord[key], actualRecord[key], childPath);
    if (difference) return difference;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Feasibility and repair
// ---------------------------------------------------------------------------------------------------

interface HardwareValues {
  device: string;
  techNode: number;
  bitsPerCell: number;
  supplyVoltage: number | null;
  cols: number;
  colsPerAdc: number;
}

function hardwareValues(layout: GenomeLayout, genome: readonly number[]): HardwareValues {
  const genes = layout.hardware;
  const value = (gene: number) => geneValue(layout, genome, gene) as number;
  return {
    device: geneValue(layout, genome, genes.device) as string,
    techNode: value(genes.techNode),
    bitsPerCell: value(genes.bitsPerCell),
    supplyVoltage: genes.supplyVoltage === null ? null : value(genes.supplyVoltage),
    cols: value(genes.cols),
    colsPerAdc: value(genes.colsPerAdc),
  };
}

function cellFeasible(rules: HardwareRules, values: HardwareValues): boolean {
  return (
    rules.nodesFor(values.device).includes(values.techNode) &&
    rules.bitsPerCellFor(values.device).includes(values.bitsPerCell) &&
    (values.supplyVoltage === null || voltageAllowed(rules, values.techNode, values.supplyVoltage))
  );
}

function capacityCheck(
  space: SearchSpace,
  genome: readonly number[],
  rules: HardwareRules,
): { needed: number; explanation: string; available: number } | null {
  const layout = buildLayout(space);
  if (layout.hardware.tiles === null || !rules.capacityNeed) return null;
  const candidate = decode(space, genome);
  const need = rules.capacityNeed(
    layerShapes(candidate.architecture, candidate.quantization),
    candidate.hardware,
  );
  return {
    needed: need.tiles,
    explanation: need.explanation,
    available: candidate.hardware.tiles ?? Infinity,
  };
}

/** Everything that makes a genome infeasible, explained; empty when feasible. */
export function checkFeasible(
  space: SearchSpace,
  genome: readonly number[],
  rules: HardwareRules = defaultHardwareRules,
): string[] {
  const layout = buildLayout(space);
  const shape = genomeShapeProblems(layout, genome);
  if (shape.length > 0) return shape;
  const problems: string[] = [];
  const values = hardwareValues(layout, genome);
  if (!rules.nodesFor(values.device).includes(values.techNode)) {
    problems.push(
      `hardware.techNode: ${values.device} is not offered at ${values.techNode} nm — ${rules.nodesReason?.(values.device) ?? 'device rules'}`,
    );
  }
  if (!rules.bitsPerCellFor(values.device).includes(values.bitsPerCell)) {
    problems.push(
      `hardware.bitsPerCell: ${values.device} cannot store ${values.bitsPerCell} bits per cell — ${rules.bitsPerCellReason?.(values.device) ?? 'device rules'}`,
    );
  }
  if (values.supplyVoltage !== null && !voltageAllowed(rules, values.techNode, values.supplyVoltage)) {
    problems.push(
      `hardware.supplyVoltage: ${values.supplyVoltage} V exceeds the ${values.techNode} nm node's nominal VDD ${rules.maxSupplyVoltage?.(values.techNode)} V (NeuroSim Technology.cpp)`,
    );
  }
  if (values.colsPerAdc > values.cols) {
    problems.push(
      `hardware.colsPerAdc: ${values.colsPerAdc} columns cannot share one ADC in a ${values.cols}-column array`,
    );
  }
  if (problems.length === 0) {
    const capacity = capacityCheck(space, genome, rules);
    if (capacity && capacity.needed > capacity.available) {
      problems.push(`hardware.tiles: ${capacity.explanation}, but the chip has ${capacity.available}`);
    }
  }
  return problems;
}

/**
 * Index of the value nearest to values[current] among those `allowed`; ties go to the larger value when
 * preferLarger (e.g. the more mature node), else the smaller one (e.g. fewer bits per cell: less noise).
 */
function nearestAllowedIndex(
  values: readonly number[],
  current: number,
  allowed: (value: number) => boolean,
  preferLarger: boolean,
): number | undefined {
  let best: number | undefined;
  for (let index = 0; index < values.length; index++) {
    if (!allowed(values[index])) continue;
    if (best === undefined) {
      best = index;
      continue;
    }
    const distance = Math.abs(values[index] - values[current]);
    const bestDistance = Math.abs(values[best] - values[current]);
    const better =
      distance < bestDistance ||
      (distance === bestDistance &&
        (preferLarger ? values[index] > values[best] : values[index] < values[best]));
    if (better) best = index;
  }
  return best;
}

export interface RepairResult {
  genome: Genome;
  /** One line per moved gene: "hardware.techNode 14 → 22: rram is not offered at 14 nm — ...". */
  changes: string[];
  /** Problems repair cannot fix (the genome must be rejected), explained; empty when feasible. */
  unresolved: string[];
}

/**
 * A feasible, canonical genome near the given one. The device is kept as chosen and dependent genes move:
 * node, then bits per cell, then supply voltage, then columns per ADC, then tiles; each to the nearest
 * feasible value, each move explained. Out-of-range genes are clamped first. Throws only on a wrong length.
 */
export function repair(
  space: SearchSpace,
  genome: readonly number[],
  rules: HardwareRules = defaultHardwareRules,
): RepairResult {
  const layout = buildLayout(space);
  if (!Array.isArray(genome) || genome.length !== layout.length) {
    throw new RangeError(`repair: genome has ${genome?.length} genes, this space has ${layout.length}`);
  }
  const repaired: Genome = [...genome];
  const changes: string[] = [];
  const unresolved: string[] = [];
  const move = (gene: number, to: number, why: string) => {
    const spec = layout.genes[gene];
    changes.push(
      `${spec.name} ${show(spec.values[repaired[gene]] ?? repaired[gene])} → ${show(spec.values[to])}: ${why}`,
    );
    repaired[gene] = to;
  };

  layout.genes.forEach((spec, index) => {
    const value = repaired[index];
    if (Number.isInteger(value) && value >= 0 && value < spec.cardinality) return;
    const clamped = Number.isFinite(value)
      ? Math.min(spec.cardinality - 1, Math.max(0, Math.round(value)))
      : 0;
    changes.push(`${spec.name} gene ${show(value)} → ${clamped}: outside 0..${spec.cardinality - 1}`);
    repaired[index] = clamped;
  });

  const genes = layout.hardware;
  const nodes = layout.genes[genes.techNode].values as number[];
  const bitsPerCell = layout.genes[genes.bitsPerCell].values as number[];
  const voltages =
    genes.supplyVoltage === null ? null : (layout.genes[genes.supplyVoltage].values as number[]);
  const nodeUsable = (device: string, node: number) =>
    rules.nodesFor(device).includes(node) &&
    (voltages === null || voltages.some((volts) => voltageAllowed(rules, node, volts)));
  const deviceUsable = (device: string) =>
    nodes.some((node) => nodeUsable(device, node)) &&
    bitsPerCell.some((bits) => rules.bitsPerCellFor(device).includes(bits));

  const devices = layout.genes[genes.device].values as string[];
  let device = devices[repaired[genes.device]];
  if (!deviceUsable(device)) {
    // Only reachable when the rules changed after the space was validated: the device itself must go.
    const usable = devices.map((name, index) => ({ name, index })).filter(({ name }) => deviceUsable(name));
    if (usable.length === 0) {
      unresolved.push(
        'hardware.device: no device of the space has a feasible node and bits-per-cell value under these rules',
      );
      return { genome: repaired, changes, unresolved };
    }
    const current = repaired[genes.device];
    const nearest = usable.reduce((best, entry) =>
      Math.abs(entry.index - current) < Math.abs(best.index - current) ? entry : best,
    );
    move(
      genes.device,
      nearest.index,
      `${device} has no feasible node and bits-per-cell combination in this space`,
    );
    device = nearest.name;
  }

  const node = nodes[repaired[genes.techNode]];
  if (!nodeUsable(device, node)) {
    const to = nearestAllowedIndex(
      nodes,
      repaired[genes.techNode],
      (value) => nodeUsable(device, value),
      true,
    )!;
    const why = rules.nodesFor(device).includes(node)
      ? `no supply voltage of the space fits ${node} nm (nominal VDD ${rules.maxSupplyVoltage?.(node)} V)`
      : `${device} is not offered at ${node} nm — ${rules.nodesReason?.(device) ?? 'device rules'}`;
    move(genes.techNode, to, why);
  }
  const bits = bitsPerCell[repaired[genes.bitsPerCell]];
  if (!rules.bitsPerCellFor(device).includes(bits)) {
    const to = nearestAllowedIndex(
      bitsPerCell,
      repaired[genes.bitsPerCell],
      (value) => rules.bitsPerCellFor(device).includes(value),
      false,
    )!;
    move(
      genes.bitsPerCell,
      to,
      `${device} cannot store ${bits} bits per cell — ${rules.bitsPerCellReason?.(device) ?? 'device rules'}`,
    );
  }
  if (genes.supplyVoltage !== null && voltages !== null) {
    const finalNode = nodes[repaired[genes.techNode]];
    const volts = voltages[repaired[genes.supplyVoltage]];
    if (!voltageAllowed(rules, finalNode, volts)) {
      const to = nearestAllowedIndex(
        voltages,
        repaired[genes.supplyVoltage],
        (value) => voltageAllowed(rules, finalNode, value),
        false,
      )!;
      move(
        genes.supplyVoltage,
        to,
        `${volts} V exceeds the ${finalNode} nm node's nominal VDD ${rules.maxSupplyVoltage?.(finalNode)} V (NeuroSim Technology.cpp)`,
      );
    }
  }

  const colChoices = layout.genes[genes.cols].values as number[];
  const sharing = layout.genes[genes.colsPerAdc].values as number[];
  const cols = colChoices[repaired[genes.cols]];
  const shared = sharing[repaired[genes.colsPerAdc]];
  if (shared > cols) {
    const to = nearestAllowedIndex(sharing, repaired[genes.colsPerAdc], (value) => value <= cols, false)!;
    move(genes.colsPerAdc, to, `${shared} columns cannot share one ADC in a ${cols}-column array`);
  }

  for (const gene of inactiveGenes(layout, repaired)) {
    if (repaired[gene] !== 0) move(gene, 0, 'inactive (its block is skip), set to the canonical 0');
  }

  const capacity = capacityCheck(space, repaired, rules);
  if (capacity && capacity.needed > capacity.available && genes.tiles !== null) {
    const tileChoices = layout.genes[genes.tiles].values as number[];
    const enough = tileChoices
      .map((tiles, index) => ({ tiles, index }))
      .filter(({ tiles }) => tiles >= capacity.needed)
      .sort((a, b) => a.tiles - b.tiles)[0];
    if (enough) {
      move(genes.tiles, enough.index, `${capacity.explanation} (weights stay resident on chip)`);
    } else {
      unresolved.push(
        `hardware.tiles: ${capacity.explanation}, more than the largest choice ${Math.max(...tileChoices)}: reject this genome (or allow more tiles)`,
      );
    }
  }
  return { genome: repaired, changes, unresolved };
}

// ---------------------------------------------------------------------------------------------------
// Counting and uniform sampling
// ---------------------------------------------------------------------------------------------------

/** Feasible canonical assignments of one group, as mixed-radix codes (null = every assignment). */
interface GroupFeasibility {
  group: GeneGroup;
  radices: number[];
  codes: number[] | null;
  count: bigint;
}

/** Groups above this many assignments would be slow to enumerate; real spaces stay far below. */
const MAX_GROUP_ENUMERATION = 4_000_000;

const feasibilityCache = new WeakMap<GenomeLayout, WeakMap<HardwareRules, GroupFeasibility[]>>();

function groupFeasibility(space: SearchSpace, rules: HardwareRules): GroupFeasibility[] {
  const layout = buildLayout(space);
  let byRules = feasibilityCache.get(layout);
  if (!byRules) {
    byRules = new WeakMap();
    feasibilityCache.set(layout, byRules);
  }
  const cached = byRules.get(rules);
  if (cached) return cached;
  const problems = spaceRuleProblems(space, rules);
  if (problems.length > 0) throw new Error(`invalid search space:\n  ${problems.join('\n  ')}`);

  const scratch: Genome = new Array<number>(layout.length).fill(0);
  const result = layout.groups.map((group): GroupFeasibility => {
    const radices = group.genes.map((gene) => layout.cardinalities[gene]);
    const product = radices.reduce((a, b) => a * b, 1);
    if (group.kind === 'free') return { group, radices, codes: null, count: BigInt(product) };
    if (product > MAX_GROUP_ENUMERATION) {
      throw new Error(
        `gene group ${group.name} has ${product} combinations: too many to enumerate; shorten its value lists`,
      );
    }
    const accept = groupPredicate(layout, group, rules);
    const codes: number[] = [];
    for (let code = 0; code < product; code++) {
      writeCode(scratch, group.genes, radices, code);
      if (accept(scratch)) codes.push(code);
    }
    return { group, radices, codes, count: BigInt(codes.length) };
  });
  byRules.set(rules, result);
  return result;
}

/** Whether a group's genes (read from a full-length genome) form a feasible, canonical assignment. */
function groupPredicate(
  layout: GenomeLayout,
  group: GeneGroup,
  rules: HardwareRules,
): (genome: Genome) => boolean {
  switch (group.kind) {
    case 'block': {
      const slot = layout.blockSlots.find((candidate) => candidate.operatorGene === group.genes[0])!;
      const ownGenes = group.genes.filter((gene) => gene !== slot.operatorGene);
      return (genome) =>
        geneValue(layout, genome, slot.operatorGene) !== 'skip' ||
        ownGenes.every((gene) => genome[gene] === 0);
    }
    case 'cell':
      return (genome) => cellFeasible(rules, hardwareValues(layout, genome));
    case 'array':
      return (genome) => {
        const values = hardwareValues(layout, genome);
        return values.colsPerAdc <= values.cols;
      };
    case 'free':
      return () => true;
  }
}

function writeCode(genome: Genome, genes: readonly number[], radices: readonly number[], code: number): void {
  let rest = code;
  for (let i = genes.length - 1; i >= 0; i--) {
    genome[genes[i]] = rest % radices[i];
    rest = Math.floor(rest / radices[i]);
  }
}

/** What sampling needs from a generator: common/rng's Rng fits, and so does randomSourceFrom(() => number). */
export interface RandomSource {
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** A RandomSource over a uniform [0, 1) function (the optimizer's sample hook hands one of those). */
export function randomSourceFrom(random: () => number): RandomSource {
  return { int: (n) => Math.min(n - 1, Math.floor(random() * n)) };
}

/** Capacity rejections before sampleGenome gives up (the tiles choices are then far too small). */
const MAX_CAPACITY_DRAWS = 10_000;

/**
 * A genome drawn uniformly from the feasible canonical genomes, i.e. uniformly over distinct feasible
 * candidates: each group is drawn uniformly among its feasible assignments (the feasible set is their
 * product), and with a tiles gene, draws that do not fit are rejected and redrawn, which keeps the
 * distribution uniform over what fits.
 */
export function sampleGenome(
  space: SearchSpace,
  rng: RandomSource,
  rules: HardwareRules = defaultHardwareRules,
): Genome {
  const layout = buildLayout(space);
  const groups = groupFeasibility(space, rules);
  for (let draw = 0; draw < MAX_CAPACITY_DRAWS; draw++) {
    const genome: Genome = new Array<number>(layout.length).fill(0);
    for (const { group, radices, codes } of groups) {
      if (codes === null) {
        group.genes.forEach((gene, i) => (genome[gene] = rng.int(radices[i])));
      } else {
        writeCode(genome, group.genes, radices, codes[rng.int(codes.length)]);
      }
    }
    const capacity = capacityCheck(space, genome, rules);
    if (!capacity || capacity.needed <= capacity.available) return genome;
  }
  throw new Error(
    `sampleGenome: ${MAX_CAPACITY_DRAWS} draws in a row did not fit the tile budget: hardware.tiles choices are too small for this network space`,
  );
}

export interface CountSummary {
  /** Exact decimal count. */
  count: string;
  log10: number;
  /** Two significant digits, e.g. "9.9×10^85". */
  scientific: string;
}

export interface SpaceSize {
  /** Distinct feasible candidates (canonical genomes satisfying the hardware rules). */
  candidates: CountSummary;
  /** All integer vectors of the encoding (product of cardinalities), the raw genome count. */
  genomeVectors: CountSummary;
  /** Feasible network + quantization choices, and feasible hardware configurations, separately. */
  networkAndQuantization: CountSummary;
  hardware: CountSummary;
  /** False when a tiles gene is present: candidates is then an upper bound (capacity is per candidate). */
  exact: boolean;
  note: string;
}

export function summarizeCount(count: bigint): CountSummary {
  const digits = count.toString();
  if (count <= 0n) return { count: digits, log10: -Infinity, scientific: '0' };
  const exponent = digits.length - 1;
  const leading = Number(`${digits[0]}.${digits.slice(1, 16) || '0'}`);
  let mantissa = Math.round(leading * 10) / 10;
  let shownExponent = exponent;
  if (mantissa >= 10) {
    mantissa /= 10;
    shownExponent += 1;
  }
  return {
    count: digits,
    log10: exponent + Math.log10(leading),
    scientific: `${mantissa.toFixed(1)}×10^${shownExponent}`,
  };
}

/** The size of the space, counted exactly over the hardware rules (see SpaceSize.exact for tiles). */
export function spaceSize(space: SearchSpace, rules: HardwareRules = defaultHardwareRules): SpaceSize {
  const layout = buildLayout(space);
  const groups = groupFeasibility(space, rules);
  let candidates = 1n;
  let hardware = 1n;
  let network = 1n;
  for (const { group, count } of groups) {
    candidates *= count;
    if (group.name.startsWith('hardware.')) hardware *= count;
    else network *= count;
  }
  const vectors = layout.cardinalities.reduce((product, cardinality) => product * BigInt(cardinality), 1n);
  const exact = layout.hardware.tiles === null || !rules.capacityNeed;
  return {
    candidates: summarizeCount(candidates),
    genomeVectors: summarizeCount(vectors),
    networkAndQuantization: summarizeCount(network),
    hardware: summarizeCount(hardware),
    exact,
    note: exact
      ? 'exact count of distinct feasible candidates (inactive genes of skip blocks counted once)'
      : 'upper bound: the tiles budget is checked per candidate, so candidates that do not fit are included',
  };
}

// ---------------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------------

/**
 * A compact key: one base-36 character per gene when every gene is below 36 (the usual case), otherwise
 * '.' followed by base-36 numbers joined by '.'. Keys of equal genomes are equal; canonicalize first to
 * make equal candidates share one key.
 */
export function genomeKey(genome: readonly number[]): string {
  const parts = genome.map((value) => value.toString(36));
  return parts.every((part) => part.length === 1) ? parts.join('') : `.${parts.join('.')}`;
}

export function parseGenomeKey(key: string): Genome {
  const parts = key.startsWith('.') ? key.slice(1).split('.') : key.split('');
  return parts.map((part) => {
    const value = parseInt(part, 36);
    if (!Number.isInteger(value) || value < 0 || value.toString(36) !== part) {
      throw new Error(`invalid genome key "${key}"`);
    }
    return value;
  });
}

/** One line naming a candidate, for logs and activity summaries. */
export function describeCandidate(candidate: Candidate): string {
  const blocks = candidate.architecture.blocks
    .filter((block) => block.family !== 'skip')
    .map((block, i) => {
      const bits = candidate.quantization.blocks.filter((entry) => entry !== null)[i];
      return `${block.operator}/${block.outChannels}${bits ? `@w${bits.weightBits}a${bits.activationBits}` : ''}`;
    });
  const hw = candidate.hardware;
  return [
    blocks.join(' '),
    `${hw.device} ${hw.techNode}nm ${hw.rows}×${hw.cols} ${hw.bitsPerCell}b/cell ADC ${hw.adcBits}b ${hw.adcType}/${hw.colsPerAdc}col DAC ${hw.dacBits}b` +
      (hw.supplyVoltage !== undefined ? ` ${hw.supplyVoltage}V` : '') +
      (hw.tiles !== undefined ? ` ${hw.tiles} tiles` : ''),
  ].join(' | ');
}

// ---------------------------------------------------------------------------------------------------
// Optimizer adapters (search/optimizer.ts's ask/tell contract)
// ---------------------------------------------------------------------------------------------------

/** The genes as the optimizer describes them: numeric choices are ordinal, names are categorical. */
export function optimizerGenes(layout: GenomeLayout): OptimizerGene[] {
  return layout.genes.map((gene) => ({
    kind: gene.ordinal ? 'ordinal' : 'categorical',
    cardinality: gene.cardinality,
    name: gene.name,
  }));
}

/** Gene groups for NSGA-II's 'block' crossover (groups of one gene act alone anyway). */
export function crossoverBlocks(layout: GenomeLayout): number[][] {
  return layout.groups.filter((group) => group.genes.length > 1).map((group) => [...group.genes]);
}

/**
 * The accuracy corner of the network space — every block at its widest width and its most expensive
 * operator (most MACs), every layer at the most bits: the supernet's largest path — with the hardware genes
 * of `from`. Opening the first generation with it anchors the front's high-accuracy end, which a few
 * random draws rarely reach.
 */
export function largestNetworkGenome(space: SearchSpace, from: Genome): Genome {
  const layout = buildLayout(space);
  const genome = [...from];
  const top = (gene: number) => (genome[gene] = layout.genes[gene]!.cardinality - 1);
  for (const bits of [layout.stemBits, layout.headBits, ...layout.blockSlots.map((slot) => slot.bits)]) {
    top(bits.weightBits);
    top(bits.activationBits);
  }
  for (const slot of layout.blockSlots) top(slot.widthGene);
  for (const slot of layout.blockSlots) {
    let best = genome[slot.operatorGene]!;
    let bestMacs = -1;
    for (let choice = 0; choice < layout.genes[slot.operatorGene]!.cardinality; choice++) {
      genome[slot.operatorGene] = choice;
      const { architecture, quantization } = decode(space, genome);
      const macs = macsPerImage(layerShapes(architecture, quantization));
      if (macs > bestMacs) [best, bestMacs] = [choice, macs];
    }
    genome[slot.operatorGene] = best;
  }
  return genome;
}

/**
 * Hooks that keep the optimizer inside the feasible space: `repair` returns the repaired canonical genome,
 * or null when it cannot be repaired (capacity), and `sample` draws uniformly over feasible candidates.
 */
export function optimizerHooks(
  space: SearchSpace,
  rules: HardwareRules = defaultHardwareRules,
): Required<OptimizerHooks> {
  return {
    anchors: (random) => [largestNetworkGenome(space, sampleGenome(space, randomSourceFrom(random), rules))],
    repair: (genome) => {
      const result = repair(space, genome, rules);
      return result.unresolved.length > 0 ? null : result.genome;
    },
    sample: (random) => sampleGenome(space, randomSourceFrom(random), rules),
  };
}
