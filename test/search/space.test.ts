import { Rng } from '../../common/rng';
import type { LayerShape } from '../../hardware/types';
import { createOptimizer, restoreOptimizer, saveOptimizer } from '../../search/evolution';
import {
  layerShapes,
  macsPerImage,
  validateArchitecture,
  type ArchitectureSpec,
  type OperatorName,
} from '../../search/architecture';
import {
  SearchSpaceSchema,
  arraysForLayer,
  buildLayout,
  canonicalize,
  checkFeasible,
  createDefaultHardwareRules,
  crossoverBlocks,
  decode,
  defaultHardwareRules,
  encode,
  formatIssues,
  genomeKey,
  isCanonical,
  largestNetworkGenome,
  optimizerGenes,
  optimizerHooks,
  parseGenomeKey,
  parseSearchSpace,
  repair,
  resolveSearchSpace,
  sampleGenome,
  spaceSize,
  summarizeCount,
  type Candidate,
  type Genome,
  type GenomeLayout,
  type SearchSpace,
} from '../../search/space';

const defaultSpace = resolveSearchSpace({});

/** Every option switched away from its default, to exercise the other branches of the layout. */
const richSpace = resolveSearchSpace({
  network: {
    stem: { channels: 8, kernel: 5, stride: 2 },
    stages: [
      { blocks: 3, widths: [24, 8, 16], stride: 1 },
      { blocks: 3, widths: [16, 32], stride: 2 },
      { blocks: 2, widths: [32, 64], stride: 2 },
    ],
    operators: ['conv3', 'conv7', 'dwsep3', 'dwsep5', 'mbconv3_e1', 'mbconv3_e6', 'mbconv5_e3', 'skip'],
    widthChoice: 'block',
    head: { channels: 128 },
  },
  quantization: { weightBits: [2, 4, 8], activationBits: [4, 8], granularity: 'layer' },
  hardware: { supplyVoltage: [0.6, 0.7, 0.8, 0.9, 1.0], tiles: [64, 256, 1024, 4096], rows: [64, 128, 256] },
});

const networkGranularitySpace = resolveSearchSpace({
  network: { stages: [{ blocks: 4, widths: [16, 32], stride: 2 }], operators: ['mbconv3_e3', 'skip'] },
  quantization: { granularity: 'network' },
  hardware: { crossbar: [64, 128], colsPerAdc: [1, 8, 128], devices: ['rram', 'rram-neurram', 'sram'] },
});

const spaces: Array<[string, SearchSpace]> = [
  ['default', defaultSpace],
  ['rich (per-block widths, per-layer bits, voltage, tiles)', richSpace],
  ['network bits, square arrays, presets', networkGranularitySpace],
];

function sampleMany(space: SearchSpace, count: number, seed: number): Genome[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => sampleGenome(space, rng));
}

/** A uniformly random integer vector (not necessarily feasible or canonical). */
function randomVector(layout: GenomeLayout, rng: Rng): Genome {
  return layout.cardinalities.map((cardinality) => rng.int(cardinality));
}

