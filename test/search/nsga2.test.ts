import { Rng } from '../../common/rng';
import { boundsOf, hypervolume, logScaleObjectives, normalizedHypervolume } from '../../search/hypervolume';
import {
  constrainedDominates,
  crowdingDistances,
  fastNonDominatedSort,
  selectSurvivors,
  type RankedInput,
} from '../../search/nondominatedSorting';
import { Nsga2, type Nsga2Options, type Nsga2State } from '../../search/nsga2';
import {
  dominanceCrowdingWinner,
  nextCompetitors,
  polynomialMutation,
  rankCrowdingWinner,
  sbxPair,
  type TournamentEntrant,
} from '../../search/nsga2Operators';
import {
  OBJECTIVE_METRICS,
  constraintViolation,
  objectiveVector,
  objectivesFor,
  runToBudget,
} from '../../search/optimizer';
import { hardwareProblem } from '../../search/problems/hardwareProxy';
import type { Evaluation, GeneSpec, Genome } from '../../search/optimizer';
import { ZDT1_TRUE_HYPERVOLUME, zdt1, zdt3, zdt3PiecesReached } from '../../search/problems/zdt';

const feasible = (...objectives: number[]): RankedInput => ({ objectives, violation: 0 });

describe('fast non-dominated sorting (hand-computed)', () => {
  it('peels fronts off a small 2-objective set', () => {
    // A(1,5) B(2,3) C(4,1) are mutually non-dominated; D(3,4) is dominated by B, F(2,6) by A;
    // E(5,5) is dominated by D (and A, B), so it sits behind D.
    const items = [
      feasible(1, 5),
      feasible(2, 3),
      feasible(4, 1),
      feasible(3, 4),
      feasible(5, 5),
      feasible(2, 6),
    ];
    expect(fastNonDominatedSort(items)).toEqual([[0, 1, 2], [3, 5], [4]]);
  });

  it('puts identical points in the same front', () => {
    expect(fastNonDominatedSort([feasible(1, 1), feasible(1, 1), feasible(2, 2)])).toEqual([[0, 1], [2]]);
  });

  it('ranks by constraint domination: feasible first, then by increasing violation', () => {
    const items: RankedInput[] = [
      { objectives: [0, 0], violation: 0.5 }, // best objectives, but infeasible
      feasible(3, 3),
      { objectives: [0, 0], violation: 0.1 },
      feasible(1, 4),
      { objectives: [9, 9], violation: 0.1 },
    ];
    expect(fastNonDominatedSort(items)).toEqual([[1, 3], [2, 4], [0]]);
    expect(constrainedDominates(items[1], items[0])).toBe(true);
    expect(constrainedDominates(items[2], items[0])).toBe(true);
    expect(constrainedDominates(items[2], items[4])).toBe(false); // equal violation: neither dominates
  });
});

describe('crowding distance (hand-computed)', () => {
  it('sums normalized neighbour gaps, extremes infinite', () => {
    // f1 range 6, f2 range 10. P2: (3−0)/6 + (10−3)/10 = 1.2; P3: (6−1)/6 + (6−0)/10 = 1.4333…
    const front = [feasible(0, 10), feasible(1, 6), feasible(3, 3), feasible(6, 0)];
    const distances = crowdingDistances(front);
    expect(distances[0]).toBe(Infinity);
    expect(distances[3]).toBe(Infinity);
    expect(distances[1]).toBeCloseTo(1.2, 12);
    expect(distances[2]).toBeCloseTo(5 / 6 + 0.6, 12);
  });

  it('handles tiny fronts, constant objectives and unmeasured (NaN) objectives', () => {
    expect(crowdingDistances([feasible(1, 2)])).toEqual([Infinity]);
    expect(crowdingDistances([feasible(1, 2), feasible(2, 1)])).toEqual([Infinity, Infinity]);
    const constantSecond = crowdingDistances([feasible(0, 5), feasible(1, 5), feasible(4, 5)]);
    expect(constantSecond[1]).toBeCloseTo(4 / 4, 12);
    const unmeasured = crowdingDistances([
      { objectives: [NaN, NaN], violation: 1 },
      { objectives: [NaN, NaN], violation: 1 },
    ]);
    expect(unmeasured).toEqual([0, 0]);
  });
});

