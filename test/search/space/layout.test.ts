import { crossoverBlocks, optimizerGenes } from '../../../search/space/adapters';
import { buildLayout } from '../../../search/space/layout';
import { defaultSpace, richSpace, networkGranularitySpace, spaces } from './support';

describe('genome layout', () => {
  it.each(spaces)('describes a fixed-length vector with contiguous groups (%s)', (_label, space) => {
    const layout = buildLayout(space);
    expect(layout.length).toBe(layout.genes.length);
    expect(layout.cardinalities).toEqual(layout.genes.map((gene) => gene.values.length));
    expect(new Set(layout.genes.map((gene) => gene.name)).size).toBe(layout.length);
    // Groups partition the genes in order, so NSGA-II's per-block crossover can swap whole groups.
    expect(layout.groups.flatMap((group) => group.genes)).toEqual(layout.genes.map((gene) => gene.index));
    layout.genes.forEach((gene) => expect(layout.groups[gene.group].genes).toContain(gene.index));
    for (const gene of layout.genes) {
      if (gene.ordinal)
        expect([...(gene.values as number[])]).toEqual([...(gene.values as number[])].sort((a, b) => a - b));
    }
    const blocks = space.network.stages.reduce((sum, stage) => sum + stage.blocks, 0);
    expect(layout.blockSlots).toHaveLength(blocks);
    for (const slot of layout.blockSlots) {
      // The first block of a stage sets its stride and width: skip is never one of its choices.
      expect(slot.operators.includes('skip')).toBe(
        slot.indexInStage > 0 && space.network.operators.includes('skip'),
      );
      expect(layout.genes[slot.operatorGene].values).toEqual(slot.operators);
      expect(slot.stride).toBe(slot.indexInStage === 0 ? space.network.stages[slot.stage].stride : 1);
    }
    expect(crossoverBlocks(layout).every((block) => block.length > 1)).toBe(true);
    const genes = optimizerGenes(layout);
    expect(genes.map((gene) => gene.kind === 'ordinal')).toEqual(layout.genes.map((gene) => gene.ordinal));
    expect(genes[layout.hardware.device].kind).toBe('categorical');
    expect(genes[layout.hardware.techNode].kind).toBe('ordinal');
  });

  it('uses one size gene for square arrays and separate genes otherwise', () => {
    const square = buildLayout(networkGranularitySpace).hardware;
    expect(square.squareArrays).toBe(true);
    expect(square.rows).toBe(square.cols);
    const rect = buildLayout(defaultSpace).hardware;
    expect(rect.rows).not.toBe(rect.cols);
    expect(buildLayout(defaultSpace).hardware.supplyVoltage).toBeNull();
    expect(buildLayout(richSpace).hardware.tiles).not.toBeNull();
  });
});
