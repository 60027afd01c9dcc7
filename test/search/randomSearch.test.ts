import { RandomSearch } from '../../search/randomSearch';
import type { RandomSearchOptions } from '../../search/randomSearch';
import { runToBudget } from '../../search/optimizer';
import type { Evaluation, GeneSpec, Genome } from '../../search/optimizer';

const genes: GeneSpec[] = [
  { kind: 'categorical', cardinality: 5 },
  { kind: 'ordinal', cardinality: 4 },
  { kind: 'categorical', cardinality: 3 },
]; // 60 genomes
const options = (seed: number): RandomSearchOptions => ({
  genes,
  objectives: [
    { name: 'a', goal: 'min' },
    { name: 'b', goal: 'max' },
  ],
  seed,
});
const evaluate = (g: Genome): Evaluation => ({
  objectives: [g[0] + g[1], g[2] * g[1]],
  constraintViolation: 0,
});

describe('RandomSearch', () => {
  it('is deterministic per seed', () => {
    const draw = (seed: number): Genome[] => new RandomSearch(options(seed)).propose(20);
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });

  it('never proposes a genome twice and stops at exhaustion', () => {
    const search = new RandomSearch(options(1));
    runToBudget(search, evaluate, 1000, 7);
    expect(search.evaluations).toBe(60);
    const keys = new Set(search.allEvaluated().map((c) => c.key));
    expect(keys.size).toBe(60);
    expect(search.propose(5)).toEqual([]);
  });

  it('reports the non-dominated feasible candidates', () => {
    const search = new RandomSearch(options(2));
    runToBudget(search, evaluate, 60, 60);
    const front = search.paretoFront();
    // Exhaustive: a = 0 needs g0 = g1 = 0, so b = 0; the front trades a = g0 + g1 against b = g2·g1.
    for (const candidate of front) {
      for (const other of search.allEvaluated()) {
        const better =
          other.objectives[0] <= candidate.objectives[0] && other.objectives[1] >= candidate.objectives[1];
        const strictly =
          other.objectives[0] < candidate.objectives[0] || other.objectives[1] > candidate.objectives[1];
        expect(better && strictly).toBe(false);
      }
    }
    expect(front.some((c) => c.objectives[0] === 0)).toBe(true);
    expect(front.some((c) => c.objectives[1] === 6)).toBe(true);
  });

  it('applies the repair hook', () => {
    const search = new RandomSearch(options(5), { repair: (g) => (g[0] === 4 ? null : g) });
    for (const genome of search.propose(40)) expect(genome[0]).not.toBe(4);
  });

  it('a JSON round trip mid-run continues identically', () => {
    const original = new RandomSearch(options(9));
    runToBudget(original, evaluate, 20, 5);
    const pending = original.propose(5);
    const restored = RandomSearch.fromJSON(JSON.parse(JSON.stringify(original.toJSON())));
    expect(restored.toJSON()).toEqual(original.toJSON());
    expect(restored.pending).toBe(5);
    for (const search of [original, restored])
      search.tell(pending.map((genome) => ({ genome, ...evaluate(genome) })));
    expect(restored.propose(10)).toEqual(original.propose(10));
    expect(restored.toJSON()).toEqual(original.toJSON());
  });
});