describe('elitist survival', () => {
  it('keeps whole fronts, then the least crowded of the last front', () => {
    const items = [
      feasible(0, 10), // front 1
      feasible(10, 0), // front 1
      feasible(5, 5), // front 1
      feasible(1, 11), // front 2, extreme
      feasible(6, 6), // front 2, interior and crowded
      feasible(6.5, 5.9), // front 2, interior
      feasible(11, 1), // front 2, extreme
    ];
    // Front 1 (3) + the two extremes of front 2 (infinite distance).
    expect(selectSurvivors(items, 5).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 6]);
    expect(selectSurvivors(items, 3)).toEqual([0, 1, 2]);
  });
});

describe('variation operators on real genes', () => {
  it('SBX and polynomial mutation stay within bounds and keep the parents’ mean', () => {
    const rng = new Rng(3);
    const random = (): number => rng.next();
    for (let i = 0; i < 500; i++) {
      const a = rng.next();
      const b = rng.next();
      const [c, d] = sbxPair(a, b, 0, 1, 20, random);
      for (const child of [c, d]) {
        expect(child).toBeGreaterThanOrEqual(0);
        expect(child).toBeLessThanOrEqual(1);
      }
      // Far from the bounds, SBX children are symmetric about the parents' mean (near a bound the
      // bounded form narrows the spread on that side only).
      const [e, f] = sbxPair(a, b, -1000, 1000, 20, random);
      expect(e + f).toBeCloseTo(a + b, 9);
      const mutated = polynomialMutation(a, 0, 1, 20, random);
      expect(mutated).toBeGreaterThanOrEqual(0);
      expect(mutated).toBeLessThanOrEqual(1);
    }
    expect(sbxPair(0.3, 0.3, 0, 1, 20, random)).toEqual([0.3, 0.3]);
  });
});

describe('binary tournaments (hand-computed)', () => {
  const entrant = (objectives: number[], violation: number, crowding: number): TournamentEntrant => ({
    objectives,
    violation,
    crowding,
  });
  /** A tie-break source that fails the test if it is consulted. */
  const noDraw = (): number => {
    throw new Error('tie-break drawn for a decided tournament');
  };

  it('dominance-crowding: a feasible entrant beats an infeasible one, of two infeasible the smaller violation wins', () => {
    const feasibleWorse = entrant([9, 9], 0, 0);
    const infeasibleBetter = entrant([0, 0], 0.1, Infinity);
    expect(dominanceCrowdingWinner(feasibleWorse, infeasibleBetter, noDraw)).toBe(0);
    expect(dominanceCrowdingWinner(infeasibleBetter, feasibleWorse, noDraw)).toBe(1);
    expect(dominanceCrowdingWinner(entrant([0, 0], 0.5, 9), entrant([9, 9], 0.2, 0), noDraw)).toBe(1);
    // Equal violation: objectives and crowding are not consulted, the coin decides.
    const a = entrant([0, 0], 0.3, Infinity);
    const b = entrant([9, 9], 0.3, 0);
    expect(dominanceCrowdingWinner(a, b, () => 0.2)).toBe(0);
    expect(dominanceCrowdingWinner(a, b, () => 0.7)).toBe(1);
  });

  it('dominance-crowding: Pareto dominance beats crowding, crowding decides between non-dominated entrants', () => {
    // The dominated entrant is an extreme of its front (infinite crowding) and still loses.
    expect(dominanceCrowdingWinner(entrant([1, 1], 0, 0.1), entrant([2, 1], 0, Infinity), noDraw)).toBe(0);
    expect(dominanceCrowdingWinner(entrant([2, 2], 0, Infinity), entrant([1, 2], 0, 0), noDraw)).toBe(1);
    // Mutually non-dominated: the less crowded wins, whatever front either came from (rank is not an input;
    // [1, 5] and [5, 1] can sit in different fronts of a population).
    expect(dominanceCrowdingWinner(entrant([1, 5], 0, 0.4), entrant([5, 1], 0, 0.9), noDraw)).toBe(1);
    expect(dominanceCrowdingWinner(entrant([1, 5], 0, Infinity), entrant([5, 1], 0, 0.9), noDraw)).toBe(0);
    // Equal objectives dominate neither way; equal crowding too: the coin decides.
    expect(dominanceCrowdingWinner(entrant([1, 1], 0, 2), entrant([1, 1], 0, 2), () => 0.49)).toBe(0);
    expect(dominanceCrowdingWinner(entrant([1, 1], 0, 2), entrant([1, 1], 0, 2), () => 0.5)).toBe(1);
  });

  it('rank-crowding: lower rank first, then larger crowding, then the coin', () => {
    expect(rankCrowdingWinner({ rank: 1, crowding: Infinity }, { rank: 0, crowding: 0 }, noDraw)).toBe(1);
    expect(rankCrowdingWinner({ rank: 2, crowding: 3 }, { rank: 2, crowding: 1 }, noDraw)).toBe(0);
    expect(rankCrowdingWinner({ rank: 2, crowding: 1 }, { rank: 2, crowding: 1 }, () => 0.9)).toBe(1);
  });

  it('permutation draws: every index competes exactly once per permutation, twice in 2·size draws', () => {
    for (const size of [2, 10, 100]) {
      const rng = new Rng(size);
      const pool: number[] = [];
      const counts = new Array<number>(size).fill(0);
      for (let round = 0; round < 2; round++) {
        const seenThisRound = new Array<number>(size).fill(0);
        for (let pair = 0; pair < size / 2; pair++) {
          const [a, b] = nextCompetitors(pool, size, rng);
          expect(a).not.toBe(b);
          for (const index of [a, b]) {
            counts[index]++;
            seenThisRound[index]++;
          }
        }
        expect(seenThisRound).toEqual(new Array<number>(size).fill(1));
        expect(pool).toHaveLength(0);
      }
      expect(counts).toEqual(new Array<number>(size).fill(2));
    }
  });

  it('permutation draws with an odd population carry the leftover index into the next permutation', () => {
    const rng = new Rng(7);
    const pool: number[] = [];
    const counts = new Array<number>(5).fill(0);
    // 10 draws = exactly two permutations of 5, whatever the pairing across the boundary.
    for (let pair = 0; pair < 5; pair++) for (const index of nextCompetitors(pool, 5, rng)) counts[index]++;
    expect(counts).toEqual([2, 2, 2, 2, 2]);
    expect(pool).toHaveLength(0);
  });
});

