/**
 * Validation of a candidate chip and of a layer list, and the device ↔ node / device ↔ bits-per-cell rules
 * as data, so the genome decoder can repair or reject genomes with the same rules the cost model applies.
 * Every problem names the field, what is wrong and the fix.
 */
import { DEFAULT_ARCHITECTURE } from './architectures';
import type { DeviceParams } from './devices';
import type { HardwareLibrary } from './library';
import { DEFAULT_LIBRARY } from './library';
import { mapLayer } from './mapping';
import { TECH_NODES, TECH_NODE_TABLE, isTechNode } from './technology';
import type { AdcType, DeviceFamily, HardwareConfig, LayerShape, TechNode } from './types';

/** Ranges the cost model is meant for (outside them its fits extrapolate too far). */
export const HARDWARE_LIMITS = {
  /** Crossbar rows / columns (CIMNAS, Krestinskaya et al. 2025, searches 32–512). */
  rows: { min: 8, max: 2048 },
  cols: { min: 8, max: 2048 },
  /** ADC resolution: MNSIM's table reaches 10 bits; beyond 12 no IMC design is reported. */
  adcBits: { min: 1, max: 12 },
  /** A flash ADC needs 2^N − 1 comparators: 255 at 8 bits is the practical limit. */
  flashAdcMaxBits: 8,
  /** Bit-serial DAC resolution (Gibbon/CrossNAS use 1–2 bits; docs/sources.md §Search defaults). */
  dacBits: { min: 1, max: 8 },
  /** CIMNAS supply range floor 0.50 V (Krestinskaya et al. 2025); the ceiling is the node's nominal VDD. */
  supplyVoltageMinV: 0.5,
  arraysPerTile: { min: 1, max: 4096 },
  tiles: { min: 1, max: 1_000_000 },
  weightBits: { min: 1, max: 16 },
  activationBits: { min: 1, max: 16 },
} as const;

export interface DeviceRules {
  device: string;
  family: DeviceFamily;
  /** Bits per cell the device can store, ascending. */
  bitsPerCell: number[];
  bitsPerCellReason: string;
  /** Nodes the device is offered at, largest first. */
  nodes: TechNode[];
  nodesReason: string;
  differentialPairs: boolean;
}

function rulesOf(device: DeviceParams): DeviceRules {
  const bits: number[] = [];
  for (let b = device.minBitsPerCell; b <= device.maxBitsPerCell; b++) bits.push(b);
  return {
    device: device.name,
    family: device.family,
    bitsPerCell: bits,
    bitsPerCellReason: device.bitsPerCellReason,
    nodes: TECH_NODES.filter((node) => node >= device.minNode),
    nodesReason: device.minNodeReason,
    differentialPairs: device.differentialPairs,
  };
}

/** The rules of one device; throws for an unknown device (the message lists the known ones). */
export function deviceRules(device: string, library: HardwareLibrary = DEFAULT_LIBRARY): DeviceRules {
  const params = library.devices.get(device);
  if (!params) {
    throw new Error(
      `hardware.device: unknown device "${device}"; known devices: ${[...library.devices.keys()].join(', ')}`,
    );
  }
  return rulesOf(params);
}

/** The rules of every device of the library. */
export function allDeviceRules(library: HardwareLibrary = DEFAULT_LIBRARY): DeviceRules[] {
  return [...library.devices.values()].map(rulesOf);
}

/** Highest supply voltage a node allows: its nominal VDD (a higher supply is not modelled). */
export function maxSupplyVoltage(node: number): number | undefined {
  return isTechNode(node) ? TECH_NODE_TABLE[node].vddV : undefined;
}

/** Most ADC bits an ADC architecture allows (a flash ADC needs 2^N − 1 comparators). */
export function maxAdcBits(adcType: AdcType): number {
  return adcType === 'flash' ? HARDWARE_LIMITS.flashAdcMaxBits : HARDWARE_LIMITS.adcBits.max;
}

/** Why maxAdcBits(adcType) is what it is (shown when a genome asks for more). */
export function adcBitsReason(adcType: AdcType): string {
  const bits = maxAdcBits(adcType);
  return adcType === 'flash'
    ? `a flash ADC of N bits needs 2^N − 1 comparators: ${2 ** bits - 1} at ${bits} bits is the practical limit (hardware/validate.ts HARDWARE_LIMITS)`
    : `MNSIM's ADC table reaches 10 bits and no IMC design reports more than ${bits} (hardware/validate.ts HARDWARE_LIMITS)`;
}

