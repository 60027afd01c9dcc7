import { Rng } from '../../../common/rng';
import { layerShapes } from '../../../search/architecture';
import { optimizerHooks } from '../../../search/space/adapters';
import { decode, isCanonical } from '../../../search/space/codec';
import { checkFeasible, repair } from '../../../search/space/feasibility';
import { buildLayout } from '../../../search/space/layout';
import { resolveSearchSpace } from '../../../search/space/parse';
import { arraysForLayer, createDefaultHardwareRules } from '../../../search/space/rules';
import { defaultSpace, richSpace, spaces, sampleMany, randomVector } from './support';

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
      'hardware.techNode: rram is not offered at 14 nm — NeuroSim refuses RRAM below 22 nm',
    ]);
    const result = repair(defaultSpace, genome);
    expect(result.changes).toEqual([
      'hardware.techNode 14 → 22: rram is not offered at 14 nm — NeuroSim refuses RRAM below 22 nm',
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
    const l = buildLayout(richSpace);
    const genome = sampleMany(richSpace, 1, 17)[0];
    genome[l.hardware.tiles!] = l.genes[l.hardware.tiles!].values.indexOf(64);
    const candidate = decode(richSpace, genome);
    const arrays = layerShapes(candidate.architecture, candidate.quantization).reduce(
      (sum, layer) => sum + arraysForLayer(layer, candidate.hardware),
      0,
    );
    // Tiles this small make the network need ~100 of them: more than 64, fewer than 256.
    const smallTiles = createDefaultHardwareRules({ arraysPerTile: arrays / 99.5 });
    expect(checkFeasible(richSpace, genome, smallTiles)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^hardware\\.tiles: the network needs ${arrays} arrays .* = 100 tiles.*but the chip has 64`,
        ),
      ),
    ]);
    const fixed = repair(richSpace, genome, smallTiles);
    expect(fixed.changes).toEqual([expect.stringMatching(/^hardware\.tiles 64 → 256: the network needs/)]);
    expect(fixed.unresolved).toEqual([]);
    expect(checkFeasible(richSpace, fixed.genome, smallTiles)).toEqual([]);

    const hopeless = createDefaultHardwareRules({ arraysPerTile: arrays / 5000 });
    const rejected = repair(richSpace, genome, hopeless);
    expect(rejected.unresolved).toEqual([
      expect.stringMatching(/^hardware\.tiles: .*largest choice 4096: reject this genome/),
    ]);
    expect(optimizerHooks(richSpace, hopeless).repair(genome)).toBeNull();
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
