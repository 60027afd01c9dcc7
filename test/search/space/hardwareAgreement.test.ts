import { Rng } from '../../../common/rng';
import { evaluateNetwork } from '../../../hardware/cost';
import { DEFAULT_LIBRARY } from '../../../hardware/library';
import { TECH_NODES } from '../../../hardware/technology';
import { validateHardware } from '../../../hardware/validate';
import { layerShapes } from '../../../search/architecture';
import { decode, type Genome } from '../../../search/space/codec';
import { checkFeasible } from '../../../search/space/feasibility';
import { buildLayout } from '../../../search/space/layout';
import { resolveSearchSpace } from '../../../search/space/parse';
import { sampleGenome } from '../../../search/space/sampling';
import { randomVector } from './support';

/**
 * The search space and the cost model must agree on what can be built: the space's feasibility check
 * (rules from the hardware library) against hardware/validate.ts plus the cost model's own capacity
 * (evaluateNetwork's mapping and tiles). Every rule is in play: all library devices and nodes, bits per
 * cell beyond some devices, supply voltages above some nodes' VDD, ADC sharing wider than some arrays,
 * flash ADCs above their comparator limit, and tile budgets around what the networks need.
 */
const space = resolveSearchSpace({
  hardware: {
    devices: [...DEFAULT_LIBRARY.devices.keys()],
    techNode: [...TECH_NODES],
    bitsPerCell: [1, 2, 3, 4, 5],
    supplyVoltage: [0.5, 0.7, 0.9, 1.1, 1.3],
    rows: [32, 64, 128, 256],
    cols: [16, 64, 256],
    colsPerAdc: [1, 8, 32, 128],
    adcType: ['sar', 'flash'],
    adcBits: [4, 6, 8, 10],
    dacBits: [1, 2],
    tiles: [4, 8, 16, 32, 64],
  },
});

/** Feasible by the cost model's own code: a valid chip whose weights fit the tile budget. */
function costModelAccepts(genome: Genome): boolean {
  const { architecture, quantization, hardware } = decode(space, genome);
  if (validateHardware(hardware).length > 0) return false;
  return evaluateNetwork(layerShapes(architecture, quantization), hardware).fitsCapacity;
}

describe('the search space and the cost model agree on feasibility', () => {
  it('for 10,000 seeded genomes, sampled with and without the feasibility rules', () => {
    const layout = buildLayout(space);
    const rng = new Rng(2026);
    // Half drawn by the sampler (feasible by construction), half raw integer vectors (no repair).
    const genomes: Array<{ genome: Genome; sampled: boolean }> = [];
    for (let i = 0; i < 5_000; i++) genomes.push({ genome: sampleGenome(space, rng), sampled: true });
    for (let i = 0; i < 5_000; i++) genomes.push({ genome: randomVector(layout, rng), sampled: false });

    const counts = { feasible: 0, infeasible: 0 };
    const refusedFields = new Set<string>();
    const disagreements: string[] = [];
    for (const { genome, sampled } of genomes) {
      const problems = checkFeasible(space, genome);
      const spaceSays = problems.length === 0;
      const costModelSays = costModelAccepts(genome);
      counts[spaceSays ? 'feasible' : 'infeasible'] += 1;
      for (const problem of problems) refusedFields.add(problem.slice(0, problem.indexOf(':')));
      if (sampled && !spaceSays) disagreements.push(`sampled but infeasible: ${problems.join('; ')}`);
      if (spaceSays !== costModelSays && disagreements.length < 5) {
        disagreements.push(
          `space ${spaceSays ? 'accepts' : `refuses (${problems.join('; ')})`}, cost model ${costModelSays ? 'accepts' : `refuses (${validateHardware(decode(space, genome).hardware).join('; ') || 'capacity'})`}: ${JSON.stringify(decode(space, genome).hardware)}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
    // Both classes occur, so the agreement is tested on each side of the boundary.
    expect(counts.feasible).toBeGreaterThan(1_000);
    expect(counts.infeasible).toBeGreaterThan(1_000);
    expect(counts.feasible + counts.infeasible).toBe(10_000);
    // Every rule refused some genome (capacity is checked once the chip itself is valid).
    expect([...refusedFields].sort()).toEqual([
      'hardware.adcBits',
      'hardware.bitsPerCell',
      'hardware.colsPerAdc',
      'hardware.supplyVoltage',
      'hardware.techNode',
      'hardware.tiles',
    ]);
  });
});
