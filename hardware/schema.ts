/**
 * Config-facing schemas (zod, strict: an unknown key is an error) for the hardware library and for a
 * candidate chip, and the function that builds the effective library from user overrides:
 *
 * ```yaml
 * library:
 *   devices:
 *     rram: { readVoltageV: 0.3 }                              # override a preset
 *     rram-mine: { extends: rram, ronOhm: 50000, onOffRatio: 30 } # a new device based on a preset
 *   architectures:
 *     neurosim: { layoutEfficiency: 2.0, tileBuffer: { bytes: 32768 } }
 * ```
 *
 * A new device needs `extends` or every field of DeviceParams. Device names start with their family
 * ('rram-…'), as the search space derives the family from the name.
 */
import { z } from 'zod';
import { formatIssues } from '../common/validation';
import type { ArchitectureParams } from './architectures';
import type { DeviceParams } from './devices';
import { DEVICE_FAMILIES } from './devices';
import type { HardwareLibrary } from './library';
import { DEFAULT_LIBRARY, createLibrary } from './library';
import { TECH_NODES } from './technology';
import type { DeviceFamily, TechNode } from './types';
import { HARDWARE_LIMITS } from './validate';

export class HardwareLibraryError extends Error {
  override name = 'HardwareLibraryError';
  constructor(readonly problems: string[]) {
    super(`invalid hardware library:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const techNodeSchema = z.literal(TECH_NODES as unknown as [TechNode, ...TechNode[]], {
  error: (issue) =>
    `must be a node of the table (${TECH_NODES.join(', ')} nm), got ${JSON.stringify(issue.input)}`,
});
const nodeKeySchema = z.enum(TECH_NODES.map(String) as [string, ...string[]]);

function rangeSchema(max: number) {
  return z
    .strictObject({
      nominal: z.number().min(0).max(max),
      min: z.number().min(0).max(max),
      max: z.number().min(0).max(max),
    })
    .refine((r) => r.min <= r.nominal && r.nominal <= r.max, { error: 'needs min ≤ nominal ≤ max' });
}
const fractionRange = rangeSchema(1);

const deviceFields = {
  family: z.enum(DEVICE_FAMILIES as unknown as [DeviceFamily, ...DeviceFamily[]]),
  description: z.string(),
  cellAreaF2: z.number().gt(0).max(10000),
  cellAreaF2ByNode: z.partialRecord(nodeKeySchema, z.number().gt(0).max(10000)).optional(),
  ronOhm: z.number().min(100).max(1e9).nullable(),
  onOffRatio: z.number().gt(1).max(1e6).nullable(),
  minBitsPerCell: z.int().min(1).max(8),
  maxBitsPerCell: z.int().min(1).max(8),
  maxBitsPerCellWithoutVerify: z.int().min(1).max(8),
  readVoltageV: z.number().gt(0).max(3).nullable(),
  readPulseS: z.number().gt(0).max(1e-5),
  readEnergyPerCellJ: z.number().gt(0).max(1e-9).optional(),
  writeVoltageV: z.number().gt(0).max(10).optional(),
  differentialPairs: z.boolean(),
  minNode: techNodeSchema,
  minNodeReason: z.string(),
  bitsPerCellReason: z.string(),
  programmingSigma: fractionRange.nullable(),
  programmingSigmaUnverified: fractionRange.nullable(),
  readNoiseSigma: fractionRange.nullable(),
  outputNoiseFullScale: fractionRange.nullable(),
  driftNu: fractionRange,
  driftT0S: z.number().gt(0),
  relaxation: z
    .strictObject({ sigmaGrowthFactor: rangeSchema(100), afterSeconds: rangeSchema(1e9) })
    .nullable(),
  stuckAtZero: fractionRange,
  stuckAtOne: fractionRange,
  noiseModel: z.enum(['aihwkit-pcm', 'aihwkit-reram-wan2022', 'gaussian']),
  source: z.string(),
};

const deviceNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    'device names are lower-case words joined by dashes, e.g. rram-mine',
  );

/** A complete device entry. */
export const deviceParamsSchema = z.strictObject({ name: deviceNameSchema, ...deviceFields });

/** An override of a library device, or a new device (`extends` a preset, or every field given). */
export const deviceOverrideSchema = z.strictObject({ ...deviceFields, extends: z.string() }).partial();

const bufferFields = {
  kind: z.enum(['sram', 'edram', 'register']),
  readEnergyPerByteJ: z.number().min(0).max(1e-9),
  writeEnergyPerByteJ: z.number().min(0).max(1e-9),
  areaPerByteUm2: z.number().gt(0).max(1000).nullable(),
  node: techNodeSchema,
};

const architectureFields = {
  description: z.string(),
  adcModel: z.enum(['neurosim-sar', 'mnsim-table', 'survey']),
  sarAreaReference: z.strictObject({
    bits: z.int().min(1).max(16),
    node: techNodeSchema,
    areaUm2: z.number().gt(0),
  }),
  flashCrossoverBits: z.number().min(1).max(8),
  cellCurrentAccounting: z.enum(['adc', 'array']),
  dac: z.strictObject({
    powerW: z.number().min(0).max(1),
    areaUm2: z.number().min(0),
    node: techNodeSchema,
    factorPerBit: z.number().min(1).max(4),
  }),
  sampleHold: z.strictObject({
    energyJ: z.number().min(0).max(1e-9),
    areaUm2: z.number().min(0),
    node: techNodeSchema,
  }),
  shiftAdd: z.strictObject({
    energyPerOpJ: z.number().min(0).max(1e-9),
    areaUm2PerUnit: z.number().min(0),
    unitsPerArray: z.number().min(0).max(1024),
    node: techNodeSchema,
  }),
  adderEnergyPerBitJ: z.strictObject({ energyJ: z.number().min(0).max(1e-9), node: techNodeSchema }),
  wireCapacitanceFPerUm: z.number().gt(0).max(1e-12),
  arraysPerTile: z.int().min(HARDWARE_LIMITS.arraysPerTile.min).max(HARDWARE_LIMITS.arraysPerTile.max),
  tileBuffer: z.strictObject({ ...bufferFields, bytes: z.int().min(0) }),
  globalBuffer: z.strictObject({ ...bufferFields, bytes: z.union([z.int().min(0), z.literal('auto')]) }),
  bus: z.strictObject({
    energyPerByteJ: z.number().min(0).max(1e-9),
    areaMm2PerTile: z.number().min(0),
    node: techNodeSchema,
  }),
  router: z.strictObject({
    energyPerByteHopJ: z.number().min(0).max(1e-9),
    areaMm2: z.number().min(0),
    tilesPerRouter: z.number().gt(0),
    node: techNodeSchema,
  }),
  offChipIo: z.strictObject({ powerW: z.number().min(0), areaMm2: z.number().min(0) }),
  layoutEfficiency: z.number().min(1).max(5),
  dynamicEnergyFactor: z.number().min(0.5).max(5),
  sensingLatencyFactor: z.number().min(0.5).max(5),
  overlapReadAndConvert: z.boolean(),
  separateReadStep: z.boolean(),
  dataMovementCycles: z.strictObject({
    perMvm: z.number().min(0).max(1e6),
    perInputBit: z.number().min(0).max(100),
    perOutputBit: z.number().min(0).max(100),
    referenceCols: z.number().gt(0),
    colsExponent: z.number().min(0).max(2),
    wireDelayNsPerMm22: z.number().min(0).max(100).optional(),
    tileDataPath: z.boolean().optional(),
  }),
  fillTilesWithCopies: z.boolean(),
  edgePeripheryLayout: z.boolean(),
  tileInterconnectWidthF: z.number().min(0).max(1e6),
  peripheryAreaF2: z.strictObject({
    perRow: z.number().min(0).max(1e7),
    perColumn: z.number().min(0).max(1e7),
    levelShiftersPerRow: z.number().min(0).max(1e7),
    levelShiftersPerColumn: z.number().min(0).max(1e7),
  }),
  leakageFraction: z.number().min(0).max(0.5),
  leakageByArea: z.boolean().optional(),
  inputBitDensity: z.number().gt(0).max(1),
  meanCellLevel: z.number().min(0).max(1),
  source: z.string(),
};

/** A complete architecture preset. */
export const architectureParamsSchema = z.strictObject({ name: deviceNameSchema, ...architectureFields });

const nestedKeys = [
  'sarAreaReference',
  'dac',
  'sampleHold',
  'shiftAdd',
  'adderEnergyPerBitJ',
  'tileBuffer',
  'globalBuffer',
  'bus',
  'router',
  'offChipIo',
  'dataMovementCycles',
  'peripheryAreaF2',
] as const;

/** An override of an architecture preset (nested groups may be given in part), or a new one (`extends`). */
export const architectureOverrideSchema = z
  .strictObject({
    ...architectureFields,
    sarAreaReference: architectureFields.sarAreaReference.partial(),
    dac: architectureFields.dac.partial(),
    sampleHold: architectureFields.sampleHold.partial(),
    shiftAdd: architectureFields.shiftAdd.partial(),
    adderEnergyPerBitJ: architectureFields.adderEnergyPerBitJ.partial(),
    tileBuffer: architectureFields.tileBuffer.partial(),
    globalBuffer: architectureFields.globalBuffer.partial(),
    bus: architectureFields.bus.partial(),
    router: architectureFields.router.partial(),
    offChipIo: architectureFields.offChipIo.partial(),
    dataMovementCycles: architectureFields.dataMovementCycles.partial(),
    peripheryAreaF2: architectureFields.peripheryAreaF2.partial(),
    extends: z.string(),
  })
  .partial();

/** The `library` section of a run config: device and architecture overrides by name. */
export const hardwareLibraryConfigSchema = z.strictObject({
  devices: z.record(deviceNameSchema, deviceOverrideSchema).optional(),
  architectures: z.record(deviceNameSchema, architectureOverrideSchema).optional(),
});

export type HardwareLibraryConfig = z.input<typeof hardwareLibraryConfigSchema>;

/** Cross-field rules of a device (beyond each field's own range). */
export function deviceProblems(device: DeviceParams, where: string): string[] {
  const problems: string[] = [];
  const family = device.family;
  if (device.name !== family && !device.name.startsWith(`${family}-`)) {
    problems.push(
      `${where}: a ${family} device's name starts with "${family}-" (the search reads the family from it); rename it to ${family}-${device.name}`,
    );
  }
  if (device.minBitsPerCell > device.maxBitsPerCell) {
    problems.push(
      `${where}.minBitsPerCell: ${device.minBitsPerCell} exceeds maxBitsPerCell ${device.maxBitsPerCell}`,
    );
  }
  if (device.maxBitsPerCellWithoutVerify > device.maxBitsPerCell) {
    problems.push(
      `${where}.maxBitsPerCellWithoutVerify: ${device.maxBitsPerCellWithoutVerify} exceeds maxBitsPerCell ${device.maxBitsPerCell}`,
    );
  }
  if ((family === 'sram' || family === 'mram') && device.maxBitsPerCell > 1) {
    problems.push(
      `${where}.maxBitsPerCell: ${family} stores 1 bit per cell, got ${device.maxBitsPerCell} (NeuroSim V1.4 Param.cpp: SRAM and STT-MRAM cells are binary); use 1`,
    );
  }
  if (family === 'rram' && device.minNode < 22) {
    problems.push(
      `${where}.minNode: NeuroSim refuses RRAM below 22 nm, got ${device.minNode} nm; use 22 or larger`,
    );
  }
  const digital = device.ronOhm === null;
  if (family === 'sram' && !digital) {
    problems.push(`${where}.ronOhm: an SRAM cell is digital; set ronOhm and onOffRatio to null`);
  }
  if (family !== 'sram' && digital) {
    problems.push(`${where}.ronOhm: a ${family} cell needs its on-resistance in Ω (null is for SRAM only)`);
  }
  if (!digital && device.onOffRatio === null) {
    problems.push(`${where}.onOffRatio: an analog cell needs a finite on/off ratio (> 1)`);
  }
  return problems;
}

