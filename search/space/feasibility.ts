/** Whether a genome is feasible under the hardware rules, why not, and the nearest feasible genome. */

import type { AdcType } from '../../hardware/types';
import type { HardwareRules } from '../../hardware/validate';
import { layerShapes } from '../architecture';
import { decode, geneValue, genomeShapeProblems, inactiveGenes, type Genome } from './codec';
import { buildLayout, type GenomeLayout } from './layout';
import { adcAllowed, defaultHardwareRules, voltageAllowed } from './rules';
import { show, type SearchSpace } from './schema';

interface HardwareValues {
  device: string;
  techNode: number;
  bitsPerCell: number;
  supplyVoltage: number | null;
  cols: number;
  colsPerAdc: number;
  adcType: AdcType;
  adcBits: number;
}

export function hardwareValues(layout: GenomeLayout, genome: readonly number[]): HardwareValues {
  const genes = layout.hardware;
  const value = (gene: number) => geneValue(layout, genome, gene) as number;
  return {
    device: geneValue(layout, genome, genes.device) as string,
    techNode: value(genes.techNode),
    bitsPerCell: value(genes.bitsPerCell),
    supplyVoltage: genes.supplyVoltage === null ? null : value(genes.supplyVoltage),
    cols: value(genes.cols),
    colsPerAdc: value(genes.colsPerAdc),
    adcType: geneValue(layout, genome, genes.adcType) as AdcType,
    adcBits: value(genes.adcBits),
  };
}

/** Why a supply voltage is refused at a node, with the source of the limit. */
function voltageProblem(rules: HardwareRules, node: number, volts: number): string {
  return volts < rules.minSupplyVoltage
    ? `${volts} V is below the cost model's ${rules.minSupplyVoltage} V floor (CIMNAS supply range, Krestinskaya et al. 2025)`
    : `${volts} V exceeds the ${node} nm node's nominal VDD ${rules.maxSupplyVoltage(node)} V (NeuroSim Technology.cpp)`;
}

function adcProblem(rules: HardwareRules, adcType: AdcType, adcBits: number): string {
  return `a ${adcType} ADC cannot have ${adcBits} bits — ${rules.adcBitsReason(adcType)}`;
}

export function cellFeasible(rules: HardwareRules, values: HardwareValues): boolean {
  return (
    rules.nodesFor(values.device).includes(values.techNode) &&
    rules.bitsPerCellFor(values.device).includes(values.bitsPerCell) &&
    (values.supplyVoltage === null || voltageAllowed(rules, values.techNode, values.supplyVoltage))
  );
}

export function capacityCheck(
  space: SearchSpace,
  genome: readonly number[],
  rules: HardwareRules,
): { needed: number; explanation: string; available: number } | null {
  const layout = buildLayout(space);
  if (layout.hardware.tiles === null) return null;
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
      `hardware.techNode: ${values.device} is not offered at ${values.techNode} nm — ${rules.nodesReason(values.device)}`,
    );
  }
  if (!rules.bitsPerCellFor(values.device).includes(values.bitsPerCell)) {
    problems.push(
      `hardware.bitsPerCell: ${values.device} cannot store ${values.bitsPerCell} bits per cell — ${rules.bitsPerCellReason(values.device)}`,
    );
  }
  if (values.supplyVoltage !== null && !voltageAllowed(rules, values.techNode, values.supplyVoltage)) {
    problems.push(`hardware.supplyVoltage: ${voltageProblem(rules, values.techNode, values.supplyVoltage)}`);
  }
  if (values.colsPerAdc > values.cols) {
    problems.push(
      `hardware.colsPerAdc: ${values.colsPerAdc} columns cannot share one ADC in a ${values.cols}-column array`,
    );
  }
  if (!adcAllowed(rules, values.adcType, values.adcBits)) {
    problems.push(`hardware.adcBits: ${adcProblem(rules, values.adcType, values.adcBits)}`);
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
 * node, then bits per cell, then supply voltage, then columns per ADC, then ADC bits, then tiles; each to the nearest
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
    rules.knownDevices().includes(device) &&
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
      ? `no supply voltage of the space fits ${node} nm (nominal VDD ${rules.maxSupplyVoltage(node)} V, NeuroSim Technology.cpp)`
      : `${device} is not offered at ${node} nm — ${rules.nodesReason(device)}`;
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
      `${device} cannot store ${bits} bits per cell — ${rules.bitsPerCellReason(device)}`,
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
      move(genes.supplyVoltage, to, voltageProblem(rules, finalNode, volts));
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

  // The ADC type stays as chosen when some ADC resolution of the space suits it; its bits move.
  const adcTypes = layout.genes[genes.adcType].values as AdcType[];
  const adcBitChoices = layout.genes[genes.adcBits].values as number[];
  const adcType = adcTypes[repaired[genes.adcType]];
  const adcBits = adcBitChoices[repaired[genes.adcBits]];
  if (!adcAllowed(rules, adcType, adcBits)) {
    const why = adcProblem(rules, adcType, adcBits);
    const bitsTo = nearestAllowedIndex(
      adcBitChoices,
      repaired[genes.adcBits],
      (value) => adcAllowed(rules, adcType, value),
      false,
    );
    if (bitsTo !== undefined) {
      move(genes.adcBits, bitsTo, why);
    } else {
      // No resolution of the space suits this type (parse guarantees one type that some resolution suits).
      const typeTo = adcTypes.findIndex((type) => adcAllowed(rules, type, adcBits));
      if (typeTo >= 0) {
        move(genes.adcType, typeTo, why);
      } else {
        unresolved.push(`hardware.adcBits: ${why}, and no other choice of the space fits`);
      }
    }
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
