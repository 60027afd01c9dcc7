import { Rng } from '../../../common/rng';
import { canonicalize, decode, encode, isCanonical, type Candidate } from '../../../search/space/codec';
import { genomeKey } from '../../../search/space/keys';
import { buildLayout } from '../../../search/space/layout';
import { defaultSpace, spaces, sampleMany, randomVector } from './support';

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