/** Runs one ask/tell generation: propose a population's worth, evaluate, tell. */
function step(optimizer: Nsga2, evaluate: (genome: Genome) => Evaluation, count: number): Genome[] {
  const genomes = optimizer.propose(count);
  optimizer.tell(genomes.map((genome) => ({ genome, ...evaluate(genome) })));
  return genomes;
}

describe('NSGA-II on ZDT1 (acceptance)', () => {
  it('30 variables, population 100 × 200 generations: hypervolume ≥ 0.865 w.r.t. (1.1, 1.1)', () => {
    const problem = zdt1(30);
    const optimizer = new Nsga2({
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 100,
      seed: 1,
    });
    runToBudget(optimizer, (genome) => problem.evaluate(genome), 100 * 200, 100);
    expect(optimizer.evaluations).toBe(20000);
    expect(optimizer.generation).toBe(200);
    const firstFront = optimizer
      .population()
      .filter((member) => member.rank === 0)
      .map((member) => member.objectives);
    const value = hypervolume(firstFront, [1.1, 1.1]);
    expect(value).toBeGreaterThanOrEqual(0.865);
    expect(value).toBeLessThan(ZDT1_TRUE_HYPERVOLUME);
    // The archive of everything evaluated can only be better than the final population.
    const archive = hypervolume(
      optimizer.paretoFront().map((candidate) => candidate.objectives),
      [1.1, 1.1],
    );
    expect(archive).toBeGreaterThanOrEqual(value);
  });
});

