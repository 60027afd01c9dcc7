import { Rng } from '../../../common/rng';
import { layerShapes, validateArchitecture } from '../../../search/architecture';
import { decode, isCanonical } from '../../../search/space/codec';
import { checkFeasible } from '../../../search/space/feasibility';
import { genomeKey } from '../../../search/space/keys';
import { buildLayout } from '../../../search/space/layout';
import { resolveSearchSpace } from '../../../search/space/parse';
import { defaultHardwareRules } from '../../../search/space/rules';
import { sampleGenome, spaceSize, summarizeCount } from '../../../search/space/sampling';
import { defaultSpace, richSpace, spaces, sampleMany, expectNear, layerChainProblems } from './support';

describe('sampled genomes', () => {
  it.each(spaces)('are feasible, canonical, and decode to valid architectures (%s)', (_label, space) => {
    // Problems are collected and compared once: thousands of expect() calls would dominate the run time.
    const problems: string[] = [];
    for (const genome of sampleMany(space, 300, 21)) {
      const key = genomeKey(genome);
      problems.push(...checkFeasible(space, genome).map((problem) => `${key}: ${problem}`));
      if (!isCanonical(space, genome)) problems.push(`${key}: not canonical`);
      const { architecture, quantization, hardware } = decode(space, genome);
      problems.push(...validateArchitecture(architecture).map((problem) => `${key}: ${problem}`));
      const layers = layerShapes(architecture, quantization);
      problems.push(...layerChainProblems(architecture, layers).map((problem) => `${key}: ${problem}`));
      for (const layer of layers) {
        if (!space.quantization.weightBits.includes(layer.weightBits))
          problems.push(`${key}: ${layer.name} weight bits`);
        if (!space.quantization.activationBits.includes(layer.activationBits))
          problems.push(`${key}: ${layer.name} activation bits`);
      }
      // The rules of docs/sources.md §Devices, restated independently of the rules table.
      const family = hardware.device.split('-')[0];
      if (family === 'rram' && hardware.techNode < 22)
        problems.push(`${key}: rram at ${hardware.techNode} nm`);
      if ((family === 'sram' || family === 'mram') && hardware.bitsPerCell !== 1)
        problems.push(`${key}: ${family} with ${hardware.bitsPerCell} bits per cell`);
      if (hardware.colsPerAdc > hardware.cols) problems.push(`${key}: colsPerAdc > cols`);
      if (hardware.supplyVoltage !== undefined) {
        const nominal = defaultHardwareRules.maxSupplyVoltage!(hardware.techNode)!;
        if (hardware.supplyVoltage > nominal + 1e-9) problems.push(`${key}: ${hardware.supplyVoltage} V`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('is reproducible from the seed', () => {
    expect(sampleMany(richSpace, 20, 8)).toEqual(sampleMany(richSpace, 20, 8));
    expect(sampleMany(richSpace, 20, 8)).not.toEqual(sampleMany(richSpace, 20, 9));
  });

  it('stays feasible when NSGA-II swaps whole groups between feasible parents', () => {
    const layout = buildLayout(defaultSpace);
    const rng = new Rng(4);
    for (let i = 0; i < 200; i++) {
      const [a, b] = [sampleGenome(defaultSpace, rng), sampleGenome(defaultSpace, rng)];
      const child = [...a];
      for (const group of layout.groups)
        if (rng.next() < 0.5) for (const gene of group.genes) child[gene] = b[gene];
      expect(checkFeasible(defaultSpace, child)).toEqual([]);
      expect(isCanonical(defaultSpace, child)).toBe(true);
    }
  });

  it('is uniform over distinct feasible candidates, not over gene values', () => {
    const space = resolveSearchSpace({
      network: {
        stages: [{ blocks: 2, widths: [8, 16], stride: 1 }],
        operators: ['conv3', 'skip'],
        widthChoice: 'block',
      },
      quantization: { weightBits: [4, 8], activationBits: [4, 8], granularity: 'layer' },
      hardware: {
        devices: ['rram', 'sram'],
        crossbar: [32, 64],
        adcBits: [4],
        adcType: ['sar'],
        dacBits: [1],
      },
    });
    const layout = buildLayout(space);
    const slot = layout.blockSlots[1];
    const rng = new Rng(99);
    const draws = 9000;
    let skips = 0;
    const cells = new Map<string, number>();
    for (let i = 0; i < draws; i++) {
      const genome = sampleGenome(space, rng);
      if (layout.genes[slot.operatorGene].values[genome[slot.operatorGene]] === 'skip') skips++;
      const { device, techNode, bitsPerCell } = decode(space, genome).hardware;
      const cell = `${device}/${techNode}/${bitsPerCell}`;
      cells.set(cell, (cells.get(cell) ?? 0) + 1);
    }
    // Block 1 has conv3 × 2 widths × 4 bit pairs = 8 candidates, plus 1 for skip: P(skip) = 1/9, not 1/2.
    expectNear(skips, draws, 1 / 9);
    // rram: nodes {65,45,32,22} × bits {1,2,4} = 12; sram: 6 nodes × 1 bit = 6: each of the 18 cells 1/18.
    expect(cells.size).toBe(18);
    for (const count of cells.values()) expectNear(count, draws, 1 / 18);
  });
});

describe('space size', () => {
  it('counts exactly what brute-force enumeration finds', () => {
    const space = resolveSearchSpace({
      network: {
        stages: [{ blocks: 2, widths: [8, 16], stride: 1 }],
        operators: ['conv3', 'skip'],
        widthChoice: 'block',
      },
      quantization: { weightBits: [4, 8], activationBits: [4, 8], granularity: 'layer' },
      hardware: {
        devices: ['rram', 'sram'],
        crossbar: [32, 64],
        colsPerAdc: [1, 64],
        adcBits: [4],
        adcType: ['sar'],
        dacBits: [1],
        bitsPerCell: [1, 2],
        techNode: [22, 14],
        supplyVoltage: [0.8, 0.85],
      },
    });
    const layout = buildLayout(space);
    let vectors = 0;
    let feasibleCanonical = 0;
    const genome = new Array<number>(layout.length).fill(0);
    const visit = (gene: number) => {
      if (gene === layout.length) {
        vectors++;
        if (isCanonical(space, genome) && checkFeasible(space, genome).length === 0) feasibleCanonical++;
        return;
      }
      for (let value = 0; value < layout.cardinalities[gene]; value++) {
        genome[gene] = value;
        visit(gene + 1);
      }
    };
    visit(0);
    const size = spaceSize(space);
    expect(size.genomeVectors.count).toBe(String(vectors));
    expect(size.candidates.count).toBe(String(feasibleCanonical));
    // By hand: stem 4 × block0 (2 widths × 4 bit pairs) × block1 (8 + skip) × head 4 = 1152 networks;
    // cells: rram 22 nm × {1,2} bits × {0.8, 0.85} V = 4, sram 22 nm × 2 V + 14 nm × 0.8 V = 3 → 7;
    // arrays: 32 with 1 column per ADC, 64 with 1 or 64 → 3. 1152 × 7 × 3 = 24192.
    expect(feasibleCanonical).toBe(24192);
    expect(size.exact).toBe(true);
  });

  it('reports the default space size', () => {
    const size = spaceSize(defaultSpace);
    // Networks: stem 16 bit pairs × per stage (3 widths × 16 bit pairs × 4 first-block operators × 5) × head 16;
    // hardware: cells (rram 4 nodes × 3 + pcm, fefet 6 × 3 + sram, mram 6) = 60 × arrays 5 × 5 × 4 × ADC/DAC 6 × 2 × 3.
    const networks = 16 * (3 * 16 * 4 * 5) ** 2 * 16;
    const hardware = 60 * (5 * 5 * 4) * (6 * 2 * 3);
    expect(size.candidates.count).toBe(String(networks * hardware));
    expect(size.networkAndQuantization.count).toBe(String(networks));
    expect(size.hardware.count).toBe(String(hardware));
    expect(size.candidates.scientific).toBe('5.1×10^13');
    expect(size.candidates.log10).toBeCloseTo(Math.log10(networks * hardware), 9);
    expect(BigInt(size.genomeVectors.count)).toBeGreaterThan(BigInt(size.candidates.count));
    const rich = spaceSize(richSpace);
    expect(rich.exact).toBe(false);
    expect(rich.note).toMatch(/upper bound/);
  });

  it('formats large counts', () => {
    expect(summarizeCount(99n * 10n ** 84n).scientific).toBe('9.9×10^85');
    expect(summarizeCount(996n * 10n ** 10n).scientific).toBe('1.0×10^13');
    expect(summarizeCount(99n * 10n ** 84n).log10).toBeCloseTo(85.9956, 4);
    expect(summarizeCount(7n)).toEqual({ count: '7', log10: Math.log10(7), scientific: '7.0×10^0' });
  });
});
