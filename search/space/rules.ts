/** Which hardware combinations the search may propose (device ↔ node ↔ bits per cell ↔ supply, capacity). */

import type { HardwareConfig, LayerShape } from '../../hardware/types';
import { DEVICE_FAMILIES, TECH_NODES, type SearchSpace } from './schema';

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

export function voltageAllowed(rules: HardwareRules, node: number, volts: number): boolean {
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
