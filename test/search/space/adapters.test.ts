import { Rng } from '../../../common/rng';
import { createOptimizer, restoreOptimizer, saveOptimizer } from '../../../search/evolution';
import { layerShapes, macsPerImage } from '../../../search/architecture';
import { largestNetworkGenome, optimizerHooks } from '../../../search/space/adapters';
import { BaselineChipSchema } from '../../../search/baseline';
import { decode } from '../../../search/space/codec';
import { genomeKey } from '../../../search/space/keys';
import { buildLayout } from '../../../search/space/layout';
import { sampleGenome } from '../../../search/space/sampling';
import { richSpace } from './support';

describe('the largest-network anchor', () => {
  const macsOf = (genome: number[]) => {
    const { architecture, quantization } = decode(richSpace, genome);
    return macsPerImage(layerShapes(architecture, quantization));
  };

  it('has the most MACs and bits of any sampled network, and keeps the hardware genes it was given', () => {
    const rng = new Rng(21);
    const layout = buildLayout(richSpace);
    const from = sampleGenome(richSpace, rng);
    const anchor = largestNetworkGenome(richSpace, from);
    for (let i = 0; i < 200; i++)
      expect(macsOf(sampleGenome(richSpace, rng))).toBeLessThanOrEqual(macsOf(anchor));
    const decoded = decode(richSpace, anchor);
    expect(decoded.hardware).toEqual(decode(richSpace, from).hardware);
    for (const layer of layerShapes(decoded.architecture, decoded.quantization)) {
      expect(layer.weightBits).toBe(Math.max(...richSpace.quantization.weightBits));
    }
    expect(
      layout.blockSlots.every(
        (slot) => anchor[slot.widthGene] === layout.genes[slot.widthGene]!.cardinality - 1,
      ),
    ).toBe(true);
  });

  it('opens the first generation of NSGA-II and of random search, once', () => {
    for (const algorithm of ['nsga2', 'random'] as const) {
      const optimizer = createOptimizer(
        richSpace,
        [{ metric: 'accuracy' }, { metric: 'edap' }],
        { algorithm, population: 8, crossover: 'block' },
        5,
      );
      const [first, ...rest] = optimizer.propose(8);
      const hooks = optimizerHooks(richSpace);
      expect(hooks.repair(first!)).toEqual(first);
      expect(macsOf(first!)).toBe(Math.max(...[first!, ...rest].map(macsOf)));
      const restored = restoreOptimizer(richSpace, saveOptimizer(optimizer));
      expect(restored.propose(8).some((genome) => genomeKey(genome) === genomeKey(first!))).toBe(false);
    }
  });

  it("also opens on a baseline's chip when the space offers it, and skips one it does not", () => {
    const chip = BaselineChipSchema.parse({}); // RRAM 22 nm, 128×128, 6-bit SAR per 8 columns, 2 b/cell
    const optimizer = createOptimizer(
      richSpace,
      [{ metric: 'accuracy' }, { metric: 'edap' }],
      { algorithm: 'nsga2', population: 8, crossover: 'block' },
      5,
      undefined,
      [chip, { ...chip, adcBits: 11 }],
    );
    const [largest, onChip, third] = optimizer.propose(8);
    expect(macsOf(onChip!)).toBe(macsOf(largest!));
    expect(decode(richSpace, onChip!).hardware).toMatchObject({
      device: 'rram',
      techNode: 22,
      rows: 128,
      cols: 128,
      adcBits: 6,
      adcType: 'sar',
      colsPerAdc: 8,
      bitsPerCell: 2,
      dacBits: 1,
    });
    // The 11-bit ADC is not a choice of this space: no third anchor, a random draw instead.
    expect(macsOf(third!)).toBeLessThanOrEqual(macsOf(largest!));
    expect(decode(richSpace, third!).hardware.adcBits).not.toBe(11);
  });
});