/** A small mixed categorical problem with a constraint: 8 ordinal genes of 6 values and 2 categorical ones. */
const mixedGenes: GeneSpec[] = [
  ...Array.from({ length: 8 }, (_, i): GeneSpec => ({ kind: 'ordinal', cardinality: 6, name: `o${i}` })),
  { kind: 'categorical', cardinality: 4, name: 'c0' },
  { kind: 'categorical', cardinality: 3, name: 'c1' },
];
/** Two conflicting objectives (one maximized) and a budget on the sum of the ordinal genes. */
function evaluateMixed(genome: Genome): Evaluation {
  const sum = genome.slice(0, 8).reduce((a, b) => a + b, 0);
  const bonus = genome[8] === 2 ? 3 : 0;
  const quality = sum + bonus + (genome[9] === 1 ? 1 : 0); // maximize
  const cost = (genome[0] + 1) * (genome[1] + 1) + genome.slice(2, 8).reduce((a, b) => a + b * b, 0); // minimize
  return { objectives: [quality, cost], constraintViolation: Math.max(0, sum - 16) / 16 };
}
const mixedOptions = (seed: number, extra: Partial<Nsga2Options> = {}): Nsga2Options => ({
  genes: mixedGenes,
  objectives: [
    { name: 'quality', goal: 'max' },
    { name: 'cost', goal: 'min' },
  ],
  populationSize: 12,
  seed,
  blocks: [
    [0, 1],
    [2, 3, 4, 5, 6, 7],
    [8, 9],
  ],
  ...extra,
});

