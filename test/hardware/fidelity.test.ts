/**
 * Component formulas of the cost model against DNN+NeuroSim V1.4 at single points recorded in
 * bench/fixtures/neurosim (one simulator run each; see the README there for how they were made).
 */
import * as path from 'node:path';
import type { NeuroSimFixture } from '../../bench/fidelity';
import { compare, loadFixtures } from '../../bench/fidelity';

const fixtures = loadFixtures(path.join(__dirname, '..', '..', 'bench', 'fixtures', 'neurosim'));
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
