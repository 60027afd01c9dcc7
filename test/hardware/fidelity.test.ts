/**
 * Component formulas of the cost model against DNN+NeuroSim V1.4 at single points recorded in
 * bench/fixtures/neurosim (one simulator run each; see the README there for how they were made).
 */
import * as path from 'node:path';
import type { NeuroSimFixture } from '../../bench/fidelity';
import { compare, loadFixtures, loadSweeps, sweepSteps } from '../../bench/fidelity';

const fixtureDir = path.join(__dirname, '..', '..', 'bench', 'fixtures', 'neurosim');
const fixtures = loadFixtures(fixtureDir);
function fixture(name: string): NeuroSimFixture {
  const found = fixtures.find((f) => f.name === name);
  if (!found) throw new Error(`no NeuroSim fixture ${name}`);
  return found;
}

/** NeuroSim arrays on the chip: tiles × (tile storage / subarray rows)². */
function neurosimArrays(f: NeuroSimFixture): number {
  const r = f.results as unknown as { tiles_per_layer: number[]; tile_storage: string };
  const tiles = r.tiles_per_layer.reduce((a, b) => a + b, 0);
  const perSide = Number(r.tile_storage.split('x')[0]) / f.array_rows;
  return tiles * perSide * perSide;
}

describe('cell area from the node (NeuroSim V1.4 ProcessingUnit.cpp / SubArray.cpp)', () => {
  it('puts a 128×128 1T1R RRAM array at 22 nm within 30 % of NeuroSim', () => {
    const f = fixture('rram22_c2_a128_flash5_lbl');
    const c = compare(f);
    const projectPerArrayUm2 = (c.cost.areaBreakdown.array * 1e6) / (c.cost.tiles * 64);
    const neurosimPerArrayUm2 = (f.results.array_area_um2 as number) / neurosimArrays(f);
    expect(projectPerArrayUm2 / neurosimPerArrayUm2).toBeGreaterThan(0.7);
    expect(projectPerArrayUm2 / neurosimPerArrayUm2).toBeLessThan(1.3);
  });
});

/** NeuroSim's raw ADC energy per conversion (pJ) and the project's, without the shared ×1.22 factor. */
function adcEnergyPerConversion(name: string): { neurosim: number; project: number } {
  const f = fixture(name);
  const c = compare(f);
  return {
    neurosim: (f.results.adc_energy_pJ as number) / c.cost.conversions,
    project: (c.cost.energyBreakdown.adc * 1e12) / 1.22 / c.cost.conversions,
  };
}

/** NeuroSim's ADC area per converter (µm²) and the project's. */
function adcAreaPerConverter(name: string): { neurosim: number; project: number } {
  const f = fixture(name);
  const c = compare(f);
  const perArray = c.hw.cols / c.hw.colsPerAdc;
  return {
    neurosim: (f.results.adc_area_um2 as number) / neurosimArrays(f) / perArray,
    project: (c.cost.areaBreakdown.adc * 1e6) / (c.cost.tiles * 64) / perArray,
  };
}

const within = (ratio: number, tolerance: number) => Math.abs(ratio - 1) <= tolerance;

describe('ADC energy and area per converter (NeuroSim V1.4 MultilevelSenseAmp.cpp, SarADC.cpp)', () => {
  it('flash (multi-level sense amplifier) at 5 bits, 22 nm: energy and area within 15 %', () => {
    const e = adcEnergyPerConversion('rram22_c2_a128_flash5_lbl');
    expect(within(e.project / e.neurosim, 0.15)).toBe(true);
    const a = adcAreaPerConverter('rram22_c2_a128_flash5_lbl');
    expect(within(a.project / a.neurosim, 0.15)).toBe(true);
  });

  it('SAR at 5 bits, 22 nm: energy and area within 15 %', () => {
    const e = adcEnergyPerConversion('rram22_c2_a128_sar5_lbl');
    expect(within(e.project / e.neurosim, 0.15)).toBe(true);
    const a = adcAreaPerConverter('rram22_c2_a128_sar5_lbl');
    expect(within(a.project / a.neurosim, 0.15)).toBe(true);
  });
});

describe('SRAM column current and leakage (NeuroSim V1.4 ProcessingUnit.cpp, SubArray.cpp)', () => {
  it("charges the SRAM access transistors' column current in the flash ADC: within 25 % per conversion", () => {
    const e = adcEnergyPerConversion('sram22_c1_a128_flash5_lbl');
    expect(within(e.project / e.neurosim, 0.25)).toBe(true);
  });

  it("leaks in proportion to the circuits' area: leakage energy within 20 % at 45, 22 and 7 nm", () => {
    for (const name of [
      'rram45_c2_a128_flash5_lbl',
      'rram22_c2_a128_flash5_lbl',
      'fefet7_c2_a128_flash5_lbl',
    ]) {
      const f = fixture(name);
      const c = compare(f);
      const ratio = (c.cost.energyBreakdown.leakage * 1e12) / (f.results.leakage_energy_pJ as number);
      expect(within(ratio, 0.2)).toBe(true);
    }
  });
});

