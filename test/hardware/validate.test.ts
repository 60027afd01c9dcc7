import { evaluateNetwork } from '../../hardware/cost';
import { DEFAULT_LIBRARY } from '../../hardware/library';
import { vgg8Cifar10 } from '../../hardware/networks';
import { HardwareLibraryError, buildHardwareLibrary, hardwareConfigSchema } from '../../hardware/schema';
import type { HardwareConfig } from '../../hardware/types';
import {
  allDeviceRules,
  createHardwareRules,
  deviceRules,
  requiredTiles,
  validateHardware,
  validateLayers,
} from '../../hardware/validate';

const valid: HardwareConfig = {
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

function problemsOf(config: unknown): string[] {
  try {
    buildHardwareLibrary(config);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(HardwareLibraryError);
    return (error as HardwareLibraryError).problems;
  }
}

describe('validateHardware', () => {
  it('accepts a valid chip', () => {
    expect(validateHardware(valid)).toEqual([]);
    expect(hardwareConfigSchema.safeParse(valid).success).toBe(true);
  });

  it('rejects 2 bits per SRAM cell, naming the field and the fix', () => {
    const [problem] = validateHardware({ ...valid, device: 'sram', bitsPerCell: 2 });
    expect(problem).toMatch(/^hardware\.bitsPerCell: sram stores 1 bit per cell, got 2 .*; use 1$/);
  });

  it('rejects RRAM below 22 nm as NeuroSim does', () => {
    const problems = validateHardware({ ...valid, techNode: 14 });
    expect(problems).toEqual([
      expect.stringMatching(/^hardware\.techNode: .*NeuroSim refuses RRAM below 22 nm.*use 22 nm or larger/),
    ]);
  });

  it('lists every out-of-range field', () => {
    const problems = validateHardware({
      ...valid,
      device: 'rram',
      rows: 3,
      adcType: 'flash',
      adcBits: 10,
      colsPerAdc: 256,
      bitsPerCell: 5,
      supplyVoltage: 1.2,
      weightDuplication: true,
    });
    const fields = problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        'hardware.rows',
        'hardware.adcBits',
        'hardware.colsPerAdc',
        'hardware.bitsPerCell',
        'hardware.supplyVoltage',
        'hardware.weightDuplication',
      ]),
    );
    expect(problems.find((p) => p.startsWith('hardware.adcBits'))).toMatch(/1023 comparators/);
    expect(problems.find((p) => p.startsWith('hardware.supplyVoltage'))).toMatch(/nominal VDD 0.85 V/);
  });

  it("accepts NeuroSim's IFM pipeline speed-up only for a pipeline without the tile-budget duplication", () => {
    expect(validateHardware({ ...valid, executionMode: 'pipelined', pipelineSpeedUp: 'ifm' })).toEqual([]);
    const problems = validateHardware({ ...valid, pipelineSpeedUp: 'ifm' });
    expect(problems).toEqual([expect.stringMatching(/^hardware\.pipelineSpeedUp: only balances a pipeline/)]);
    const both = validateHardware({
      ...valid,
      executionMode: 'pipelined',
      pipelineSpeedUp: 'ifm',
      weightDuplication: true,
      tiles: 100,
    });
    expect(both).toEqual([expect.stringMatching(/^hardware\.pipelineSpeedUp: the tile-budget/)]);
  });

  it('names unknown devices, architectures and nodes with the alternatives', () => {
    const problems = validateHardware({
      ...valid,
      device: 'memristor',
      architecture: 'puma',
      techNode: 28 as never,
    });
    expect(problems[0]).toMatch(/^hardware\.device: unknown device "memristor"; use one of rram, pcm/);
    expect(problems[1]).toMatch(
      /^hardware\.architecture: unknown architecture "puma"; use one of neurosim, isaac/,
    );
    expect(problems[2]).toMatch(/^hardware\.techNode: 28 nm is not in the node table/);
  });
});

describe('validateLayers', () => {
  it('accepts VGG-8 and names bad fields', () => {
    expect(validateLayers(vgg8Cifar10())).toEqual([]);
    const [conv1] = vgg8Cifar10();
    const problems = validateLayers([
      { ...conv1, outChannels: 0 },
      { ...conv1, kind: 'depthwise', inChannels: 8, outChannels: 16 },
      { ...conv1, weightBits: 32 },
    ]);
    expect(problems).toEqual([
      'layers[0].outChannels: must be a positive integer, got 0',
      'layers[1].outChannels: a depthwise layer keeps its channels (8 in), got 16 out',
      expect.stringMatching(/^layers\[2\]\.weightBits: must be an integer from 1 to 16, got 32/),
    ]);
  });
});

