import { genomeKey, parseGenomeKey } from '../../../search/space/keys';

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
