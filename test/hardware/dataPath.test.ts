/**
 * NeuroSim V1.4's data path by tile (hardware/dataPath.ts), formula by formula, on VGG-8 as NeuroSim ran it
 * (bench/fixtures/neurosim/rram22_c{1,2}_a128_flash5_lbl.json): the numbers NeuroSim's own floorplan and
 * Param.cpp give.
 */
import { fixtureLayers, loadFixtures, projectSetting } from '../../bench/fidelity';
import {
  adderStageDelayS,
  busCyclesPerTransfer,
  hTreeCyclesPerTransfer,
  isNovelMapped,
  layerDataPath,
  networkDataPathInto,
  novelTileScale,
  type DataPathNetwork,
  type LayerDataPath,
} from '../../hardware/dataPath';
import { DEFAULT_LIBRARY } from '../../hardware/library';
import { getDevice } from '../../hardware/library';
import { mapLayer } from '../../hardware/mapping';
import * as path from 'node:path';

const fixtures = loadFixtures(path.join(__dirname, '..', '..', 'bench', 'fixtures', 'neurosim'));
function setting(name: string) {
  const f = fixtures.find((x) => x.name === name);
  if (!f) throw new Error(`no NeuroSim fixture ${name}`);
  const { hw } = projectSetting(f);
  const device = { ...getDevice(DEFAULT_LIBRARY, hw.device), differentialPairs: false };
  return { f, hw, device, layers: fixtureLayers(f) };
}

// The neurosim preset's tiles: 8 × 8 arrays, processing elements of 4 × 4 (NeuroSim's 1024 × 1024 tiles
// and 512 × 512 PEs of 128 × 128 arrays: "Desired Conventional Mapped Tile Storage Size: 1024x1024").
const TILE_SIDE = 8;
const PE_SIDE = 4;

