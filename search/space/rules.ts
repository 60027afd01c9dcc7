/**
 * Which hardware combinations the search may propose (device ↔ node ↔ bits per cell ↔ supply, ADC type ↔
 * ADC bits, capacity). The rules are not typed here: they come from a hardware library through
 * hardware/validate.ts (createHardwareRules), the same code that validates a chip and maps its layers for
 * the cost model, so a device added to the library governs the search as well.
 */

import type { HardwareLibrary } from '../../hardware/library';
import { DEFAULT_LIBRARY } from '../../hardware/library';
import type { AdcType } from '../../hardware/types';
import { createHardwareRules, type HardwareRules } from '../../hardware/validate';
import type { SearchSpace } from './schema';

const rulesByLibrary = new WeakMap<HardwareLibrary, HardwareRules>();

/**
 * The rules of a hardware library, one object per library: the feasibility tables of sampling are cached
 * by the rules' identity, so asking twice for the same library must not build them twice.
 */
export function hardwareRulesFor(library: HardwareLibrary = DEFAULT_LIBRARY): HardwareRules {
  let rules = rulesByLibrary.get(library);
  if (!rules) {
    rules = createHardwareRules(library);
    rulesByLibrary.set(library, rules);
  }
  return rules;
}

/** The rules of the built-in device library (hardware/devices.ts, hardware/architectures.ts). */
export const defaultHardwareRules: HardwareRules = hardwareRulesFor(DEFAULT_LIBRARY);

const VOLTAGE_TOLERANCE = 1e-9;

export function voltageAllowed(rules: HardwareRules, node: number, volts: number): boolean {
  const max = rules.maxSupplyVoltage(node);
  return (
    volts >= rules.minSupplyVoltage - VOLTAGE_TOLERANCE &&
    (max === undefined || volts <= max + VOLTAGE_TOLERANCE)
  );
}

export function adcAllowed(rules: HardwareRules, adcType: AdcType, adcBits: number): boolean {
  return adcBits <= rules.maxAdcBits(adcType);
}

/**
 * Problems between a parsed space and the rules: a listed device the library does not know, or with no
 * feasible combination, or ADC choices of which none can be built.
 */
export function spaceRuleProblems(space: SearchSpace, rules: HardwareRules = defaultHardwareRules): string[] {
  const problems: string[] = [];
  const hardware = space.hardware;
  const known = rules.knownDevices();
  hardware.devices.forEach((device, index) => {
    const where = `hardware.devices[${index}]`;
    if (!known.includes(device)) {
      problems.push(
        `${where}: unknown device ${device}: the hardware library has ${known.join(', ')}; use one of them or add ${device} to the library's devices`,
      );
      return;
    }
    const nodes = hardware.techNode.filter((node) => rules.nodesFor(device).includes(node));
    if (nodes.length === 0) {
      problems.push(
        `${where}: ${device} is offered at none of hardware.techNode [${hardware.techNode.join(', ')}] — ${rules.nodesReason(device)}: add one of ${rules.nodesFor(device).join(', ')} nm or remove ${device}`,
      );
      return;
    }
    const bits = hardware.bitsPerCell.filter((value) => rules.bitsPerCellFor(device).includes(value));
    if (bits.length === 0) {
      problems.push(
        `${where}: ${device} supports none of hardware.bitsPerCell [${hardware.bitsPerCell.join(', ')}] — ${rules.bitsPerCellReason(device)}: add one of ${rules.bitsPerCellFor(device).join(', ')} or remove ${device}`,
      );
    }
    const voltages = hardware.supplyVoltage;
    if (voltages && !nodes.some((node) => voltages.some((volts) => voltageAllowed(rules, node, volts)))) {
      problems.push(
        `hardware.supplyVoltage: no value fits any node ${device} is offered at (nominal VDD: ${nodes.map((node) => `${node} nm ${rules.maxSupplyVoltage(node)} V`).join(', ')}): add a lower voltage`,
      );
    }
  });
  if (!hardware.adcType.some((type) => hardware.adcBits.some((bits) => adcAllowed(rules, type, bits)))) {
    const type = hardware.adcType[0];
    problems.push(
      `hardware.adcBits: no ADC of hardware.adcType [${hardware.adcType.join(', ')}] can have any of [${hardware.adcBits.join(', ')}] bits — ${rules.adcBitsReason(type)}: add a value ≤ ${rules.maxAdcBits(type)} or another ADC type`,
    );
  }
  return problems;
}