describe('latency: sensing clock, copies and data movement (NeuroSim V1.4 main.cpp, Chip.cpp)', () => {
  it('adds the word-line drive to the conversion in the clock: 8-bit SAR at 45 nm (64 and 128 columns), flash at 7 nm', () => {
    for (const name of ['rram45_c1_a64_sar8_lbl', 'rram45_c1_a128_sar8_lbl', 'fefet7_c2_a128_flash5_lbl']) {
      const f = fixture(name);
      const c = compare(f);
      const clockNs = (c.cost.cycleTimeS / c.hw.colsPerAdc) * 1e9;
      expect(within(clockNs / (f.results.clock_period_ns as number), 0.05)).toBe(true);
    }
  });

  it('waits longer for H-tree transfers on bigger chips and finer wires: latency within 10 % from SRAM 22 nm to FeFET 7 nm', () => {
    for (const name of [
      'sram22_c1_a128_flash5_lbl',
      'rram22_c1_a128_flash5_lbl',
      'fefet7_c2_a128_flash5_lbl',
    ]) {
      expect(within(compare(fixture(name)).ratio.latency, 0.1)).toBe(true);
    }
  });

  it('runs the sensing clock NeuroSim derives for a 5-bit SAR and a 5-bit flash ADC', () => {
    for (const name of ['rram22_c2_a128_sar5_lbl', 'rram22_c2_a128_flash5_lbl']) {
      const f = fixture(name);
      const c = compare(f);
      // one input cycle = numColMuxed (8) clocks
      const clockNs = (c.cost.cycleTimeS / c.hw.colsPerAdc) * 1e9;
      expect(within(clockNs / (f.results.clock_period_ns as number), 0.05)).toBe(true);
    }
  });

  it('puts VGG-8 layer-by-layer latency within 15 % of NeuroSim for 4–6-bit flash and SAR', () => {
    for (const type of ['flash', 'sar']) {
      for (const bits of [4, 5, 6]) {
        expect(within(compare(fixture(`rram22_c2_a128_${type}${bits}_lbl`)).ratio.latency, 0.15)).toBe(true);
      }
    }
  });
});

/**
 * Steps the model still moves differently from NeuroSim (docs/hardware-model.md §Fidelity lists why). Listed
 * exactly, so that a fix and a regression both fail this test until the list is updated.
 */
const KNOWN_WRONG_STEPS: Record<string, string[]> = {
  // NeuroSim +0.5 % (flat): its buffer time falls with fewer bits per cell while the H-tree time rises.
  bits_per_cell: ['latency: rram22_c1_a128_flash5_lbl → rram22_c2_a128_flash5_lbl'],
  // NeuroSim −1 % (flat): its buffer + H-tree cycles barely change from 64 to 128 columns here; the
  // project's data-movement cycles scale as (128/columns)^0.6 (fitted on 22 nm flash), so it falls 20 %.
  array_size_sar8_45nm: ['latency: rram45_c1_a64_sar8_lbl → rram45_c1_a128_sar8_lbl'],
};

describe('sweep directions (bench/fixtures/neurosim/sweeps.json)', () => {
  const comparisons = fixtures.map((f) => compare(f));
  const sweeps = loadSweeps(fixtureDir);
  const steps = sweepSteps(comparisons, sweeps);
  it.each(Object.keys(sweeps))(
    'moves area, latency, energy and TOPS/W the way NeuroSim does along %s',
    (sweep) => {
      const these = steps.filter((s) => s.sweep === sweep);
      expect(these.length).toBeGreaterThan(0);
      expect(these.filter((s) => !s.right).map((s) => `${s.metric}: ${s.from} → ${s.to}`)).toEqual(
        KNOWN_WRONG_STEPS[sweep] ?? [],
      );
    },
  );
});

describe('chip area: periphery strips, bounding boxes, tile interconnect (NeuroSim V1.4 Chip.cpp / Tile.cpp)', () => {
  it('lands within 25 % of NeuroSim from SRAM at 22 nm (chip ≈ component sum) to FeFET at 7 nm (12 × it)', () => {
    for (const name of [
      'sram22_c1_a128_flash5_lbl',
      'fefet7_c2_a128_flash5_lbl',
      'rram45_c2_a128_flash5_lbl',
    ]) {
      expect(within(compare(fixture(name)).ratio.area, 0.25)).toBe(true);
    }
  });
});