describe('NSGA-II ask/tell behaviour', () => {
  it('is deterministic: same seed, same proposals; another seed, others', () => {
    const run = (seed: number): Genome[][] => {
      const optimizer = new Nsga2(mixedOptions(seed));
      return Array.from({ length: 6 }, () => step(optimizer, evaluateMixed, 12));
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('never proposes a genome twice, and stops when the space is exhausted', () => {
    const genes: GeneSpec[] = [
      { kind: 'categorical', cardinality: 3 },
      { kind: 'ordinal', cardinality: 3 },
      { kind: 'categorical', cardinality: 2 },
    ]; // 18 genomes
    const optimizer = new Nsga2({
      genes,
      objectives: [
        { name: 'a', goal: 'min' },
        { name: 'b', goal: 'max' },
      ],
      populationSize: 4,
      seed: 2,
    });
    const seen = new Set<string>();
    for (let generation = 0; generation < 10; generation++) {
      for (const genome of step(
        optimizer,
        (g) => ({ objectives: [g[0] + g[1], g[2] - g[1]], constraintViolation: 0 }),
        4,
      )) {
        const key = genome.join(',');
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
    }
    expect(seen.size).toBe(18);
    expect(optimizer.evaluations).toBe(18);
    expect(optimizer.propose(4)).toEqual([]);
  });

  it('ignores a repeated result and accepts results for genomes it never proposed', () => {
    const optimizer = new Nsga2(mixedOptions(1));
    const [first] = optimizer.propose(1);
    optimizer.tell([{ genome: first, ...evaluateMixed(first) }]);
    optimizer.tell([{ genome: first, ...evaluateMixed(first) }]);
    expect(optimizer.evaluations).toBe(1);
    const external = mixedGenes.map(() => 0);
    optimizer.tell([{ genome: external, ...evaluateMixed(external) }]);
    expect(optimizer.evaluations).toBe(2);
    // Neither is proposed again.
    const keys = new Set(optimizer.propose(200).map((g) => g.join(',')));
    expect(keys.has(first.join(','))).toBe(false);
    expect(keys.has(external.join(','))).toBe(false);
  });

  it('completes a generation after populationSize results, whatever order they arrive in', () => {
    const inOrder = new Nsga2(mixedOptions(9));
    const shuffled = new Nsga2(mixedOptions(9));
    const shuffler = new Rng(4);
    for (let generation = 0; generation < 5; generation++) {
      const a = inOrder.propose(12);
      const b = shuffled.propose(12);
      expect(b).toEqual(a);
      expect(inOrder.remainingInGeneration).toBe(0);
      inOrder.tell(a.map((genome) => ({ genome, ...evaluateMixed(genome) })));
      shuffled.tell(shuffler.shuffle(b.map((genome) => ({ genome, ...evaluateMixed(genome) }))));
      expect(inOrder.generation).toBe(generation + 1);
    }
    expect(shuffled.toJSON()).toEqual(inOrder.toJSON());
  });

  it('treats a maximized objective as its negation minimized', () => {
    const problem = zdt1(6);
    const minimized = new Nsga2({
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 10,
      seed: 3,
    });
    const maximized = new Nsga2({
      genes: problem.genes,
      objectives: [
        { name: 'f1', goal: 'min' },
        { name: 'minus f2', goal: 'max' },
      ],
      populationSize: 10,
      seed: 3,
    });
    for (let generation = 0; generation < 8; generation++) {
      const a = step(minimized, (g) => problem.evaluate(g), 10);
      const b = step(
        maximized,
        (g) => {
          const { objectives } = problem.evaluate(g);
          return { objectives: [objectives[0], -objectives[1]], constraintViolation: 0 };
        },
        10,
      );
      expect(b).toEqual(a);
    }
  });

  it('drives the population into the feasible region and keeps it there', () => {
    const optimizer = new Nsga2(mixedOptions(11));
    runToBudget(optimizer, evaluateMixed, 12 * 25, 12);
    for (const member of optimizer.population()) expect(member.constraintViolation).toBe(0);
    expect(optimizer.paretoFront().length).toBeGreaterThan(0);
    for (const candidate of optimizer.paretoFront()) expect(candidate.constraintViolation).toBe(0);
  });

  it('applies the repair hook to every proposal and redraws when it rejects', () => {
    // Repair: gene 9 may not be 2 (rejected), and gene 0 ≤ 3 (clamped).
    const repair = (genome: Genome): Genome | null =>
      genome[9] === 2 ? null : genome.map((value, i) => (i === 0 ? Math.min(value, 3) : value));
    const optimizer = new Nsga2(mixedOptions(12), { repair });
    for (let generation = 0; generation < 10; generation++) {
      for (const genome of step(optimizer, evaluateMixed, 12)) {
        expect(genome[9]).not.toBe(2);
        expect(genome[0]).toBeLessThanOrEqual(3);
      }
    }
  });

  it('per-block crossover moves whole blocks between parents', () => {
    const optimizer = new Nsga2(
      mixedOptions(13, { populationSize: 2, crossover: 'block', mutationRate: 0, crossoverProbability: 1 }),
    );
    // Two parents that differ in every gene.
    const parentA = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const parentB = [5, 5, 5, 5, 5, 5, 5, 5, 3, 2];
    // Feasible and mutually non-dominated (B better quality, A cheaper), so every tournament is a tie broken
    // at random and both parents breed; under evaluateMixed B would be infeasible and lose every tournament.
    optimizer.tell([
      { genome: parentA, objectives: [0, 1], constraintViolation: 0 },
      { genome: parentB, objectives: [40, 100], constraintViolation: 0 },
    ]);
    expect(optimizer.generation).toBe(1);
    const blocks = mixedOptions(0).blocks ?? [];
    // 3 blocks → 2³ − 2 = 6 recombinations that differ from both parents.
    const children = optimizer.propose(6);
    expect(children).toHaveLength(6);
    for (const child of children) {
      for (const block of blocks) {
        const fromA = block.every((i) => child[i] === parentA[i]);
        const fromB = block.every((i) => child[i] === parentB[i]);
        expect(fromA || fromB).toBe(true);
      }
    }
  });

  it('uniform crossover mixes genes inside blocks', () => {
    const optimizer = new Nsga2(
      mixedOptions(13, { populationSize: 2, crossover: 'uniform', mutationRate: 0, crossoverProbability: 1 }),
    );
    const parentA = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const parentB = [5, 5, 5, 5, 5, 5, 5, 5, 3, 2];
    // Feasible and mutually non-dominated (B better quality, A cheaper), so every tournament is a tie broken
    // at random and both parents breed; under evaluateMixed B would be infeasible and lose every tournament.
    optimizer.tell([
      { genome: parentA, objectives: [0, 1], constraintViolation: 0 },
      { genome: parentB, objectives: [40, 100], constraintViolation: 0 },
    ]);
    const children = optimizer.propose(20);
    const splitsABlock = children.some((child) => child[2] !== child[3] || child[0] !== child[1]);
    expect(splitsABlock).toBe(true);
    for (const child of children)
      child.forEach((value, i) => expect([parentA[i], parentB[i]]).toContain(value));
  });

  it('mutation only produces values inside each gene’s range, and steps ordinal genes to a neighbour', () => {
    const optimizer = new Nsga2(
      mixedOptions(14, {
        mutationRate: 1,
        crossoverProbability: 0,
        populationSize: 4,
        ordinalStepProbability: 1,
      }),
    );
    const parent = [3, 3, 3, 3, 3, 3, 3, 3, 1, 1];
    const others = [
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [5, 5, 5, 5, 5, 5, 5, 5, 3, 2],
      [1, 2, 3, 4, 5, 0, 1, 2, 3, 0],
    ];
    // Same objectives for all: every member ties, tournaments pick at random.
    optimizer.tell(
      [parent, ...others].map((genome) => ({ genome, objectives: [1, 1], constraintViolation: 0 })),
    );
    for (const child of optimizer.propose(40)) {
      child.forEach((value, i) => {
        const gene = mixedGenes[i];
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
        if (gene.kind !== 'real') expect(value).toBeLessThan(gene.cardinality);
      });
      // Every gene mutated: ordinal genes one step from the parent, categorical genes to another value.
      const fromSomeParent = [parent, ...others].some((p) =>
        child.every((value, i) => (i < 8 ? Math.abs(value - p[i]) === 1 : value !== p[i])),
      );
      expect(fromSomeParent).toBe(true);
    }
  });

  it('validates its inputs with messages that name the problem', () => {
    expect(() => new Nsga2({ ...mixedOptions(1), populationSize: 1 })).toThrow(/populationSize/);
    expect(
      () =>
        new Nsga2({
          ...mixedOptions(1),
          blocks: [
            [0, 1],
            [1, 2],
          ],
        }),
    ).toThrow(/more than one block/);
    expect(() => new Nsga2({ ...mixedOptions(1), genes: [{ kind: 'real', min: 1, max: 0 }] })).toThrow(
      /min < max/,
    );
    const optimizer = new Nsga2(mixedOptions(1));
    const [genome] = optimizer.propose(1);
    expect(() => optimizer.tell([{ genome, objectives: [1], constraintViolation: 0 }])).toThrow(
      /expected 2 objectives/,
    );
    expect(() => optimizer.tell([{ genome, objectives: [1, NaN], constraintViolation: 0 }])).toThrow(
      /finite objectives/,
    );
    expect(() =>
      optimizer.tell([
        { genome: [9, 0, 0, 0, 0, 0, 0, 0, 0, 0], objectives: [1, 1], constraintViolation: 0 },
      ]),
    ).toThrow(/tell: genome\[0\]/);
    // An infeasible candidate may carry objectives that were never measured.
    optimizer.tell([{ genome, objectives: [NaN, NaN], constraintViolation: 2 }]);
    expect(optimizer.evaluations).toBe(1);
  });
});

describe('NSGA-II dominance-crowding tournament in the optimizer', () => {
  it('is the default, and one generation of breeding draws each parent exactly twice', () => {
    const problem = zdt1(10);
    const optimizer = new Nsga2({
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 20,
      seed: 3,
    });
    expect(optimizer.toJSON().options.tournament).toBe('dominance-crowding');
    step(optimizer, (genome) => problem.evaluate(genome), 20);
    expect(optimizer.generation).toBe(1);
    // One pair of children = two tournaments = four draws from the first permutation.
    optimizer.propose(2);
    const pool = optimizer.toJSON().tournamentPool ?? [];
    expect(pool).toHaveLength(16);
    expect(new Set(pool).size).toBe(16);
    // The other 18 children finish both permutations (real genes: no duplicate is ever bred here).
    optimizer.propose(18);
    expect(optimizer.toJSON().tournamentPool).toEqual([]);
  });

  it('is deterministic under a seed and resumes its permutation stream from a checkpoint', () => {
    const problem = zdt1(10);
    const options: Nsga2Options = {
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 20,
      seed: 22,
      tournament: 'dominance-crowding',
    };
    const original = new Nsga2(options);
    runToBudget(original, (genome) => problem.evaluate(genome), 20 * 3, 20);
    const partial = original.propose(6); // leaves part of a permutation in the pool
    const checkpoint = JSON.parse(JSON.stringify(original.toJSON())) as Nsga2State;
    expect(checkpoint.tournamentPool?.length).toBeGreaterThan(0);
    const restored = Nsga2.fromJSON(checkpoint);
    const twin = new Nsga2(options);
    runToBudget(twin, (genome) => problem.evaluate(genome), 20 * 3, 20);
    expect(twin.propose(6)).toEqual(partial);
    for (const optimizer of [original, restored, twin]) {
      optimizer.tell(partial.map((genome) => ({ genome, ...problem.evaluate(genome) })));
    }
    for (let generation = 0; generation < 5; generation++) {
      const a = step(original, (genome) => problem.evaluate(genome), 20);
      expect(step(restored, (genome) => problem.evaluate(genome), 20)).toEqual(a);
      expect(step(twin, (genome) => problem.evaluate(genome), 20)).toEqual(a);
    }
  });

  it('a checkpoint from before the option resumes with the rank tournament it was bred with', () => {
    const problem = zdt1(10);
    const options: Nsga2Options = {
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 20,
      seed: 23,
      tournament: 'rank-crowding',
    };
    const original = new Nsga2(options);
    runToBudget(original, (genome) => problem.evaluate(genome), 20 * 3, 20);
    const state = JSON.parse(JSON.stringify(original.toJSON())) as Nsga2State;
    delete state.options.tournament;
    delete state.tournamentPool;
    const restored = Nsga2.fromJSON(state);
    expect(restored.toJSON().options.tournament).toBe('rank-crowding');
    for (let generation = 0; generation < 3; generation++) {
      const a = step(original, (genome) => problem.evaluate(genome), 20);
      expect(step(restored, (genome) => problem.evaluate(genome), 20)).toEqual(a);
    }
  });

  it('rejects an unknown tournament', () => {
    expect(
      () => new Nsga2({ ...mixedOptions(1), tournament: 'roulette' as unknown as 'rank-crowding' }),
    ).toThrow(/tournament must be/);
  });

  it('keeps all five pieces of ZDT3’s front on seed 2, where the rank tournament lost the last one', () => {
    const problem = zdt3(30);
    const optimizer = new Nsga2({
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 100,
      seed: 2,
      tournament: 'dominance-crowding',
    });
    runToBudget(optimizer, (genome) => problem.evaluate(genome), 100 * 200, 100);
    const firstFront = optimizer
      .population()
      .filter((member) => member.rank === 0)
      .map((member) => member.objectives);
    expect(zdt3PiecesReached(firstFront)).toEqual([true, true, true, true, true]);
  });
});

describe('NSGA-II checkpoint', () => {
  it('a JSON round trip mid-run continues identically (between and inside generations)', () => {
    const problem = zdt1(10);
    const options: Nsga2Options = {
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 20,
      seed: 21,
    };
    const original = new Nsga2(options);
    runToBudget(original, (genome) => problem.evaluate(genome), 20 * 7, 20);
    // Also leave a half-told generation with pending proposals in the checkpoint.
    const pendingBatch = original.propose(20);
    original.tell(pendingBatch.slice(0, 8).map((genome) => ({ genome, ...problem.evaluate(genome) })));
    const checkpoint = JSON.parse(JSON.stringify(original.toJSON()));
    const restored = Nsga2.fromJSON(checkpoint);
    expect(restored.toJSON()).toEqual(original.toJSON());
    expect(restored.pending).toBe(12);
    for (const optimizer of [original, restored]) {
      optimizer.tell(pendingBatch.slice(8).map((genome) => ({ genome, ...problem.evaluate(genome) })));
    }
    for (let generation = 0; generation < 10; generation++) {
      const a = step(original, (genome) => problem.evaluate(genome), 20);
      const b = step(restored, (genome) => problem.evaluate(genome), 20);
      expect(b).toEqual(a);
    }
    expect(restored.toJSON()).toEqual(original.toJSON());
    expect(restored.population()).toEqual(original.population());
  });

  it('keeps an infeasible, unmeasured candidate through JSON (NaN as null)', () => {
    const optimizer = new Nsga2(mixedOptions(1));
    const [genome] = optimizer.propose(1);
    optimizer.tell([{ genome, objectives: [NaN, 3], constraintViolation: 0.5 }]);
    const text = JSON.stringify(optimizer.toJSON());
    const restored = Nsga2.fromJSON(JSON.parse(text));
    expect(restored.allEvaluated()[0].objectives[0]).toBeNaN();
    expect(restored.allEvaluated()[0].objectives[1]).toBe(3);
  });

  it('stays small for a realistic integer-coded run: 40 genes, population 100, 50 generations', () => {
    const genes: GeneSpec[] = Array.from({ length: 40 }, (_, i) => ({
      kind: 'categorical',
      cardinality: 2 + (i % 7),
    }));
    const optimizer = new Nsga2({
      genes,
      objectives: [
        { name: 'accuracy', goal: 'max' },
        { name: 'edap', goal: 'min' },
      ],
      populationSize: 100,
      seed: 8,
    });
    runToBudget(
      optimizer,
      (g) => {
        const ones = g.reduce((a, b) => a + b, 0);
        return {
          objectives: [ones / 160 + g[0] * 0.013, 1e-9 * (1 + ones) * (1 + g[1] + g[2])],
          constraintViolation: 0,
        };
      },
      100 * 50,
      100,
    );
    const bytes = JSON.stringify(optimizer.toJSON()).length;
    // Temporal payloads fail at 2 MB; keys are one character per gene.
    expect(bytes).toBeLessThan(1_000_000);
  });
});

describe('objective catalog and constraint budgets', () => {
  it('gives every catalog metric its natural direction and picks objectives from metrics', () => {
    expect(objectivesFor(['accuracy', 'robustAccuracyP5', 'chipAccuracy', 'edap', 'topsPerMm2'])).toEqual([
      { name: 'accuracy', goal: 'max' },
      { name: 'robustAccuracyP5', goal: 'max' },
      { name: 'chipAccuracy', goal: 'max' },
      { name: 'edap', goal: 'min' },
      { name: 'topsPerMm2', goal: 'max' },
    ]);
    expect(Object.keys(OBJECTIVE_METRICS)).toHaveLength(11);
    const specs = objectivesFor(['energy', 'accuracy']);
    expect(objectiveVector({ accuracy: 0.9, energy: 2e-6, area: 3 }, specs)).toEqual([2e-6, 0.9]);
    expect(() => objectiveVector({ accuracy: 0.9 }, specs)).toThrow(/"energy" missing/);
  });

  it('adds relative violations of every budget', () => {
    const budgets = [
      { metric: 'area', max: 100 },
      { metric: 'accuracy', min: 0.8 },
      { metric: 'latency', max: 1e-3 },
    ];
    expect(constraintViolation({ area: 50, accuracy: 0.9, latency: 1e-4 }, budgets)).toBe(0);
    // Area 50 % over, accuracy 10 % under its floor.
    expect(constraintViolation({ area: 150, accuracy: 0.72, latency: 1e-4 }, budgets)).toBeCloseTo(0.6, 12);
    // An unmeasured metric with a budget counts as a violation of 1.
    expect(constraintViolation({ area: 50, accuracy: NaN, latency: 1e-4 }, budgets)).toBe(1);
  });
});

describe('NSGA-II with four objectives', () => {
  it('runs on the hardware proxy and its front has a positive 4-D hypervolume (WFG)', () => {
    const problem = hardwareProblem({
      objectives: ['accuracy', 'energy', 'latency', 'area'],
      constraints: [],
    });
    const optimizer = new Nsga2(
      {
        genes: problem.genes,
        objectives: problem.objectives,
        populationSize: 16,
        seed: 4,
        blocks: problem.blocks,
      },
      { repair: problem.repair },
    );
    runToBudget(optimizer, problem.evaluate, 16 * 10, 16);
    const goals = problem.objectives.map((o) => o.goal);
    const logScaled = [false, true, true, true];
    const front = logScaleObjectives(
      optimizer.paretoFront().map((c) => c.objectives),
      logScaled,
    );
    const all = logScaleObjectives(
      optimizer.allEvaluated().map((c) => c.objectives),
      logScaled,
    );
    const bounds = boundsOf(all, goals);
    const value = normalizedHypervolume(front, goals, bounds);
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThanOrEqual(1.1 ** 4);
    // The whole archive adds nothing beyond its non-dominated part.
    expect(normalizedHypervolume(all, goals, bounds)).toBeCloseTo(value, 12);
  });
});