/**
 * What combinations of hardware genes exist, derived from one hardware library: the search space
 * (search/space/) samples, repairs and explains genomes with these, so the search and the cost model
 * (validateHardware, requiredTiles → mapLayer) never disagree about what is feasible. Every rule is
 * a function of the library, so a device a user adds to the library governs the search too.
 */
export interface HardwareRules {
  /** Device names (families and presets) the library knows. */
  knownDevices(): readonly string[];
  /** Technology nodes (nm) at which a device is offered. */
  nodesFor(device: string): readonly number[];
  /** Bits per cell a device can store. */
  bitsPerCellFor(device: string): readonly number[];
  /** Why nodesFor(device) is limited, with its source (used in explanations). */
  nodesReason(device: string): string;
  /** Why bitsPerCellFor(device) is limited, with its source. */
  bitsPerCellReason(device: string): string;
  /** Highest supply voltage a node allows (its nominal VDD); undefined = unlimited. */
  maxSupplyVoltage(techNode: number): number | undefined;
  /** Lowest supply voltage the cost model accepts. */
  minSupplyVoltage: number;
  /** Most ADC bits an ADC architecture allows, and why. */
  maxAdcBits(adcType: AdcType): number;
  adcBitsReason(adcType: AdcType): string;
  /** Tiles a network needs on this hardware (weights resident on chip), with the cost model's mapping. */
  capacityNeed(
    layers: readonly LayerShape[],
    hardware: HardwareConfig,
  ): { tiles: number; explanation: string };
}

/** The rules of one hardware library (see HardwareRules). */
export function createHardwareRules(library: HardwareLibrary = DEFAULT_LIBRARY): HardwareRules {
  const rules = (device: string) => deviceRules(device, library);
  return {
    knownDevices: () => [...library.devices.keys()],
    nodesFor: (device) => rules(device).nodes,
    bitsPerCellFor: (device) => rules(device).bitsPerCell,
    nodesReason: (device) => rules(device).nodesReason,
    bitsPerCellReason: (device) => rules(device).bitsPerCellReason,
    maxSupplyVoltage,
    minSupplyVoltage: HARDWARE_LIMITS.supplyVoltageMinV,
    maxAdcBits,
    adcBitsReason,
    capacityNeed: (layers, hardware) => {
      const need = requiredTiles(layers, hardware, library);
      return {
        tiles: need.tiles,
        explanation: `the network needs ${need.arrays} arrays of ${hardware.rows}×${hardware.cols} in ${need.tiles} tiles of ${need.arraysPerTile} arrays (a tile holds one layer)`,
      };
    },
  };
}

/** Tiles and arrays the weights need (one copy, each layer on its own tiles). */
export function requiredTiles(
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  library: HardwareLibrary = DEFAULT_LIBRARY,
): { tiles: number; arrays: number; arraysPerTile: number } {
  const device = library.devices.get(hw.device);
  if (!device) throw new Error(`hardware.device: unknown device "${hw.device}"`);
  const arch = library.architectures.get(hw.architecture ?? DEFAULT_ARCHITECTURE);
  const arraysPerTile = hw.arraysPerTile ?? arch?.arraysPerTile ?? 1;
  let tiles = 0;
  let arrays = 0;
  for (const layer of layers) {
    const mapping = mapLayer(layer, hw, device);
    arrays += mapping.arrays;
    tiles += Math.ceil(mapping.arrays / arraysPerTile);
  }
  return { tiles, arrays, arraysPerTile };
}

const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function checkInteger(
  problems: string[],
  field: string,
  value: unknown,
  min: number,
  max: number,
  fix: string = `use an integer from ${min} to ${max}`,
): value is number {
  if (!isInteger(value) || value < min || value > max) {
    problems.push(`${field}: must be an integer from ${min} to ${max}, got ${show(value)}; ${fix}`);
    return false;
  }
  return true;
}

function bitsText(rules: DeviceRules): string {
  const min = rules.bitsPerCell[0];
  const max = rules.bitsPerCell[rules.bitsPerCell.length - 1];
  return min === max ? `${max} bit per cell` : `${min}–${max} bits per cell`;
}

