/**
 * The search-space config: its vocabulary and defaults and the zod schema (strict, with defaults) whose
 * errors name the field and the fix. The rules of the encoding are described in ./layout.ts.
 */

import { z } from 'zod';
import { DEVICE_FAMILIES } from '../../hardware/devices';
import { TECH_NODES } from '../../hardware/technology';
import type { AdcType, TechNode } from '../../hardware/types';
import { HARDWARE_LIMITS } from '../../hardware/validate';
import { OPERATOR_NAMES, type OperatorName } from '../architecture';

// Device families, technology nodes and the ranges of ADC/DAC bits, supply voltage and tiles are the
// hardware library's (hardware/devices.ts, hardware/technology.ts, hardware/validate.ts HARDWARE_LIMITS):
// a value the cost model refuses is refused here, before any work starts.

export const ADC_TYPES = ['sar', 'flash'] as const satisfies readonly AdcType[];

/** Crossbar sizes: powers of two from 8 to 1024. */
export const CROSSBAR_SIZES = [8, 16, 32, 64, 128, 256, 512, 1024] as const;

/** Default hardware value sets (rows/cols 32..512, as CIMNAS searches: docs/sources.md §Search defaults). */
export const DEFAULT_ARRAY_SIZES: readonly number[] = [32, 64, 128, 256, 512];

/** A small two-stage network for 28×28 inputs (the first two stages of examples/full.yaml, two blocks each). */
const DEFAULT_STAGES: ReadonlyArray<{ blocks: number; widths: readonly number[]; stride: 1 | 2 }> = [
  { blocks: 2, widths: [16, 24, 32], stride: 1 },
  { blocks: 2, widths: [32, 48, 64], stride: 2 },
];
const DEFAULT_OPERATORS: readonly OperatorName[] = ['conv3', 'conv5', 'mbconv3_e3', 'mbconv5_e3', 'skip'];

export const show = (value: unknown): string => {
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
      `unknown device ${show(issue.input)}: use ${DEVICE_FAMILIES.join(', ')} or a preset named <family>-<preset> (e.g. rram-isaac)`,
  });

const techNode = z.literal(TECH_NODES as readonly TechNode[] as [TechNode, ...TechNode[]], {
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
    .describe('device families (rram, pcm, fefet, sram, mram) or library presets such as rram-isaac'),
  crossbar: choiceList(crossbarSize, 'crossbar sizes')
    .optional()
    .describe('square array sizes (one gene); give this or rows/cols'),
  rows: choiceList(crossbarSize, 'row counts').optional().describe('array rows (default 32..512)'),
  cols: choiceList(crossbarSize, 'column counts').optional().describe('array columns (default 32..512)'),
  adcBits: choiceList(
    integerFrom(HARDWARE_LIMITS.adcBits.min, HARDWARE_LIMITS.adcBits.max, 'ADC resolution (bits)'),
    'ADC resolutions',
  )
    .default(() => [3, 4, 5, 6, 7, 8])
    .describe('ADC resolution choices'),
  adcType: choiceList(adcType, 'ADC types')
    .default(() => [...ADC_TYPES])
    .describe('ADC architectures: sar, flash'),
  dacBits: choiceList(
    integerFrom(HARDWARE_LIMITS.dacBits.min, HARDWARE_LIMITS.dacBits.max, 'DAC bits per cycle'),
    'DAC resolutions',
  )
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
  supplyVoltage: choiceList(
    numberFrom(HARDWARE_LIMITS.supplyVoltageMinV, 1.5, 'supply voltage (V)'),
    'supply voltages',
  )
    .optional()
    .describe("supply-voltage choices in V, at most the node's nominal VDD; omit for nominal VDD"),
  tiles: choiceList(integerFrom(HARDWARE_LIMITS.tiles.min, HARDWARE_LIMITS.tiles.max, 'tiles'), 'tile counts')
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
