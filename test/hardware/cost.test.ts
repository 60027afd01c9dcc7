import type { AreaBreakdown, EnergyBreakdown } from '../../hardware/cost';
import { constraintViolations, satisfiesConstraints } from '../../hardware/constraints';
import { evaluateNetwork, meanCyclesPerTransfer } from '../../hardware/cost';
import { buildHardwareLibrary } from '../../hardware/schema';
import { DEFAULT_LIBRARY } from '../../hardware/library';
import { mobileNetLike20, vgg8Cifar10 } from '../../hardware/networks';
import {
  TECH_NODES,
  accessTransistorOnOhm,
  leakagePowerDensityWPerMm2,
  wordLineDriveS,
} from '../../hardware/technology';
import type { AdcType, HardwareConfig, TechNode } from '../../hardware/types';

const base: HardwareConfig = {
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
const vgg8 = vgg8Cifar10();
const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

function expectIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
}

describe('network totals', () => {
  const cost = evaluateNetwork(vgg8, base, undefined, { perLayer: true });

  it('breakdowns add up to the totals', () => {
    expect(sum(cost.energyBreakdown as unknown as Record<string, number>)).toBeCloseTo(cost.energyJ, 15);
    expect(sum(cost.areaBreakdown as unknown as Record<string, number>)).toBeCloseTo(cost.areaMm2, 9);
    for (const value of Object.values(cost.energyBreakdown as EnergyBreakdown))
      expect(value).toBeGreaterThanOrEqual(0);
    for (const value of Object.values(cost.areaBreakdown as AreaBreakdown))
      expect(value).toBeGreaterThanOrEqual(0);
  });

  it('derives every metric from whole-network totals, not averages of layers', () => {
    const layers = cost.layers ?? [];
    expect(layers).toHaveLength(vgg8.length);
    const layerEnergy = layers.reduce((a, l) => a + l.energyJ, 0);
    expect(layerEnergy / cost.energyJ).toBeCloseTo(1, 12);
    expect(layers.reduce((a, l) => a + l.ops, 0)).toBe(cost.ops);
    expect(cost.ops).toBe(2 * cost.macs);
    expect(cost.topsPerW).toBeCloseTo(cost.ops / cost.energyJ / 1e12, 9);
    expect(cost.topsPerMm2).toBeCloseTo(cost.ops / (cost.latencyS * cost.areaMm2) / 1e12, 9);
    expect(cost.edp).toBeCloseTo(cost.energyJ * cost.latencyS, 20);
    expect(cost.edap).toBeCloseTo(cost.energyJ * cost.latencyS * cost.areaMm2, 20);
    const meanOfLayers = layers.reduce((a, l) => a + l.topsPerW, 0) / layers.length;
    expect(Math.abs(meanOfLayers - cost.topsPerW) / cost.topsPerW).toBeGreaterThan(0.01);
  });

  it('counts the same arrays, tiles and conversions with and without per-layer detail', () => {
    const lean = evaluateNetwork(vgg8, base);
    expect(lean.layers).toBeUndefined();
    expect(lean.energyJ).toBe(cost.energyJ);
    expect(lean.arrays).toBe(cost.layers?.reduce((a, l) => a + l.mapping.arrays, 0));
    expect(lean.conversions).toBe(cost.layers?.reduce((a, l) => a + l.conversions, 0));
    expect(lean.tiles).toBe(cost.layers?.reduce((a, l) => a + l.tiles, 0));
    expect(lean.utilization).toBeGreaterThan(0);
    expect(lean.utilization).toBeLessThanOrEqual(1);
  });

  it('is deterministic and leaves its inputs untouched', () => {
    const layersCopy = JSON.parse(JSON.stringify(vgg8));
    const hwCopy = { ...base };
    const a = evaluateNetwork(vgg8, base);
    evaluateNetwork(mobileNetLike20(), { ...base, device: 'sram', bitsPerCell: 1 });
    const b = evaluateNetwork(vgg8, base);
    expect(b).toEqual(a);
    expect(vgg8).toEqual(layersCopy);
    expect(base).toEqual(hwCopy);
  });
});