describe('novel mapping and the chip bus (Chip.cpp ChipDesignInitialize / ChipInitialize)', () => {
  const { hw, layers } = setting('rram22_c1_a128_flash5_lbl');

  const network = (): DataPathNetwork =>
    networkDataPathInto(layers, hw, TILE_SIDE, PE_SIDE, {
      novelKernelArea: 0,
      busBits: 0,
      globalBufferBitsPerCycle: 0,
      adderStageClocks: 0,
      hTreeCyclesConventional: 1,
      hTreeCyclesNovel: 1,
      epoch: 0,
    });

  it("maps VGG-8's 3×3 layers with ≥ 128 weight rows the novel way, layer 1 and the dense layers conventionally", () => {
    const area = network().novelKernelArea;
    expect(area).toBe(9);
    expect(layers.map((l) => isNovelMapped(l, hw, area))).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('sizes the chip bus as NeuroSim does: 3 × 1152 + 5 × 1728 bits halved to 1512', () => {
    expect(network().busBits).toBe(1512);
  });

  it('feeds the global buffer 12 lines of 128 bits per clock (64 cores for the 32×32×128 input map)', () => {
    expect(network().globalBufferBitsPerCycle).toBe(12 * 128);
  });

  it('lays 92 tiles out on a 10 × 10 grid and 47 on 7 × 7; the X wire spans ⌈columns/2⌉ tiles', () => {
    const bus = { gridRows: 0, gridCols: 0, x: 0, y: 0 };
    busCyclesPerTransfer(92, 1, 1, 1, bus);
    expect([bus.gridRows, bus.gridCols, bus.x, bus.y]).toEqual([10, 10, 5, 4]);
    busCyclesPerTransfer(47, 1, 1, 1, bus);
    expect([bus.gridRows, bus.gridCols, bus.x, bus.y]).toEqual([7, 7, 4, 2]);
    // a 1.8 mm tile at 0.2 ns/mm and a 1.66 ns clock: 7.2 mm → 1 cycle, 10.8 mm (novel tile) → 2
    busCyclesPerTransfer(47, 1.8, 0.2, 1.66, bus);
    expect(bus.x).toBe(1);
    busCyclesPerTransfer(47, 1.8 * novelTileScale(9, TILE_SIDE, PE_SIDE), 0.2, 1.66, bus);
    expect(bus.x).toBe(2);
  });

  it('takes one clock per tile H-tree transfer at 22 nm and two for a 7 nm novel tile', () => {
    expect(hTreeCyclesPerTransfer(1.8, 0.2, 1.66)).toBe(1);
    expect(hTreeCyclesPerTransfer(2.23 * 1.5, 0.4, 1.23)).toBe(2);
  });

  it("brackets NeuroSim's adder-tree delay: 4 stages take 2 clocks of 1.74 ns but 1 of 2.02 ns at 22 nm", () => {
    const tree22 = 4 * adderStageDelayS(22);
    expect(tree22).toBeGreaterThan(1.74e-9);
    expect(tree22).toBeLessThan(2.02e-9);
    const tree7 = 4 * adderStageDelayS(7);
    expect(tree7).toBeGreaterThan(1.29e-9);
    expect(tree7).toBeLessThan(1.44e-9);
  });
});

describe('tile buffers of a novel-mapped layer (Tile.cpp TileInitialize / TileCalculatePerformance)', () => {
  function layer2(name: string): LayerDataPath {
    const { hw, device, layers } = setting(name);
    const network: DataPathNetwork = {
      novelKernelArea: 9,
      busBits: 1512,
      globalBufferBitsPerCycle: 12 * 128,
      adderStageClocks: adderStageDelayS(22) / 1.66e-9,
      hTreeCyclesConventional: 1,
      hTreeCyclesNovel: 1,
      epoch: 0,
    };
    const m = mapLayer(layers[1], hw, device);
    const out: LayerDataPath = {
      novel: false,
      bufferCycles: 0,
      hTreeCycles: 0,
      busBitsIn: 0,
      busBitsOut: 0,
      rowTiles: 0,
      colTiles: 0,
      tileAccumulationCycles: 0,
      peAccumulationCycles: 0,
    };
    return layerDataPath(
      layers[1],
      hw,
      m.rowsNeeded,
      m.colsNeeded,
      m.columnsPerWeight,
      TILE_SIDE,
      PE_SIDE,
      network,
      out,
    );
  }

  it('VGG-8 layer 2, 1 bit per cell: 2 tiles; input 3072 bits / (32 × 9 cores), output 64 × 29 bits / (32 × 5 cores) + global buffer', () => {
    const dp = layer2('rram22_c1_a128_flash5_lbl');
    expect([dp.rowTiles, dp.colTiles]).toEqual([1, 2]);
    const expected = 3072 / (32 * 9) + (64 * 29) / (32 * 5) + (3072 + 256) / (12 * 128);
    expect(dp.bufferCycles).toBeCloseTo(expected, 10);
    // NeuroSim: 25.6 buffer cycles per vector (38.3 µs over 900 vectors at 1.663 ns)
    expect(dp.bufferCycles).toBeGreaterThan(25.6 * 0.9);
    expect(dp.bufferCycles).toBeLessThan(25.6 * 1.1);
  });

  it('2 bits per cell: one tile holds twice the outputs (128 × 28 bits over 4 cores); NeuroSim 42.9 cycles', () => {
    const dp = layer2('rram22_c2_a128_flash5_lbl');
    expect([dp.rowTiles, dp.colTiles]).toEqual([1, 1]);
    const expected = 3072 / (32 * 9) + (128 * 28) / (32 * 4) + (3072 + 256) / (12 * 128);
    expect(dp.bufferCycles).toBeCloseTo(expected, 10);
    expect(dp.bufferCycles).toBeGreaterThan(42.9 * 0.9);
    expect(dp.bufferCycles).toBeLessThan(42.9 * 1.1);
  });
});