/**
 * Problems with a candidate chip (empty when valid). Field paths are `hardware.<field>`, e.g.
 * `hardware.bitsPerCell: sram stores 1 bit per cell, got 2 (...); use 1`.
 */
export function validateHardware(hw: HardwareConfig, library: HardwareLibrary = DEFAULT_LIBRARY): string[] {
  const problems: string[] = [];
  const device = library.devices.get(hw.device);
  if (!device) {
    problems.push(
      `hardware.device: unknown device ${show(hw.device)}; use one of ${[...library.devices.keys()].join(', ')} or add it under the library's devices`,
    );
  }
  const architecture = hw.architecture ?? DEFAULT_ARCHITECTURE;
  if (!library.architectures.has(architecture)) {
    problems.push(
      `hardware.architecture: unknown architecture ${show(hw.architecture)}; use one of ${[...library.architectures.keys()].join(', ')}`,
    );
  }
  const nodeOk = typeof hw.techNode === 'number' && isTechNode(hw.techNode);
  if (!nodeOk) {
    problems.push(
      `hardware.techNode: ${show(hw.techNode)} nm is not in the node table; use one of ${TECH_NODES.join(', ')}`,
    );
  }

  checkInteger(problems, 'hardware.rows', hw.rows, HARDWARE_LIMITS.rows.min, HARDWARE_LIMITS.rows.max);
  const colsOk = checkInteger(
    problems,
    'hardware.cols',
    hw.cols,
    HARDWARE_LIMITS.cols.min,
    HARDWARE_LIMITS.cols.max,
  );
  if (hw.adcType !== 'sar' && hw.adcType !== 'flash') {
    problems.push(`hardware.adcType: must be "sar" or "flash", got ${show(hw.adcType)}`);
  }
  if (
    checkInteger(
      problems,
      'hardware.adcBits',
      hw.adcBits,
      HARDWARE_LIMITS.adcBits.min,
      HARDWARE_LIMITS.adcBits.max,
    )
  ) {
    if (hw.adcType === 'flash' && hw.adcBits > maxAdcBits('flash')) {
      problems.push(
        `hardware.adcBits: a flash ADC of ${hw.adcBits} bits needs ${2 ** hw.adcBits - 1} comparators; use adcType "sar" or at most ${maxAdcBits('flash')} bits`,
      );
    }
  }
  checkInteger(
    problems,
    'hardware.dacBits',
    hw.dacBits,
    HARDWARE_LIMITS.dacBits.min,
    HARDWARE_LIMITS.dacBits.max,
  );
  if (colsOk) {
    checkInteger(
      problems,
      'hardware.colsPerAdc',
      hw.colsPerAdc,
      1,
      hw.cols,
      `columns per ADC must lie between 1 and hardware.cols (${hw.cols})`,
    );
  } else if (!isInteger(hw.colsPerAdc) || hw.colsPerAdc < 1) {
    problems.push(`hardware.colsPerAdc: must be a positive integer, got ${show(hw.colsPerAdc)}`);
  }

  if (device) {
    const rules = rulesOf(device);
    if (!isInteger(hw.bitsPerCell) || !rules.bitsPerCell.includes(hw.bitsPerCell)) {
      const allowed = rules.bitsPerCell;
      problems.push(
        `hardware.bitsPerCell: ${device.name} stores ${bitsText(rules)}, got ${show(hw.bitsPerCell)} (${device.bitsPerCellReason}); use ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}`,
      );
    }
    if (nodeOk && hw.techNode < device.minNode) {
      problems.push(
        `hardware.techNode: ${device.name} is not offered at ${hw.techNode} nm (${device.minNodeReason}); use ${device.minNode} nm or larger`,
      );
    }
  }
  if (hw.supplyVoltage !== undefined) {
    const max = nodeOk ? maxSupplyVoltage(hw.techNode) : undefined;
    const min = HARDWARE_LIMITS.supplyVoltageMinV;
    if (
      typeof hw.supplyVoltage !== 'number' ||
      !Number.isFinite(hw.supplyVoltage) ||
      hw.supplyVoltage < min
    ) {
      problems.push(
        `hardware.supplyVoltage: must be at least ${min} V, got ${show(hw.supplyVoltage)}; raise it or leave it out for the nominal VDD`,
      );
    } else if (max !== undefined && hw.supplyVoltage > max + 1e-9) {
      problems.push(
        `hardware.supplyVoltage: ${hw.supplyVoltage} V exceeds the ${hw.techNode} nm node's nominal VDD ${max} V (NeuroSim Technology.cpp); use at most ${max} V`,
      );
    }
  }
  if (hw.tiles !== undefined) {
    checkInteger(problems, 'hardware.tiles', hw.tiles, HARDWARE_LIMITS.tiles.min, HARDWARE_LIMITS.tiles.max);
  }
  if (hw.arraysPerTile !== undefined) {
    checkInteger(
      problems,
      'hardware.arraysPerTile',
      hw.arraysPerTile,
      HARDWARE_LIMITS.arraysPerTile.min,
      HARDWARE_LIMITS.arraysPerTile.max,
    );
  }
  if (
    hw.executionMode !== undefined &&
    hw.executionMode !== 'layer-by-layer' &&
    hw.executionMode !== 'pipelined'
  ) {
    problems.push(
      `hardware.executionMode: must be "layer-by-layer" or "pipelined", got ${show(hw.executionMode)}`,
    );
  }
  if (hw.weightDuplication) {
    if (hw.executionMode !== 'pipelined') {
      problems.push(
        'hardware.weightDuplication: only balances a pipeline; set hardware.executionMode to "pipelined" or turn it off',
      );
    }
    if (hw.tiles === undefined) {
      problems.push(
        'hardware.weightDuplication: copies fill the spare tiles of a budget; set hardware.tiles or turn it off',
      );
    }
  }
  if (hw.pipelineSpeedUp !== undefined) {
    if (hw.pipelineSpeedUp !== 'ifm') {
      problems.push(`hardware.pipelineSpeedUp: must be "ifm" or absent, got ${show(hw.pipelineSpeedUp)}`);
    }
    if (hw.executionMode !== 'pipelined') {
      problems.push(
        'hardware.pipelineSpeedUp: only balances a pipeline; set hardware.executionMode to "pipelined" or remove it',
      );
    }
    if (hw.weightDuplication) {
      problems.push(
        'hardware.pipelineSpeedUp: the tile-budget weight duplication and the IFM speed-up are alternatives; turn one off',
      );
    }
  }
  return problems;
}