describe('latency and execution modes', () => {
  it('sums layers layer-by-layer and takes the slowest layer when pipelined', () => {
    const serial = evaluateNetwork(vgg8, base, undefined, { perLayer: true });
    const piped = evaluateNetwork(vgg8, { ...base, executionMode: 'pipelined' });
    const layerTimes = (serial.layers ?? []).map((l) => l.latencyS);
    expect(serial.latencyS).toBeCloseTo(
      layerTimes.reduce((a, b) => a + b, 0),
      15,
    );
    expect(piped.latencyS).toBeCloseTo(Math.max(...layerTimes), 15);
    expect(piped.latencyLayerByLayerS).toBeCloseTo(serial.latencyS, 15);
    expect(piped.topsPerMm2).toBeGreaterThan(serial.topsPerMm2);
  });

  it('duplicates the weights of slow layers into a tile budget to shorten the pipeline interval', () => {
    const needed = evaluateNetwork(vgg8, base).requiredTiles;
    const plain = evaluateNetwork(vgg8, { ...base, executionMode: 'pipelined', tiles: 2 * needed });
    const duplicated = evaluateNetwork(
      vgg8,
      { ...base, executionMode: 'pipelined', tiles: 2 * needed, weightDuplication: true },
      undefined,
      { perLayer: true },
    );
    expect(duplicated.pipelineIntervalS).toBeLessThan(plain.pipelineIntervalS / 2);
    expect(duplicated.requiredTiles).toBeLessThanOrEqual(2 * needed);
    expect(duplicated.tiles).toBe(2 * needed);
    expect(duplicated.fitsCapacity).toBe(true);
    const conv2 = duplicated.layers?.find((l) => l.name === 'conv2');
    const fc2 = duplicated.layers?.find((l) => l.name === 'fc2');
    expect(conv2?.copies).toBeGreaterThan(1);
    expect(fc2?.copies).toBe(1);
    // Same work, split over copies: the conversions (and so ADC energy) do not change.
    expect(duplicated.conversions).toBe(plain.conversions);
    expect(duplicated.energyBreakdown.adc).toBeCloseTo(plain.energyBreakdown.adc, 15);
  });
});

describe('component formulas (NeuroSim V1.4 sources in the comments of hardware/)', () => {
  it('H-tree transfers take ⌈t/clock⌉ cycles over distances from half the chip side to the side', () => {
    expect(meanCyclesPerTransfer(0.5)).toBe(1);
    expect(meanCyclesPerTransfer(1)).toBe(1);
    expect(meanCyclesPerTransfer(2)).toBeCloseTo(2, 10);
    // [0.75, 1.5]: a third at 1 cycle, two thirds at 2
    expect(meanCyclesPerTransfer(1.5)).toBeCloseTo(5 / 3, 10);
    expect(meanCyclesPerTransfer(5)).toBeGreaterThan(meanCyclesPerTransfer(4));
  });

  it('SRAM access transistor: 1.77 · 0.85 V / (791.9 A/m · 22 nm) = 86 kΩ at 22 nm (NeuroSim LP devices)', () => {
    expect(accessTransistorOnOhm(22)).toBeCloseTo(86_400, -3);
    expect(accessTransistorOnOhm(7)).toBeLessThan(accessTransistorOnOhm(22));
  });

  it('leakage density and word-line drive grow as NeuroSim V1.4 measures them', () => {
    expect(leakagePowerDensityWPerMm2(22)).toBeCloseTo(34e-6, 10);
    expect(leakagePowerDensityWPerMm2(7)).toBeGreaterThan(leakagePowerDensityWPerMm2(22));
    expect(wordLineDriveS(45, 128)).toBeCloseTo(3.3e-9, 15);
    expect(wordLineDriveS(45, 64)).toBeLessThan(wordLineDriveS(45, 128));
  });
});

describe('capacity constraint', () => {
  it('reports a chip too small for the weights', () => {
    const fits = evaluateNetwork(vgg8, base);
    const tight = evaluateNetwork(vgg8, { ...base, tiles: fits.requiredTiles - 1 });
    expect(tight.fitsCapacity).toBe(false);
    expect(tight.availableTiles).toBe(fits.requiredTiles - 1);
    expect(tight.requiredTiles).toBe(fits.requiredTiles);
    const roomy = evaluateNetwork(vgg8, { ...base, tiles: fits.requiredTiles + 10 });
    expect(roomy.fitsCapacity).toBe(true);
    expect(roomy.tiles).toBe(fits.requiredTiles + 10);
    expect(roomy.areaMm2).toBeGreaterThan(fits.areaMm2);
  });
});

