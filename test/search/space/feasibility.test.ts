import { Rng } from '../../../common/rng';
import { createOptimizer } from '../../../search/evolution';
import { layerShapes } from '../../../search/architecture';
import { optimizerHooks } from '../../../search/space/adapters';
import { decode, isCanonical } from '../../../search/space/codec';
import { checkFeasible, repair } from '../../../search/space/feasibility';
import { buildLayout } from '../../../search/space/layout';
import { parseSearchSpace, resolveSearchSpace } from '../../../search/space/parse';
import { hardwareRulesFor } from '../../../search/space/rules';
import { sampleGenome } from '../../../search/space/sampling';
import { buildHardwareLibrary } from '../../../hardware/schema';
import { requiredTiles } from '../../../hardware/validate';
import { defaultSpace, richSpace, richSpaceInput, spaces, sampleMany, randomVector } from './support';

describe('repair and checkFeasible', () => {
  const layout = buildLayout(defaultSpace);
  const hw = layout.hardware;
  const indexOf = (gene: number, value: string | number) => layout.genes[gene].values.indexOf(value);
  const base = () => sampleMany(defaultSpace, 1, 13)[0];

  it('moves rram off nodes below 22 nm to the nearest offered node, and explains it', () => {
    const genome = base();
    genome[hw.device] = indexOf(hw.device, 'rram');
    genome[hw.techNode] = indexOf(hw.techNode, 14);
    genome[hw.bitsPerCell] = indexOf(hw.bitsPerCell, 2);
    expect(checkFeasible(defaultSpace, genome)).toEqual([
      'hardware.techNode: rram is not offered at 14 nm — NeuroSim refuses RRAM below 22 nm (DNN+NeuroSim V1.4 Technology.cpp)',
    ]);
    const result = repair(defaultSpace, genome);
    expect(result.changes).toEqual([
      'hardware.techNode 14 → 22: rram is not offered at 14 nm — NeuroSim refuses RRAM below 22 nm (DNN+NeuroSim V1.4 Technology.cpp)',
    ]);
    expect(result.unresolved).toEqual([]);
    expect(decode(defaultSpace, result.genome).hardware.techNode).toBe(22);
    expect(checkFeasible(defaultSpace, result.genome)).toEqual([]);
  });

  it('keeps single-level devices at 1 bit per cell', () => {
    const genome = base();
    genome[hw.device] = indexOf(hw.device, 'mram');
    genome[hw.bitsPerCell] = indexOf(hw.bitsPerCell, 4);
    const result = repair(defaultSpace, genome);
    expect(result.changes).toHaveLength(1);
    expect(result.changes[0]).toMatch(
      /^hardware\.bitsPerCell 4 → 1: mram cannot store 4 bits per cell — STT-MRAM/,
    );
    expect(decode(defaultSpace, result.genome).hardware.bitsPerCell).toBe(1);
  });

  it('lowers a supply voltage above the nominal VDD and shares an ADC among at most all columns', () => {
    const space = resolveSearchSpace({
      hardware: {
        devices: ['sram'],
        techNode: [22, 7],
        supplyVoltage: [0.7, 0.85],
        cols: [32, 64],
        colsPerAdc: [1, 64],
      },
    });
    const l = buildLayout(space);
    const genome = sampleMany(space, 1, 2)[0];
    genome[l.hardware.techNode] = l.genes[l.hardware.techNode].values.indexOf(7);
    genome[l.hardware.supplyVoltage!] = l.genes[l.hardware.supplyVoltage!].values.indexOf(0.85);
    genome[l.hardware.cols] = l.genes[l.hardware.cols].values.indexOf(32);
    genome[l.hardware.colsPerAdc] = l.genes[l.hardware.colsPerAdc].values.indexOf(64);
    expect(checkFeasible(space, genome)).toHaveLength(2);
    const result = repair(space, genome);
    expect(result.changes).toEqual([
      "hardware.supplyVoltage 0.85 → 0.7: 0.85 V exceeds the 7 nm node's nominal VDD 0.7 V (NeuroSim Technology.cpp)",
      'hardware.colsPerAdc 64 → 1: 64 columns cannot share one ADC in a 32-column array',
    ]);
    expect(checkFeasible(space, result.genome)).toEqual([]);
  });

  it('clamps out-of-range genes and canonicalizes genes a skip block ignores', () => {
    const rngLayout = buildLayout(richSpace);
    const genome = sampleMany(richSpace, 1, 6)[0];
    const slot = rngLayout.blockSlots[1];
    genome[slot.operatorGene] = slot.operators.indexOf('skip');
    genome[slot.widthGene] = 1;
    genome[rngLayout.hardware.adcBits] = 42;
    const result = repair(richSpace, genome);
    expect(result.changes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^hardware\.adcBits gene 42 → 5: outside 0\.\.5/),
        expect.stringMatching(/^stage0\.block1\.width 16 → 8: inactive \(its block is skip\)/),
      ]),
    );
    expect(isCanonical(richSpace, result.genome)).toBe(true);
  });

  it('raises the tile budget until the network fits, or rejects with a reason', () => {
    // The same networks and hardware as richSpace, with budgets around what its networks need.
    const withTiles = (tiles: number[]) =>
      resolveSearchSpace({ ...richSpaceInput, hardware: { ...richSpaceInput.hardware, tiles } });
    const tight = withTiles([8, 24, 64]);
    const l = buildLayout(tight);
    const genome = sampleMany(richSpace, 1, 17)[0];
    genome[l.hardware.tiles!] = l.genes[l.hardware.tiles!].values.indexOf(8);
    const candidate = decode(tight, genome);
    // The cost model's own count: hardware/validate.ts requiredTiles maps every layer with mapLayer.
    const need = requiredTiles(
      layerShapes(candidate.architecture, candidate.quantization),
      candidate.hardware,
    );
    expect(need.tiles).toBeGreaterThan(8);
    expect(need.tiles).toBeLessThanOrEqual(24);
    expect(checkFeasible(tight, genome)).toEqual([
      `hardware.tiles: the network needs ${need.arrays} arrays of ${candidate.hardware.rows}×${candidate.hardware.cols} in ${need.tiles} tiles of 64 arrays (a tile holds one layer), but the chip has 8`,
    ]);
    const fixed = repair(tight, genome);
    expect(fixed.changes).toEqual([expect.stringMatching(/^hardware\.tiles 8 → 24: the network needs/)]);
    expect(fixed.unresolved).toEqual([]);
    expect(checkFeasible(tight, fixed.genome)).toEqual([]);

    // A tile holds one layer, so a budget below the layer count can never fit.
    const hopeless = withTiles([1, 2]);
    const rejected = repair(hopeless, genome);
    expect(rejected.unresolved).toEqual([
      expect.stringMatching(/^hardware\.tiles: .*largest choice 2: reject this genome/),
    ]);
    expect(optimizerHooks(hopeless).repair(genome)).toBeNull();
  });

  it('keeps a flash ADC within its comparator limit', () => {
    const space = resolveSearchSpace({ hardware: { adcType: ['flash', 'sar'], adcBits: [6, 8, 10] } });
    const l = buildLayout(space);
    const genome = sampleMany(space, 1, 5)[0];
    genome[l.hardware.adcType] = l.genes[l.hardware.adcType].values.indexOf('flash');
    genome[l.hardware.adcBits] = l.genes[l.hardware.adcBits].values.indexOf(10);
    const why =
      'a flash ADC cannot have 10 bits — a flash ADC of N bits needs 2^N − 1 comparators: 255 at 8 bits is the practical limit (hardware/validate.ts HARDWARE_LIMITS)';
    expect(checkFeasible(space, genome)).toEqual([`hardware.adcBits: ${why}`]);
    expect(repair(space, genome).changes).toEqual([`hardware.adcBits 10 → 8: ${why}`]);
    // Only flash ADCs and only resolutions above their limit: refused before any work starts.
    expect(parseSearchSpace({ hardware: { adcType: ['flash'], adcBits: [10, 12] } })).toEqual({
      ok: false,
      problems: [
        expect.stringMatching(
          /^hardware\.adcBits: no ADC of hardware\.adcType \[flash\] can have any of \[10, 12\] bits/,
        ),
      ],
    });
  });

  it('follows the hardware library: a device a user adds governs sampling and repair', () => {
    const library = buildHardwareLibrary({
      devices: {
        'rram-mine': {
          extends: 'rram',
          minNode: 45,
          minNodeReason: 'our foundry offers it at 45 nm and above',
          maxBitsPerCell: 1,
          maxBitsPerCellWithoutVerify: 1,
        },
      },
    });
    const rules = hardwareRulesFor(library);
    const input = {
      hardware: { devices: ['rram-mine', 'sram'], techNode: [65, 45, 22], bitsPerCell: [1, 2] },
    };
    // The built-in library does not know the device: the space is refused, naming the field and the fix.
    expect(parseSearchSpace(input)).toEqual({
      ok: false,
      problems: [
        expect.stringMatching(
          /^hardware\.devices\[0\]: unknown device rram-mine: the hardware library has rram, /,
        ),
      ],
    });
    const space = resolveSearchSpace(input, rules);
    const l = buildLayout(space);
    const rng = new Rng(23);
    for (let i = 0; i < 200; i++) {
      const hardware = decode(space, sampleGenome(space, rng, rules)).hardware;
      expect(hardware.bitsPerCell).toBe(1);
      if (hardware.device === 'rram-mine') expect(hardware.techNode).toBeGreaterThanOrEqual(45);
    }
    const genome = sampleGenome(space, rng, rules);
    genome[l.hardware.device] = l.genes[l.hardware.device].values.indexOf('rram-mine');
    genome[l.hardware.techNode] = l.genes[l.hardware.techNode].values.indexOf(22);
    expect(checkFeasible(space, genome, rules)).toEqual([
      'hardware.techNode: rram-mine is not offered at 22 nm — our foundry offers it at 45 nm and above',
    ]);
    expect(repair(space, genome, rules).changes).toEqual([
      'hardware.techNode 22 → 45: rram-mine is not offered at 22 nm — our foundry offers it at 45 nm and above',
    ]);
    // The optimizer built on the same library proposes only what the library allows.
    const optimizer = createOptimizer(
      space,
      [{ metric: 'accuracy' }, { metric: 'edap' }],
      { algorithm: 'nsga2', population: 16, crossover: 'block' },
      3,
      library,
    );
    for (const proposal of optimizer.propose(16)) {
      expect(checkFeasible(space, proposal, rules)).toEqual([]);
    }
  });

  it('turns any integer vector into a feasible one', () => {
    for (const [, space] of spaces) {
      const l = buildLayout(space);
      const rng = new Rng(31);
      for (let i = 0; i < 300; i++) {
        const result = repair(space, randomVector(l, rng));
        if (result.unresolved.length > 0) continue; // capacity: rejected, with a reason
        expect(checkFeasible(space, result.genome)).toEqual([]);
        expect(isCanonical(space, result.genome)).toBe(true);
        // Repairing a repaired genome changes nothing.
        expect(repair(space, result.genome).changes).toEqual([]);
      }
    }
  });

  it('offers the optimizer hooks', () => {
    const hooks = optimizerHooks(defaultSpace);
    const rng = new Rng(3);
    const sampled = hooks.sample(() => rng.next());
    expect(checkFeasible(defaultSpace, sampled)).toEqual([]);
    const broken = [...sampled];
    broken[hw.device] = indexOf(hw.device, 'sram');
    broken[hw.bitsPerCell] = indexOf(hw.bitsPerCell, 4);
    expect(checkFeasible(defaultSpace, hooks.repair(broken)!)).toEqual([]);
  });
});
