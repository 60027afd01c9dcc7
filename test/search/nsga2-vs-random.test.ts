import { compareWithRandomSearch, scoreUnderOneNormalization } from '../../search/problems/comparison';
import {
  ADC_BITS,
  BITS_PER_CELL,
  DEVICES,
  accuracyProxy,
  decodeHardwareGenome,
  hardwareProblem,
} from '../../search/problems/hardwareProxy';
import type { Genome } from '../../search/optimizer';

// rram, 128×128, 6-bit SAR, 1-bit DAC, 2 bits/cell, 4 columns per ADC, 32 nm, 8-bit weights and activations.
const base: Genome = [0, 1, 3, 0, 0, 1, 1, 2, 2, 2];
const withGene = (index: number, value: number): Genome => base.map((v, i) => (i === index ? value : v));

describe('the hardware proxy problem', () => {
  const problem = hardwareProblem();

  it('decodes genes into a hardware configuration', () => {
    const decoded = decodeHardwareGenome(base);
    expect(decoded.hardware).toMatchObject({
      device: 'rram',
      rows: 128,
      cols: 128,
      adcBits: 6,
      bitsPerCell: 2,
    });
    expect(decoded.weightBits).toBe(8);
  });

  it('has the trade-offs the search must navigate', () => {
    const metrics = (genome: Genome) => problem.metrics(genome);
    // More ADC bits: more energy, never less accuracy.
    const lowAdc = metrics(withGene(2, 1));
    const highAdc = metrics(withGene(2, ADC_BITS.length - 1));
    expect(highAdc.energy).toBeGreaterThan(lowAdc.energy);
    expect(highAdc.accuracy).toBeGreaterThanOrEqual(lowAdc.accuracy);
    // More bits per cell: fewer arrays (less area), lower accuracy (docs/sources.md §Search defaults).
    const oneBit = metrics(withGene(5, 0));
    const fourBits = metrics(withGene(5, BITS_PER_CELL.length - 1));
    expect(fourBits.area).toBeLessThan(oneBit.area);
    expect(fourBits.accuracy).toBeLessThan(oneBit.accuracy);
    // Smaller node: less energy.
    expect(metrics(withGene(7, 3)).energy).toBeLessThan(metrics(withGene(7, 0)).energy);
    expect(accuracyProxy(decodeHardwareGenome(base))).toBeLessThanOrEqual(0.92);
  });

  it('repairs bits per cell to what the device holds', () => {
    const sramFourBits = [DEVICES.indexOf('sram'), 1, 3, 0, 0, 2, 1, 2, 2, 2];
    expect(problem.repair(sramFourBits)?.[5]).toBe(0);
    expect(problem.repair(base)).toBe(base);
  });

  it('takes its objectives from the metric catalog', () => {
    const edap = hardwareProblem({ objectives: ['accuracy', 'edap', 'topsPerWatt'] });
    expect(edap.objectives).toEqual([
      { name: 'accuracy', goal: 'max' },
      { name: 'edap', goal: 'min' },
      { name: 'topsPerWatt', goal: 'max' },
    ]);
    const m = edap.metrics(base);
    expect(edap.evaluate(base).objectives).toEqual([m.accuracy, m.edap, m.topsPerWatt]);
    expect(m.edap).toBeCloseTo(m.energy * m.latency * m.area, 20);
    expect(() => hardwareProblem({ objectives: ['robustAccuracyP5'] })).toThrow(/Monte-Carlo/);
    expect(() => hardwareProblem({ objectives: ['chipAccuracy'] })).toThrow(/chip simulation/);
  });

  it('flags designs over the latency budget as infeasible', () => {
    const tight = hardwareProblem({ constraints: [{ metric: 'latency', max: 1e-9 }] });
    expect(tight.evaluate(base).constraintViolation).toBeGreaterThan(0);
    expect(hardwareProblem({ constraints: [] }).evaluate(base).constraintViolation).toBe(0);
  });
});

describe('NSGA-II beats random search at an equal budget', () => {
  it('on the hardware proxy: accuracy × energy × area, 20 × 20 evaluations, 10 seeds', () => {
    const problem = hardwareProblem();
    const result = compareWithRandomSearch(problem, {
      seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      populationSize: 20,
      generations: 20,
      crossover: 'block',
      logScaled: [false, true, true],
    });
    expect(result.budget).toBe(400);
    // Means and spreads, for the record (the benchmark reports them too).
    console.log(
      `hypervolume NSGA-II ${result.nsga2Mean.toFixed(4)} ± ${result.nsga2Std.toFixed(4)}, ` +
        `random ${result.randomMean.toFixed(4)} ± ${result.randomStd.toFixed(4)}, NSGA-II wins ${result.nsga2Wins}/10`,
    );
    expect(result.nsga2Mean).toBeGreaterThan(result.randomMean + result.randomStd);
    expect(result.nsga2Wins).toBeGreaterThanOrEqual(8);
  });
});

describe('scoreUnderOneNormalization', () => {
  // (accuracy max, EDAP min); EDAP on a log10 scale.
  const runs = [
    {
      algorithm: 'nsga2' as const,
      seed: 1,
      objectives: [
        [0.9, 100],
        [0.5, 1],
      ],
    },
    // The second point is dominated within its run: it must not stretch the bounds to (0.4, 1000).
    {
      algorithm: 'random' as const,
      seed: 1,
      objectives: [
        [0.7, 10],
        [0.4, 1000],
      ],
    },
    { algorithm: 'nsga2' as const, seed: 2, objectives: [[0.9, 1]] },
    { algorithm: 'random' as const, seed: 2, objectives: [[0.5, 100]] },
  ];

  it("normalizes every run by the union of the runs' non-dominated sets, EDAP in log10, reference 1.1", () => {
    const result = scoreUnderOneNormalization(runs, ['max', 'min'], [false, true], 2);
    expect(result.bounds).toEqual({ ideal: [0.9, 0], nadir: [0.5, 2] });
    // Seed 1: NSGA-II's points normalize to (0, 1) and (1, 0): 1.1·0.1 + 0.1·1 = 0.21; random's (0.7, 10)
    // to (0.5, 0.5): 0.6² = 0.36. Seed 2: (0, 0) → 1.21 against (1, 1) → 0.01.
    expect(result.nsga2[0]).toBeCloseTo(0.21, 10);
    expect(result.random[0]).toBeCloseTo(0.36, 10);
    expect(result.nsga2[1]).toBeCloseTo(1.21, 10);
    expect(result.random[1]).toBeCloseTo(0.01, 10);
    expect(result.nsga2Mean).toBeCloseTo(0.71, 10);
    expect(result.randomMean).toBeCloseTo(0.185, 10);
    expect(result.nsga2Wins).toBe(1);
    expect(result.budget).toBe(2);
  });

  it('refuses a seed without a run of each algorithm', () => {
    expect(() => scoreUnderOneNormalization(runs.slice(0, 3), ['max', 'min'], [false, true], 2)).toThrow(
      /seed 2 has no random run/,
    );
  });
});