describe('monotonicity', () => {
  it('more ADC bits cost more ADC energy and area (SAR and flash, every ADC model)', () => {
    for (const architecture of ['neurosim', 'isaac']) {
      for (const adcType of ['sar', 'flash'] as AdcType[]) {
        const costs = [1, 2, 3, 4, 5, 6, 7, 8].map((adcBits) =>
          evaluateNetwork(vgg8, { ...base, architecture, adcType, adcBits }),
        );
        expectIncreasing(costs.map((c) => c.energyBreakdown.adc));
        expectIncreasing(costs.map((c) => c.areaBreakdown.adc));
      }
    }
    const survey = buildHardwareLibrary({ architectures: { neurosim: { adcModel: 'survey' } } });
    const costs = [2, 4, 6, 8, 10].map((adcBits) => evaluateNetwork(vgg8, { ...base, adcBits }, survey));
    expectIncreasing(costs.map((c) => c.energyBreakdown.adc));
    expectIncreasing(costs.map((c) => c.areaBreakdown.adc));
  });

  it('a larger node costs more energy, and more area from 22 nm up; FinFET nodes grow again as NeuroSim V1.4 does', () => {
    for (const device of ['rram', 'sram', 'pcm', 'fefet', 'mram']) {
      const nodes = TECH_NODES.filter((node) => device !== 'rram' || node >= 22).reverse();
      const costs = nodes.map((techNode) =>
        evaluateNetwork(vgg8, { ...base, device, bitsPerCell: 1, techNode }),
      );
      // SRAM with SAR ADCs from 22 nm up only: at FinFET nodes the access transistor's on-resistance falls
      // 86 → 24–31 kΩ (NeuroSim V1.4 Technology.cpp), so the SAR's column-current term grows; with flash
      // ADCs SRAM energy falls with the node all the way (NeuroSim: 35.6 µJ at 22 nm, 16.3 µJ at 7 nm,
      // bench/fixtures/neurosim/sram{22,7}_c1_a128_flash5_lbl.json).
      // Dynamic energy (C·V²) at every node; with leakage from 22 nm up (FinFET devices leak 5 × more per
      // mm², NeuroSim V1.4: hardware/technology.ts leakagePowerDensityWPerMm2).
      const kept = costs.filter((_, i) => device !== 'sram' || nodes[i] >= 22);
      expectIncreasing(kept.map((c) => c.energyJ - c.energyBreakdown.leakage));
      expectIncreasing(costs.filter((_, i) => nodes[i] >= 22).map((c) => c.energyJ));
      expectIncreasing(costs.filter((_, i) => nodes[i] >= 22).map((c) => c.areaMm2));
    }
    expectIncreasing(
      [...TECH_NODES]
        .reverse()
        .map(
          (techNode) =>
            evaluateNetwork(vgg8, { ...base, device: 'sram', bitsPerCell: 1, adcType: 'flash', techNode })
              .energyJ,
        ),
    );
    // NeuroSim V1.4, VGG-8 on FeFET: 148.0 mm² at 22 nm, 264.5 mm² at 7 nm (its 7 nm circuits are laid out on
    // fin pitches; bench/fixtures/neurosim/fefet{22,7}_c2_a128_flash5_lbl.json).
    const at = (techNode: TechNode) =>
      evaluateNetwork(vgg8, { ...base, device: 'fefet', bitsPerCell: 2, adcType: 'flash', techNode }).areaMm2;
    expect(at(7)).toBeGreaterThan(at(22));
  });

  it('more bits per cell need fewer arrays', () => {
    const arrays = [1, 2, 3, 4].map((bitsPerCell) => evaluateNetwork(vgg8, { ...base, bitsPerCell }).arrays);
    for (let i = 1; i < arrays.length; i++) expect(arrays[i]).toBeLessThan(arrays[i - 1]);
  });

  it('flash (multi-level sense amplifier) against SAR follows NeuroSim V1.4: faster and smaller at 4–6 bits, cheaper up to 5 bits, costlier at 6', () => {
    // NeuroSim V1.4, VGG-8 on 22 nm RRAM, ADC energy per conversion flash/SAR: 0.041/0.076 pJ (4 bits),
    // 0.077/0.092 (5), 0.159/0.109 (6) (bench/fixtures/neurosim/rram22_c2_a128_{flash,sar}{4,5,6}_lbl.json).
    for (const adcBits of [4, 5, 6]) {
      const sar = evaluateNetwork(vgg8, { ...base, adcBits, adcType: 'sar' });
      const flash = evaluateNetwork(vgg8, { ...base, adcBits, adcType: 'flash' });
      expect(flash.latencyS).toBeLessThan(sar.latencyS);
      expect(flash.areaBreakdown.adc).toBeLessThan(sar.areaBreakdown.adc);
      if (adcBits <= 5) expect(flash.energyBreakdown.adc).toBeLessThan(sar.energyBreakdown.adc);
      else expect(flash.energyBreakdown.adc).toBeGreaterThan(sar.energyBreakdown.adc);
    }
  });

  it('busier inputs, more columns per ADC and differential pairs cost what they should', () => {
    const sparse = evaluateNetwork(vgg8, base, undefined, { inputBitDensity: 0.1 });
    const dense = evaluateNetwork(vgg8, base, undefined, { inputBitDensity: 0.5 });
    expect(dense.energyJ).toBeGreaterThan(sparse.energyJ);
    const shared = evaluateNetwork(vgg8, { ...base, colsPerAdc: 32 });
    expect(shared.latencyS).toBeGreaterThan(evaluateNetwork(vgg8, base).latencyS);
    expect(shared.areaBreakdown.adc).toBeLessThan(evaluateNetwork(vgg8, base).areaBreakdown.adc);
    expect(shared.conversions).toBe(evaluateNetwork(vgg8, base).conversions);
    const single = buildHardwareLibrary({ devices: { rram: { differentialPairs: false } } });
    expect(evaluateNetwork(vgg8, base, single).conversions * 2).toBe(evaluateNetwork(vgg8, base).conversions);
  });

  it('a lower supply voltage saves energy', () => {
    expect(evaluateNetwork(vgg8, { ...base, supplyVoltage: 0.7 }).energyJ).toBeLessThan(
      evaluateNetwork(vgg8, base).energyJ,
    );
  });
});