/**
 * Formats issues of the library config; issues inside one device or architecture are formatted against
 * that entry's schema, so an unknown key gets a "did you mean" suggestion from the entry's fields.
 */
function formatLibraryIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    const section = String(issue.path[0]);
    const name = issue.path[1];
    const entrySchema =
      section === 'devices'
        ? deviceOverrideSchema
        : section === 'architectures'
          ? architectureOverrideSchema
          : undefined;
    if (entrySchema && typeof name === 'string' && issue.path.length >= 2) {
      const inner = { ...issue, path: issue.path.slice(2) } as z.core.$ZodIssue;
      return formatIssues(entrySchema, [inner]).map((p) =>
        p.startsWith('(top level)')
          ? `${section}.${name}${p.slice('(top level)'.length)}`
          : `${section}.${name}.${p}`,
      );
    }
    return formatIssues(hardwareLibraryConfigSchema, [issue]);
  });
}

function merge<T extends object>(base: T, override: Partial<T>, nested: readonly string[] = []): T {
  const merged = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    if (nested.includes(key) && value !== null && typeof value === 'object') {
      merged[key] = { ...(merged[key] as object), ...(value as object) };
    } else {
      merged[key] = value;
    }
  }
  return merged as T;
}

function prefixed(prefix: string, problems: string[]): string[] {
  return prefix ? problems.map((p) => `${prefix}.${p}`) : problems;
}