describe('device rules as data', () => {
  it('offers RRAM at 22 nm and above only, SRAM and MRAM at 1 bit per cell', () => {
    expect(deviceRules('rram').nodes).toEqual([130, 90, 65, 45, 32, 22]);
    expect(deviceRules('rram').bitsPerCell).toEqual([1, 2, 3, 4]);
    expect(deviceRules('sram').bitsPerCell).toEqual([1]);
    expect(deviceRules('mram').bitsPerCell).toEqual([1]);
    expect(deviceRules('fefet').bitsPerCell).toEqual([1, 2, 3, 4, 5]);
    expect(allDeviceRules().map((r) => r.device)).toContain('rram-isaac');
  });

  it('matches the search space HardwareRules shape and the cost model capacity', () => {
    const rules = createHardwareRules();
    expect(rules.nodesFor('rram')).not.toContain(14);
    expect(rules.bitsPerCellFor('sram')).toEqual([1]);
    expect(rules.maxSupplyVoltage(22)).toBe(0.85);
    const layers = vgg8Cifar10();
    const need = rules.capacityNeed(layers, valid);
    expect(need.tiles).toBe(evaluateNetwork(layers, valid).requiredTiles);
    expect(need.tiles).toBe(requiredTiles(layers, valid).tiles);
    expect(need.explanation).toMatch(/arrays of 128×128 in \d+ tiles of 64 arrays/);
  });
});

describe('buildHardwareLibrary (config overrides)', () => {
  it('overrides a preset parameter and the cost follows', () => {
    const library = buildHardwareLibrary({ devices: { rram: { ronOhm: 50e3 } } });
    expect(library.devices.get('rram')?.ronOhm).toBe(50e3);
    expect(DEFAULT_LIBRARY.devices.get('rram')?.ronOhm).toBe(100e3);
    const layers = vgg8Cifar10();
    // Lower Ron → more column current → more ADC energy (NeuroSim c/R′ term)
    expect(evaluateNetwork(layers, valid, library).energyBreakdown.adc).toBeGreaterThan(
      evaluateNetwork(layers, valid).energyBreakdown.adc,
    );
  });

  it('adds a device that extends a preset', () => {
    const library = buildHardwareLibrary({
      devices: { 'rram-mine': { extends: 'rram', onOffRatio: 30, maxBitsPerCell: 3 } },
    });
    const mine = library.devices.get('rram-mine');
    expect(mine).toMatchObject({ name: 'rram-mine', family: 'rram', onOffRatio: 30, ronOhm: 100e3 });
    expect(validateHardware({ ...valid, device: 'rram-mine', bitsPerCell: 4 }, library)[0]).toMatch(
      /^hardware\.bitsPerCell: rram-mine stores 1–3 bits per cell, got 4/,
    );
  });

  it('merges nested architecture groups', () => {
    const library = buildHardwareLibrary({
      architectures: { neurosim: { layoutEfficiency: 2, tileBuffer: { bytes: 32768 } } },
    });
    const arch = library.architectures.get('neurosim');
    expect(arch?.layoutEfficiency).toBe(2);
    expect(arch?.tileBuffer.bytes).toBe(32768);
    expect(arch?.tileBuffer.kind).toBe('sram');
  });

  it('rejects bad overrides with the field and the fix', () => {
    expect(problemsOf({ devices: { rram: { ronOhm: -5 } } })).toEqual([
      'devices.rram.ronOhm: must be ≥ 100, got -5',
    ]);
    expect(problemsOf({ devices: { rram: { ronOm: 5 } } })).toEqual([
      'devices.rram.ronOm: unknown field (did you mean "ronOhm"?)',
    ]);
    expect(problemsOf({ devices: { rram: { minNode: 14 } } })).toEqual([
      'devices.rram.minNode: NeuroSim refuses RRAM below 22 nm, got 14 nm; use 22 or larger',
    ]);
    expect(problemsOf({ devices: { sram: { maxBitsPerCell: 2 } } })).toEqual([
      'devices.sram.maxBitsPerCell: sram stores 1 bit per cell, got 2 (NeuroSim V1.4 Param.cpp: SRAM and STT-MRAM cells are binary); use 1',
    ]);
    expect(problemsOf({ devices: { mine: { extends: 'rram' } } })).toEqual([
      expect.stringMatching(
        /^devices\.mine: a rram device's name starts with "rram-".*rename it to rram-mine/,
      ),
    ]);
    expect(problemsOf({ devices: { 'pcm-new': { ronOhm: 1e4 } } })).toEqual([
      expect.stringMatching(
        /^devices\.pcm-new: a new device needs "extends": "<preset>" or every field \(missing: family, /,
      ),
    ]);
    expect(problemsOf({ devices: { 'rram-x': { extends: 'unobtainium' } } })[0]).toMatch(
      /^devices\.rram-x\.extends: unknown device "unobtainium"/,
    );
    expect(problemsOf({ architectures: { neurosim: { inputBitDensity: 2 } } })).toEqual([
      'architectures.neurosim.inputBitDensity: must be ≤ 1, got 2',
    ]);
  });
});
