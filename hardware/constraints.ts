/**
 * Constraint checks on an evaluated chip: the capacity (weights must fit the tile budget) and limits on
 * area, latency, energy and power, as the run config's `constraints` section states them
 * (e.g. `constraints: { areaMm2: { max: 100 } }`). Problems name the limit and the value.
 */
import type { NetworkCost } from './cost';

export interface Limit {
  max: number;
}

export interface CostConstraints {
  areaMm2?: Limit;
  latencyS?: Limit;
  energyJ?: Limit;
  powerW?: Limit;
}

/** Violated constraints (empty when the chip satisfies all of them). */
export function constraintViolations(cost: NetworkCost, constraints: CostConstraints = {}): string[] {
  const problems: string[] = [];
  if (!cost.fitsCapacity) {
    problems.push(
      `hardware.tiles: the weights need ${cost.requiredTiles} tiles but the chip has ${cost.availableTiles}; raise hardware.tiles, use more bits per cell or larger arrays`,
    );
  }
  const check = (field: keyof CostConstraints, value: number, unit: string) => {
    const limit = constraints[field];
    if (limit && value > limit.max) {
      problems.push(
        `constraints.${field}: the chip needs ${value.toPrecision(4)} ${unit}, above the ${limit.max} ${unit} limit`,
      );
    }
  };
  check('areaMm2', cost.areaMm2, 'mm²');
  check('latencyS', cost.latencyS, 's');
  check('energyJ', cost.energyJ, 'J');
  check('powerW', cost.latencyS > 0 ? cost.energyJ / cost.latencyS : 0, 'W');
  return problems;
}

/** True when the chip meets the capacity and every given limit. */
export function satisfiesConstraints(cost: NetworkCost, constraints: CostConstraints = {}): boolean {
  return constraintViolations(cost, constraints).length === 0;
}