/**
 * The effective library: `base` with the config's overrides and additions, validated as a whole.
 * Throws HardwareLibraryError listing every problem (paths relative to `pathPrefix`).
 */
export function buildHardwareLibrary(
  config: unknown,
  base: HardwareLibrary = DEFAULT_LIBRARY,
  pathPrefix = '',
): HardwareLibrary {
  const parsed = hardwareLibraryConfigSchema.safeParse(config ?? {}, { reportInput: true });
  if (!parsed.success)
    throw new HardwareLibraryError(prefixed(pathPrefix, formatLibraryIssues(parsed.error.issues)));
  const problems: string[] = [];
  const devices = new Map(base.devices);
  for (const [name, override] of Object.entries(parsed.data.devices ?? {})) {
    const where = `devices.${name}`;
    const { extends: parentName, ...fields } = override;
    const parent = parentName !== undefined ? devices.get(parentName) : devices.get(name);
    if (parentName !== undefined && !parent) {
      problems.push(
        `${where}.extends: unknown device "${parentName}"; use one of ${[...devices.keys()].join(', ')}`,
      );
      continue;
    }
    const candidate = parent
      ? merge(parent, { ...fields, name } as Partial<DeviceParams>)
      : ({ name, ...fields } as DeviceParams);
    const full = deviceParamsSchema.safeParse(candidate, { reportInput: true });
    if (!full.success) {
      const missing = full.error.issues.filter(
        (issue) => issue.path.length === 1 && (issue as { input?: unknown }).input === undefined,
      );
      if (!parent && missing.length > 0) {
        problems.push(
          `${where}: a new device needs "extends": "<preset>" or every field (missing: ${missing.map((i) => i.path.join('.')).join(', ')})`,
        );
      } else {
        problems.push(...formatIssues(deviceParamsSchema, full.error.issues).map((p) => `${where}.${p}`));
      }
      continue;
    }
    const device = full.data as DeviceParams;
    const deviceIssues = deviceProblems(device, where);
    problems.push(...deviceIssues);
    if (deviceIssues.length === 0) devices.set(name, device);
  }

  const architectures = new Map(base.architectures);
  for (const [name, override] of Object.entries(parsed.data.architectures ?? {})) {
    const where = `architectures.${name}`;
    const { extends: parentName, ...fields } = override;
    const parent = parentName !== undefined ? architectures.get(parentName) : architectures.get(name);
    if (!parent) {
      problems.push(
        parentName !== undefined
          ? `${where}.extends: unknown architecture "${parentName}"; use one of ${[...architectures.keys()].join(', ')}`
          : `${where}: a new architecture needs "extends": "<preset>" (one of ${[...architectures.keys()].join(', ')})`,
      );
      continue;
    }
    const candidate = merge(parent, { ...fields, name } as Partial<ArchitectureParams>, nestedKeys);
    const full = architectureParamsSchema.safeParse(candidate, { reportInput: true });
    if (!full.success) {
      problems.push(...formatIssues(architectureParamsSchema, full.error.issues).map((p) => `${where}.${p}`));
      continue;
    }
    architectures.set(name, full.data as ArchitectureParams);
  }
  if (problems.length > 0) throw new HardwareLibraryError(prefixed(pathPrefix, problems));
  return createLibrary(devices.values(), architectures.values());
}