/** Problems with a layer list (empty when valid). Field paths are `layers[i].<field>`. */
export function validateLayers(layers: readonly LayerShape[]): string[] {
  const problems: string[] = [];
  if (!Array.isArray(layers) || layers.length === 0) return ['layers: give at least one weight layer'];
  layers.forEach((layer, index) => {
    const at = `layers[${index}]`;
    if (layer.kind !== 'conv' && layer.kind !== 'depthwise' && layer.kind !== 'dense') {
      problems.push(`${at}.kind: must be "conv", "depthwise" or "dense", got ${show(layer.kind)}`);
    }
    for (const field of [
      'inChannels',
      'outChannels',
      'kernelH',
      'kernelW',
      'stride',
      'outH',
      'outW',
    ] as const) {
      const value = layer[field];
      if (!isInteger(value) || value < 1)
        problems.push(`${at}.${field}: must be a positive integer, got ${show(value)}`);
    }
    checkInteger(
      problems,
      `${at}.weightBits`,
      layer.weightBits,
      HARDWARE_LIMITS.weightBits.min,
      HARDWARE_LIMITS.weightBits.max,
    );
    checkInteger(
      problems,
      `${at}.activationBits`,
      layer.activationBits,
      HARDWARE_LIMITS.activationBits.min,
      HARDWARE_LIMITS.activationBits.max,
    );
    if (layer.kind === 'depthwise' && layer.inChannels !== layer.outChannels) {
      problems.push(
        `${at}.outChannels: a depthwise layer keeps its channels (${layer.inChannels} in), got ${layer.outChannels} out`,
      );
    }
    if (
      layer.kind === 'dense' &&
      (layer.kernelH !== 1 || layer.kernelW !== 1 || layer.outH !== 1 || layer.outW !== 1)
    ) {
      problems.push(
        `${at}: a dense layer is a 1×1 conv on a 1×1 map; set kernelH = kernelW = outH = outW = 1`,
      );
    }
  });
  return problems;
}