describe('SearchSpaceSchema', () => {
  it('fills defaults for everything and stays valid when its output is parsed again', () => {
    expect(defaultSpace.network.inputShape).toEqual([28, 28, 1]);
    expect(defaultSpace.network.numClasses).toBe(10);
    expect(defaultSpace.network.stages.length).toBeGreaterThan(0);
    expect(defaultSpace.quantization.granularity).toBe('stage');
    expect(defaultSpace.hardware.devices).toEqual(['rram', 'pcm', 'fefet', 'sram', 'mram']);
    expect(defaultSpace.hardware.rows).toEqual([32, 64, 128, 256, 512]);
    expect(defaultSpace.hardware.cols).toEqual([32, 64, 128, 256, 512]);
    expect(defaultSpace.hardware.techNode).toEqual([65, 45, 32, 22, 14, 7]);
    const again = SearchSpaceSchema.parse(JSON.parse(JSON.stringify(defaultSpace)));
    expect(again).toEqual(defaultSpace);
    // Defaults are fresh copies: changing one parsed space never changes the next.
    const first = resolveSearchSpace({});
    first.network.stages[0].widths.push(999);
    expect(resolveSearchSpace({}).network.stages[0].widths).not.toContain(999);
  });

  const badConfigs: Array<[string, unknown, RegExp]> = [
    [
      'an unknown key, listing the allowed ones',
      { hardware: { adcbits: [4] } },
      /^hardware: unknown key "adcbits": allowed keys are devices, .*adcBits/,
    ],
    [
      'a value outside a range',
      { hardware: { adcBits: [4, 16] } },
      /^hardware\.adcBits\[1\]: .*1 to 12.*got 16/,
    ],
    [
      'a crossbar size that is not a power of two',
      { hardware: { crossbar: [100] } },
      /^hardware\.crossbar\[0\]: .*power of two from 8 to 1024.*got 100/,
    ],
    [
      'an unknown operator',
      { network: { operators: ['conv3', 'conv9'] } },
      /^network\.operators\[1\]: unknown operator "conv9": choose from conv3/,
    ],
    [
      'a duplicate choice',
      { quantization: { weightBits: [4, 8, 4] } },
      /^quantization\.weightBits\[2\]: 4 is listed twice: remove the duplicate/,
    ],
    ['an empty list', { hardware: { dacBits: [] } }, /^hardware\.dacBits: give at least one/],
    [
      'crossbar together with rows',
      { hardware: { crossbar: [64], rows: [64] } },
      /^hardware\.crossbar: give either crossbar .* or rows and cols/,
    ],
    [
      'an unknown node',
      { hardware: { techNode: [28] } },
      /^hardware\.techNode\[0\]: technology node must be one of .*got 28/,
    ],
    [
      'an unknown device',
      { hardware: { devices: ['xram'] } },
      /^hardware\.devices\[0\]: unknown device "xram"/,
    ],
    [
      'only skip as operator',
      { network: { operators: ['skip'] } },
      /^network\.operators: add at least one operator other than skip/,
    ],
    [
      'a stage without blocks',
      { network: { stages: [{ blocks: 0, widths: [8] }] } },
      /^network\.stages\[0\]\.blocks: .*got 0/,
    ],
    [
      'columns per ADC wider than any array',
      { hardware: { cols: [64], colsPerAdc: [1, 128] } },
      /^hardware\.colsPerAdc\[1\]: 128 columns per ADC exceeds/,
    ],
    [
      'a granularity typo',
      { quantization: { granularity: 'block' } },
      /^quantization\.granularity: .*network, stage or layer/,
    ],
    [
      'a device without a feasible node (rules)',
      { hardware: { devices: ['rram'], techNode: [14, 7] } },
      /^hardware\.devices\[0\]: rram is offered at none of hardware\.techNode .*NeuroSim refuses RRAM below 22 nm: add one of/,
    ],
    [
      'a device without a feasible bits-per-cell value (rules)',
      { hardware: { devices: ['sram'], bitsPerCell: [2, 4] } },
      /^hardware\.devices\[0\]: sram supports none of hardware\.bitsPerCell/,
    ],
  ];
  it.each(badConfigs)('rejects %s, naming the field and the fix', (_label, input, expected) => {
    const result = parseSearchSpace(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.some((problem) => expected.test(problem))).toBe(true);
  });

  it('reports every problem at once, and zod issues carry the path', () => {
    const input = { network: { numClasses: 1 }, hardware: { adcBits: [0], extra: true } };
    const result = parseSearchSpace(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(3);
    const raw = SearchSpaceSchema.safeParse(input);
    expect(raw.success).toBe(false);
    if (!raw.success) {
      expect(raw.error.issues.map((issue) => issue.path.join('.'))).toEqual(
        expect.arrayContaining(['network.numClasses', 'hardware.adcBits.0', 'hardware']),
      );
      expect(formatIssues(raw.error.issues, 'space')[0]).toMatch(/^space\.(network|hardware)/);
    }
    expect(() => resolveSearchSpace(input)).toThrow(/network\.numClasses/);
  });
});

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

describe('encode / decode', () => {
  it.each(spaces)('round-trips sampled genomes exactly (%s)', (_label, space) => {
    const mismatches: string[] = [];
    for (const genome of sampleMany(space, 200, 11)) {
      const candidate = decode(space, genome);
      if (genomeKey(encode(space, candidate)) !== genomeKey(genome))
        mismatches.push(`encode ${genomeKey(genome)}`);
      // Through JSON too: the candidate is plain data that crosses activity boundaries.
      const json = JSON.stringify(candidate);
      if (JSON.stringify(decode(space, encode(space, JSON.parse(json) as Candidate))) !== json) {
        mismatches.push(`decode ${genomeKey(genome)}`);
      }
    }
    expect(mismatches).toEqual([]);
    const sample = sampleMany(space, 1, 12)[0];
    expect(decode(space, encode(space, decode(space, sample)))).toEqual(decode(space, sample));
  });

  it.each(spaces)('maps any integer vector to its canonical form (%s)', (_label, space) => {
    const layout = buildLayout(space);
    const rng = new Rng(5);
    const mismatches: string[] = [];
    for (let i = 0; i < 200; i++) {
      const genome = randomVector(layout, rng);
      const canonical = canonicalize(space, genome);
      const key = genomeKey(genome);
      if (genomeKey(encode(space, decode(space, genome))) !== genomeKey(canonical))
        mismatches.push(`encode ${key}`);
      if (JSON.stringify(decode(space, canonical)) !== JSON.stringify(decode(space, genome))) {
        mismatches.push(`decode ${key}`);
      }
      if (!isCanonical(space, canonical)) mismatches.push(`canonical ${key}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('rejects candidates that are not in the space, saying why', () => {
    const candidate = decode(defaultSpace, sampleMany(defaultSpace, 1, 3)[0]);
    const skipFirst = structuredClone(candidate);
    skipFirst.architecture.blocks[0] = {
      ...skipFirst.architecture.blocks[0],
      operator: 'skip',
      family: 'skip',
    };
    expect(() => encode(defaultSpace, skipFirst)).toThrow(/first block of a stage .* cannot be skipped/);
    const oddWidth = structuredClone(candidate);
    oddWidth.architecture.blocks[0].outChannels = 20;
    expect(() => encode(defaultSpace, oddWidth)).toThrow(/outChannels = 20 is not a choice of stage0\.width/);
    const oddDevice = structuredClone(candidate);
    oddDevice.hardware.device = 'rram-neurram';
    expect(() => encode(defaultSpace, oddDevice)).toThrow(/hardware\.device/);
    const extraKey = structuredClone(candidate);
    extraKey.hardware.tiles = 4;
    expect(() => encode(defaultSpace, extraKey)).toThrow(/candidate\.hardware\.tiles/);
  });

  it('rejects blocks of one stage with different widths when widths are per stage', () => {
    const layout = buildLayout(defaultSpace);
    const genome = sampleMany(defaultSpace, 1, 9)[0];
    genome[layout.blockSlots[1].operatorGene] = layout.blockSlots[1].operators.indexOf('conv3');
    const candidate = decode(defaultSpace, genome);
    const other = layout.blockSlots[1].widths.find(
      (width) => width !== candidate.architecture.blocks[1].outChannels,
    )!;
    candidate.architecture.blocks[1].outChannels = other;
    expect(() => encode(defaultSpace, candidate)).toThrow(/not in this space/);
  });

  it('refuses malformed genomes', () => {
    const layout = buildLayout(defaultSpace);
    expect(() => decode(defaultSpace, [0, 1])).toThrow(/genome has 2 genes, this space has/);
    const outOfRange = new Array<number>(layout.length).fill(0);
    outOfRange[layout.hardware.device] = 99;
    expect(() => decode(defaultSpace, outOfRange)).toThrow(/hardware\.device: gene value 99/);
  });
});

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

describe('layerShapes', () => {
  it('lists every weight layer with its shape for a known candidate', () => {
    const space = resolveSearchSpace({
      network: {
        stem: { channels: 8 },
        stages: [
          { blocks: 2, widths: [8], stride: 1 },
          { blocks: 2, widths: [16], stride: 2 },
        ],
        operators: ['conv3', 'dwsep5', 'mbconv3_e6', 'skip'],
        head: { channels: 32 },
      },
      quantization: { weightBits: [4, 8], activationBits: [6], granularity: 'stage' },
    });
    const layout = buildLayout(space);
    const genome = sampleMany(space, 1, 1)[0];
    const ops = ['mbconv3_e6', 'skip', 'dwsep5', 'conv3'];
    layout.blockSlots.forEach(
      (slot, i) => (genome[slot.operatorGene] = slot.operators.indexOf(ops[i] as OperatorName)),
    );
    const { architecture, quantization } = decode(space, genome);
    const shapes = layerShapes(architecture, quantization).map(
      (l) =>
        `${l.name} ${l.kind} ${l.inChannels}→${l.outChannels} k${l.kernelH} s${l.stride} ${l.outH}×${l.outW}`,
    );
    expect(shapes).toEqual([
      'stem conv 1→8 k3 s1 28×28',
      'stage0.block0.expand conv 8→48 k1 s1 28×28',
      'stage0.block0.depthwise depthwise 48→48 k3 s1 28×28',
      'stage0.block0.project conv 48→8 k1 s1 28×28',
      'stage1.block0.depthwise depthwise 8→8 k5 s2 14×14',
      'stage1.block0.pointwise conv 8→16 k1 s1 14×14',
      'stage1.block1.conv conv 16→16 k3 s1 14×14',
      'head.conv conv 16→32 k1 s1 14×14',
      'head.classifier dense 32→10 k1 s1 1×1',
    ]);
    expect(architecture.blocks[0].residual).toBe(true); // mbconv, stride 1, 8 → 8
    expect(architecture.blocks[1]).toMatchObject({
      operator: 'skip',
      inChannels: 8,
      outChannels: 8,
      stride: 1,
    });
    expect(quantization.blocks[1]).toBeNull();
  });
});

describe('genomeKey', () => {
  it('is compact and reversible', () => {
    expect(genomeKey([0, 1, 35, 10])).toBe('01za');
    expect(genomeKey([0, 36, 2])).toBe('.0.10.2');
    for (const genome of [[0, 1, 35, 10], [0, 36, 2], [], [400]])
      expect(parseGenomeKey(genomeKey(genome))).toEqual(genome);
    expect(() => parseGenomeKey('.0.-1')).toThrow(/invalid genome key/);
    expect(() => parseGenomeKey('0-')).toThrow(/invalid genome key/);
  });
});

function expectNear(count: number, draws: number, probability: number) {
  const sigma = Math.sqrt(draws * probability * (1 - probability));
  expect(Math.abs(count - draws * probability)).toBeLessThan(5 * sigma);
}

/** The channel chain and spatial sizes agree layer to layer ('same' padding, strides); empty when they do. */
function layerChainProblems(architecture: ArchitectureSpec, layers: LayerShape[]): string[] {
  const problems: string[] = [];
  const [height, width, channels] = architecture.inputShape;
  if (layers[0].name !== 'stem' || layers[0].inChannels !== channels)
    problems.push('the first layer is not the stem');
  let h = height;
  let w = width;
  layers.forEach((layer, i) => {
    if (i > 0 && layer.inChannels !== layers[i - 1].outChannels) {
      problems.push(`${layer.name}: inChannels ${layer.inChannels} ≠ ${layers[i - 1].name} outChannels`);
    }
    if (layer.kind === 'depthwise' && layer.inChannels !== layer.outChannels)
      problems.push(`${layer.name}: depthwise in ≠ out`);
    if (layer.kind === 'dense') {
      if (layer.outH !== 1 || layer.outW !== 1) problems.push(`${layer.name}: dense output is not 1×1`);
      return;
    }
    // Every conv applies its stride to the running size (an expand conv has stride 1: same resolution).
    if (layer.outH !== Math.ceil(h / layer.stride) || layer.outW !== Math.ceil(w / layer.stride)) {
      problems.push(
        `${layer.name}: output ${layer.outH}×${layer.outW} from ${h}×${w} with stride ${layer.stride}`,
      );
    }
    h = layer.outH;
    w = layer.outW;
  });
  const last = layers[layers.length - 1];
  if (last.name !== 'head.classifier' || last.outChannels !== architecture.head.numClasses) {
    problems.push('the last layer is not the classifier');
  }
  return problems;
}

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
});