/** A candidate chip's shape (types and ranges); cross-field rules are in validateHardware. */
export const hardwareConfigSchema = z.strictObject({
  device: z.string(),
  rows: z.int().min(HARDWARE_LIMITS.rows.min).max(HARDWARE_LIMITS.rows.max),
  cols: z.int().min(HARDWARE_LIMITS.cols.min).max(HARDWARE_LIMITS.cols.max),
  adcBits: z.int().min(HARDWARE_LIMITS.adcBits.min).max(HARDWARE_LIMITS.adcBits.max),
  adcType: z.enum(['sar', 'flash']),
  dacBits: z.int().min(HARDWARE_LIMITS.dacBits.min).max(HARDWARE_LIMITS.dacBits.max),
  bitsPerCell: z.int().min(1).max(8),
  colsPerAdc: z.int().min(1),
  techNode: techNodeSchema,
  supplyVoltage: z.number().min(HARDWARE_LIMITS.supplyVoltageMinV).max(1.5).optional(),
  tiles: z.int().min(HARDWARE_LIMITS.tiles.min).max(HARDWARE_LIMITS.tiles.max).optional(),
  architecture: z.string().optional(),
  arraysPerTile: z
    .int()
    .min(HARDWARE_LIMITS.arraysPerTile.min)
    .max(HARDWARE_LIMITS.arraysPerTile.max)
    .optional(),
  executionMode: z.enum(['layer-by-layer', 'pipelined']).optional(),
  weightDuplication: z.boolean().optional(),
  pipelineSpeedUp: z.literal('ifm').optional(),
});
