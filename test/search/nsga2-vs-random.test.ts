import { compareWithRandomSearch } from '../../search/problems/comparison';
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
