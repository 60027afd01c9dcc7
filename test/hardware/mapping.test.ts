import { DEFAULT_LIBRARY, getDevice } from '../../hardware/library';
import { mapLayer } from '../../hardware/mapping';
import { isaacPeakWorkload } from '../../hardware/networks';
import type { HardwareConfig, LayerShape } from '../../hardware/types';

const rram128: HardwareConfig = {
  device: 'rram',
  rows: 128,
  cols: 128,
  adcBits: 5,
  adcType: 'sar',
  dacBits: 1,
  bitsPerCell: 2,
  colsPerAdc: 8,
  techNode: 22,
};

function conv(overrides: Partial<LayerShape>): LayerShape {
  return {
    name: 'layer',
    kind: 'conv',
    inChannels: 64,
    outChannels: 128,
    kernelH: 3,
    kernelW: 3,
    stride: 1,
    outH: 16,
    outW: 16,
    weightBits: 8,
    activationBits: 8,
    ...overrides,
  };
}

const device = (name: string) => getDevice(DEFAULT_LIBRARY, name);

describe('crossbar mapping of a 3×3 conv (64 → 128, 8-bit, RRAM 2 bits/cell, differential)', () => {
  const m = mapLayer(conv({}), rram128, device('rram'));

  it('uses Cin·K² rows and Cout·⌈W/b⌉·2 columns', () => {
    expect(m.columnsPerWeight).toBe(8); // ⌈8/2⌉ = 4 slices × 2 (pair)
    expect(m.rowsNeeded).toBe(576); // 64 · 9
    expect(m.colsNeeded).toBe(1024); // 128 · 8
  });

  it('tiles 5 × 8 arrays of 128×128', () => {
    expect(m.rowTiles).toBe(5); // ⌈576/128⌉
    expect(m.colTiles).toBe(8); // ⌈1024/128⌉
    expect(m.arrays).toBe(40);
    expect(m.arrayUtilization).toBeCloseTo((576 * 1024) / (40 * 128 * 128), 12); // 0.9
  });

  it('counts MVMs, bit-serial cycles and ADC conversions', () => {
    expect(m.mvms).toBe(256); // 16 · 16 output pixels
    expect(m.inputCycles).toBe(8); // 8-bit inputs, 1-bit DAC
    expect(m.conversionsPerCycle).toBe(1024 * 5); // every column in each of the 5 row tiles
    expect(m.mvms * m.inputCycles * m.conversionsPerCycle).toBe(10_485_760);
    expect(m.rowDrivesPerCycle).toBe(576 * 8); // each row drives all 8 column tiles
    expect(m.accumulationsPerMvm).toBe(128 * 4); // 5 row-tile partial sums merged per output
    expect(m.macs).toBe(256 * 576 * 128);
  });
});

describe('crossbar mapping of other layer kinds', () => {
  it('maps a dense layer as a 1×1 conv (1024 → 10, SRAM, 2-bit DAC)', () => {
    const hw = { ...rram128, device: 'sram', bitsPerCell: 1, dacBits: 2 };
    const m = mapLayer(
      conv({ kind: 'dense', inChannels: 1024, outChannels: 10, kernelH: 1, kernelW: 1, outH: 1, outW: 1 }),
      hw,
      device('sram'),
    );
    expect(m.columnsPerWeight).toBe(8); // SRAM: 8 one-bit slices, no pairs
    expect(m.rowTiles).toBe(8);
    expect(m.colTiles).toBe(1);
    expect(m.arrays).toBe(8);
    expect(m.mvms).toBe(1);
    expect(m.inputCycles).toBe(4); // ⌈8/2⌉
    expect(m.conversionsPerCycle).toBe(80 * 8);
    expect(m.macs).toBe(10240);
  });

  it('packs depthwise kernels block-diagonally', () => {
    const layer = conv({ kind: 'depthwise', inChannels: 96, outChannels: 96, weightBits: 4 });
    const m = mapLayer(layer, rram128, device('rram'));
    expect(m.columnsPerWeight).toBe(4); // ⌈4/2⌉ · 2
    expect(m.channelsPerArray).toBe(14); // min(⌊128/9⌋, ⌊128/4⌋)
    expect(m.arrays).toBe(7); // ⌈96/14⌉
    expect(m.conversionsPerCycle).toBe(96 * 4);
    expect(m.rowDrivesPerCycle).toBe(96 * 9);
    expect(m.offBlockRowsPerColumn).toBe(13 * 9);
    expect(m.accumulationsPerMvm).toBe(0);
    expect(m.macs).toBe(256 * 96 * 9);
    expect(m.arrayUtilization).toBeCloseTo((96 * 9 * 4) / (7 * 128 * 128), 12);
  });

  it('splits a depthwise kernel taller than the array over row tiles', () => {
    const hw = { ...rram128, device: 'sram', bitsPerCell: 1, rows: 32, cols: 32, colsPerAdc: 4 };
    const layer = conv({ kind: 'depthwise', inChannels: 16, outChannels: 16, kernelH: 7, kernelW: 7 });
    const m = mapLayer(layer, hw, device('sram'));
    expect(m.rowTiles).toBe(2); // ⌈49/32⌉
    expect(m.colTiles).toBe(1);
    expect(m.arrays).toBe(32); // 16 channels · 2
    expect(m.conversionsPerCycle).toBe(16 * 8 * 2);
    expect(m.accumulationsPerMvm).toBe(16);
  });

  it('rounds input cycles up', () => {
    const m = mapLayer(conv({ activationBits: 8 }), { ...rram128, dacBits: 3 }, device('rram'));
    expect(m.inputCycles).toBe(3);
  });

  it('needs fewer arrays with more bits per cell', () => {
    const layer = conv({ inChannels: 256, outChannels: 256 });
    const arrays = [1, 2, 3, 4].map(
      (bitsPerCell) => mapLayer(layer, { ...rram128, bitsPerCell }, device('rram')).arrays,
    );
    for (let i = 1; i < arrays.length; i++) expect(arrays[i]).toBeLessThan(arrays[i - 1]);
  });

  it('fills one ISAAC tile (12 × 8 arrays) per layer of the peak workload', () => {
    const hw = { ...rram128, device: 'rram-isaac', techNode: 32 as const, colsPerAdc: 128 };
    const m = mapLayer(isaacPeakWorkload(1)[0], hw, device('rram-isaac'));
    expect(m.columnsPerWeight).toBe(8); // 16-bit weights, 2 bits per cell, no pairs
    expect(m.rowTiles).toBe(12);
    expect(m.colTiles).toBe(8);
    expect(m.arrayUtilization).toBe(1);
  });
});