describe('errors', () => {
  it('names an unknown device with the known ones', () => {
    expect(() => evaluateNetwork(vgg8, { ...base, device: 'graphene' })).toThrow(
      /hardware\.device: unknown device "graphene"; known devices: rram, pcm/,
    );
  });
});

describe('per-layer figures', () => {
  it('gives every layer its area, utilization and metrics', () => {
    const cost = evaluateNetwork(vgg8, base, undefined, { perLayer: true });
    for (const layer of cost.layers ?? []) {
      expect(layer.areaMm2).toBeGreaterThan(0);
      expect(layer.utilization).toBeGreaterThan(0);
      expect(layer.utilization).toBeLessThanOrEqual(1);
      expect(layer.topsPerMm2).toBeCloseTo(layer.ops / (layer.latencyS * layer.areaMm2) / 1e12, 9);
      expect(layer.edap).toBeCloseTo(layer.energyJ * layer.latencyS * layer.areaMm2, 25);
    }
    const tilesArea = (cost.layers ?? []).reduce((a, l) => a + l.areaMm2, 0);
    const layout = DEFAULT_LIBRARY.architectures.get('neurosim')?.layoutEfficiency ?? NaN;
    const globalBufferArea = cost.areaBreakdown.globalBuffer * layout;
    expect((tilesArea + globalBufferArea) / cost.areaMm2).toBeCloseTo(1, 9);
  });
});

describe('constraints', () => {
  it('lists capacity and limit violations with the values', () => {
    const cost = evaluateNetwork(vgg8, base);
    expect(constraintViolations(cost, { areaMm2: { max: 1e6 } })).toEqual([]);
    expect(satisfiesConstraints(cost, { areaMm2: { max: 1 } })).toBe(false);
    expect(constraintViolations(cost, { areaMm2: { max: 1 } })).toEqual([
      expect.stringMatching(/^constraints\.areaMm2: the chip needs [\d.]+ mm², above the 1 mm² limit$/),
    ]);
    const tight = evaluateNetwork(vgg8, { ...base, tiles: 2 });
    expect(constraintViolations(tight)).toEqual([
      `hardware.tiles: the weights need ${tight.requiredTiles} tiles but the chip has 2; raise hardware.tiles, use more bits per cell or larger arrays`,
    ]);
  });
});
