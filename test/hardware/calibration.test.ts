import {
  HERMES_LIKE_PCM_14,
  NEUROSIM_RRAM_22,
  NEUROSIM_SRAM_22,
  calibrationTable,
  formatCalibrationTable,
  macroEnergyJ,
} from '../../hardware/calibration';
import { evaluateNetwork } from '../../hardware/cost';
import { vgg8Cifar10 } from '../../hardware/networks';
import type { TechNode } from '../../hardware/types';

const table = calibrationTable();
const byId = (id: string) => {
  const found = table.find((r) => r.id === id);
  if (!found) throw new Error(`no calibration row ${id}`);
  return found;
};

describe('ISAAC-CE calibration (Shafiee et al., ISCA 2016; docs/sources.md §Calibration anchors)', () => {
  it('lands within ±30 % of the published TOPS/W and TOPS/mm²', () => {
    expect(Math.abs(byId('isaac.topsPerW').model / 0.6275 - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(byId('isaac.topsPerMm2').model / 0.479 - 1)).toBeLessThanOrEqual(0.3);
  });

  it('reproduces the chip power, area and ADC shares within ±30 %', () => {
    expect(Math.abs(byId('isaac.powerW').model / 65.8 - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(byId('isaac.areaMm2').model / 85.4 - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(byId('isaac.adcPowerShare').model / 0.58 - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(byId('isaac.adcAreaShare').model / 0.31 - 1)).toBeLessThanOrEqual(0.3);
  });
});

describe('PUMA calibration (Ankit et al., ASPLOS 2019; docs/sources.md §Calibration anchors)', () => {
  it('lands within ±30 % of the published peak TOPS/W and TOPS/mm²', () => {
    expect(Math.abs(byId('puma.topsPerW').model / 0.837 - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(byId('puma.topsPerMm2').model / 0.577 - 1)).toBeLessThanOrEqual(0.3);
  });
});

describe('sanity ranges for matching configurations', () => {
  const vgg8 = vgg8Cifar10(8, 8);

  it('puts the ADC at 26–70 % of the energy of an 8-bit VGG-8 with 4–5-bit ADCs', () => {
    for (const adcBits of [4, 5]) {
      for (const bitsPerCell of [1, 2]) {
        const cost = evaluateNetwork(vgg8, { ...NEUROSIM_RRAM_22, adcBits, bitsPerCell });
        const share = cost.energyBreakdown.adc / cost.energyJ;
        expect(share).toBeGreaterThanOrEqual(0.26);
        expect(share).toBeLessThanOrEqual(0.7);
      }
    }
  });

  it('keeps 8-bit VGG-8 on 22 nm RRAM and SRAM in the 10–35 TOPS/W chip-level band', () => {
    expect(byId('neurosim-rram22.topsPerW').within).toBe(true);
    expect(byId('neurosim-sram22.topsPerW').within).toBe(true);
  });

  it('never predicts more than 50 TOPS/W for that case at 22 nm or above', () => {
    for (const techNode of [45, 32, 22] as TechNode[]) {
      for (const adcBits of [3, 4, 5, 6, 8]) {
        for (const chip of [NEUROSIM_RRAM_22, NEUROSIM_SRAM_22]) {
          expect(evaluateNetwork(vgg8, { ...chip, techNode, adcBits }).topsPerW).toBeLessThan(50);
        }
      }
    }
  });

  it('keeps the macro alone between the measured 8-bit and binary 22 nm ReRAM macros', () => {
    const cost = evaluateNetwork(vgg8, NEUROSIM_RRAM_22);
    const macroTopsPerW = cost.ops / macroEnergyJ(cost) / 1e12;
    expect(macroTopsPerW).toBeGreaterThan(11.91);
    expect(macroTopsPerW).toBeLessThan(195.7);
    expect(macroTopsPerW).toBeGreaterThan(cost.topsPerW);
  });

  it('keeps a HERMES-like 14 nm PCM chip in the 2–30 TOPS/W band of 8-bit analog chips', () => {
    const topsPerW = evaluateNetwork(vgg8, HERMES_LIKE_PCM_14).topsPerW;
    expect(topsPerW).toBeGreaterThan(2);
    expect(topsPerW).toBeLessThan(30);
  });

  it('has interconnect and leakage shares in their typical bands', () => {
    expect(byId('neurosim-rram22.interconnectShare').within).toBe(true);
    expect(byId('neurosim-rram22.leakageShare').within).toBe(true);
  });
});

describe('calibration table', () => {
  it('lists every check with its anchor and source, all within their bands', () => {
    const text = formatCalibrationTable(table);
    for (const row of table) {
      expect(text).toContain(row.id);
      expect(row.source.length).toBeGreaterThan(0);
    }
    expect(table.filter((r) => !r.within).map((r) => r.id)).toEqual([]);
  });
});
