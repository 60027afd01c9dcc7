/**
 * aihwkit export: the RPU configuration mapped from a design (noise model, converter, forward IOParameters,
 * tile sizes), what cannot map, the files written for a trained network (the ONNX weights divided by the
 * exported scales are the integer levels), and the refusals that come before anything is written.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeOnnxModel } from '../../models/onnx/model';
import {
  AihwkitExportError,
  aihwkitResolution,
  aihwkitRpuConfig,
  exportToAihwkit,
  type AihwkitConfigFile,
} from '../../interop/aihwkit';
import { exportRunDesignToAihwkit } from '../../tasks/aihwkitExport';
import { DEFAULT_LIBRARY, getDevice } from '../../hardware/library';
import { DEVICE_NOISE, noiseSettings } from '../../hardware/noise';
import type { HardwareConfig } from '../../hardware/types';
import { haveFashionMnist, trainedNet } from '../evaluator/evaluatorSupport';
import { foldedNetworkToJson } from '../../evaluator/serialize';
import { RRAM_128_CHIP } from '../hardware/analogSupport';

const PCM_CHIP: HardwareConfig = { ...RRAM_128_CHIP, device: 'pcm', adcBits: 6, bitsPerCell: 2 };

describe('the RPU configuration of a design', () => {
  test('PCM: PCMLikeNoiseModel with the preset on/off ratio, scales, drift compensation and converters', () => {
    const device = getDevice(DEFAULT_LIBRARY, 'pcm');
    const noise = noiseSettings({ programmingScale: 0.5, readNoiseScale: 2, driftScale: 0.25 });
    const { rpuConfig, mapping } = aihwkitRpuConfig(trainedNet, PCM_CHIP, device, noise);
    expect(rpuConfig.noise_model.class).toBe('PCMLikeNoiseModel');
    // g_min = g_max / on-off (12.5 for the pcm preset), g_max the 25 µS of aihwkit's PCM fit
    expect(rpuConfig.noise_model.g_converter).toEqual({
      class: 'SinglePairConductanceConverter',
      g_max: 25,
      g_min: 25 / device.onOffRatio!,
    });
    expect(rpuConfig.noise_model.kwargs).toMatchObject({
      prog_noise_scale: 0.5,
      read_noise_scale: 2,
      drift_scale: 0.25,
      t_0: 20,
      t_read: 250e-9,
    });
    expect(rpuConfig.drift_compensation).toBe('GlobalDriftCompensation');
    const bits = trainedNet.layers[0]!.shape.activationBits;
    expect(rpuConfig.forward.inp_res).toBeCloseTo(1 / (2 ** bits - 2), 12);
    expect(rpuConfig.forward.out_res).toBeCloseTo(1 / 62, 12); // 6-bit ADC
    expect(rpuConfig.forward.w_noise_type).toBe('NONE'); // PCM's read noise is the 1/f model
    expect(rpuConfig.mapping).toEqual({ digital_bias: true, max_input_size: 128, max_output_size: 128 });
    // every table row names an aihwkit source file
    expect(mapping.length).toBeGreaterThan(10);
    for (const row of mapping) expect(row.source).toMatch(/^src\/aihwkit\/.*\.py/);
    expect(mapping.find((r) => r.imcnas === 'hardware.adcBits')).toMatchObject({
      value: 6,
      aihwkit: 'forward.out_res',
    });
  });

  test("aihwkit's own defaults are reproduced by the resolution rule (7-bit DAC, 9-bit ADC)", () => {
    expect(aihwkitResolution(7)).toBe(1 / (2 ** 7 - 2));
    expect(aihwkitResolution(9)).toBe(1 / (2 ** 9 - 2));
  });

  test('RRAM: the Wan 2022 model, per-read noise as additive w_noise, output noise as out_noise', () => {
    const device = getDevice(DEFAULT_LIBRARY, 'rram');
    const noise = noiseSettings({ readNoiseSigma: 0.01, outputNoise: 0.04, driftCompensation: false });
    const { rpuConfig, cannotMap } = aihwkitRpuConfig(trainedNet, RRAM_128_CHIP, device, noise);
    expect(rpuConfig.noise_model.class).toBe('ReRamWan2022NoiseModel');
    expect(rpuConfig.noise_model.g_converter.g_max).toBe(40);
    expect(rpuConfig.forward).toMatchObject({
      w_noise: 0.01,
      w_noise_type: 'ADDITIVE_CONSTANT',
      out_noise: 0.04,
    });
    expect(rpuConfig.drift_compensation).toBeNull();
    expect(cannotMap.some((note) => note.startsWith('ReRAM relaxation'))).toBe(true);
  });

  test('an ideal ADC maps to infinite resolution; what cannot map is listed', () => {
    const device = getDevice(DEFAULT_LIBRARY, 'pcm');
    const ideal = aihwkitRpuConfig(trainedNet, PCM_CHIP, device, noiseSettings({ idealAdc: true }));
    expect(ideal.rpuConfig.forward.inp_res).toBe(-1);
    expect(ideal.rpuConfig.forward.out_res).toBe(-1);
    const { cannotMap } = aihwkitRpuConfig(trainedNet, PCM_CHIP, device, DEVICE_NOISE);
    const text = cannotMap.join('\n');
    // the 6-bit weights' 5 magnitude bits need 3 slices of 2 bits per cell
    expect(trainedNet.layers[0]!.shape.weightBits).toBe(6);
    expect(text).toMatch(/bitsPerCell 2: .*store their 6-bit weights over several cells \(bit slices/);
    expect(text).toMatch(/depthwise convolutions: .*groups = 1 only/);
    expect(text).toMatch(/dacBits 1: imcnas feeds inputs bit-serially/);
    expect(text).toMatch(/ADC range: imcnas calibrates/);
    expect(text).toMatch(/stuck-at faults/);
    expect(text).toMatch(/GlobalDriftCompensation reads each tile with one-hot inputs/);
  });
});

describe('the export directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-aihwkit-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('model.onnx and aihwkit.json: ONNX weights / exported scales are integer levels within ±maxLevel', async () => {
    const out = path.join(dir, 'export');
    const result = await exportToAihwkit({
      network: trainedNet,
      hardware: PCM_CHIP,
      driftSeconds: [1, 3600],
      outDir: out,
      source: { test: true },
    });
    expect(result.files).toEqual(['model.onnx', 'aihwkit.json']);
    const config = JSON.parse(await fs.readFile(path.join(out, 'aihwkit.json'), 'utf8')) as AihwkitConfigFile;
    expect(config.format).toBe('imcnas-aihwkit/1');
    expect(config.aihwkit.version).toBe('1.2.0');
    expect(config.driftSeconds).toEqual([1, 3600]);
    expect(config.hardware).toEqual(PCM_CHIP);
    expect(config.layers.map((l) => l.name)).toEqual(trainedNet.layers.map((l) => l.shape.name));
    const [h, w, c] = trainedNet.architecture.inputShape;
    expect(config.inputShape).toEqual([c, h, w]);

    const model = decodeOnnxModel(await fs.readFile(path.join(out, 'model.onnx')), 'model.onnx');
    for (const layer of config.layers) {
      const node = model.nodes.find((n) => n.name === layer.name)!;
      expect(['Conv', 'Gemm']).toContain(node.opType);
      expect(model.nodes.some((n) => n.name === `${layer.name}.input_clip`)).toBe(true);
      const weight = model.initializers.get(node.inputs[1]!)!;
      // Conv weights are [out, in, kh, kw]; Gemm's B is [in, out]
      const outChannels = layer.weightScale.length;
      const values = weight.data;
      let atTop = 0;
      for (let i = 0; i < values.length; i++) {
        const channel =
          node.opType === 'Gemm' ? i % outChannels : Math.floor(i / (values.length / outChannels));
        const level = values[i]! / layer.weightScale[channel]!;
        expect(Math.abs(level - Math.round(level))).toBeLessThan(1e-3);
        expect(Math.abs(Math.round(level))).toBeLessThanOrEqual(layer.maxLevel);
        if (Math.abs(Math.round(level)) === layer.maxLevel) atTop++;
      }
      // the converter maps the tile's largest |level| to g_max: the top level must be present
      expect(atTop).toBeGreaterThan(0);
      expect(layer.inputStep).toBe(trainedNet.layers.find((l) => l.shape.name === layer.name)!.inputScale);
    }
  });

  test('refuses an SRAM design, an unknown device and bad drift times before writing anything', async () => {
    const out = path.join(dir, 'never');
    const request = {
      network: trainedNet,
      hardware: { ...PCM_CHIP, device: 'sram' },
      driftSeconds: [-1],
      outDir: out,
      source: {},
    };
    await expect(exportToAihwkit(request)).rejects.toThrow(AihwkitExportError);
    await expect(exportToAihwkit(request)).rejects.toThrow(
      /hardware\.device: "sram" is SRAM[\s\S]*driftSeconds: give one or more times ≥ 0 s/,
    );
    await expect(
      exportToAihwkit({ ...request, hardware: { ...PCM_CHIP, device: 'unobtainium' } }),
    ).rejects.toThrow(/hardware\.device: /);
    await expect(fs.access(out)).rejects.toThrow();
  });

  test('a run design: the error names the designs that can be exported', async () => {
    const run = path.join(dir, 'run');
    await fs.mkdir(path.join(run, 'final', '0212000020101011', 'model'), { recursive: true });
    const failure = exportRunDesignToAihwkit({ runDir: run, designKey: '2101302030003301' });
    await expect(failure).rejects.toThrow(AihwkitExportError);
    await expect(exportRunDesignToAihwkit({ runDir: run, designKey: '2101302030003301' })).rejects.toThrow(
      /designKey: 2101302030003301 has no retrained model .*export one of the retrained designs: 0212000020101011/,
    );
  });

  const withData = haveFashionMnist ? test : test.skip;
  withData(
    'a retrained run design: its weights, hardware and the default drift times of issue 18',
    async () => {
      const run = path.join(dir, 'run');
      const model = path.join(run, 'final', '0212000020101011', 'model');
      await fs.mkdir(model, { recursive: true });
      await fs.writeFile(
        path.join(model, 'folded-network.json'),
        JSON.stringify(foldedNetworkToJson(trainedNet)),
      );
      await fs.writeFile(path.join(model, 'hardware.json'), JSON.stringify({ hardware: PCM_CHIP }));
      const result = await exportRunDesignToAihwkit({ runDir: run, designKey: '0212000020101011' });
      expect(result.outDir).toBe(path.join(run, 'export', '0212000020101011', 'aihwkit'));
      const config = JSON.parse(
        await fs.readFile(path.join(result.outDir, 'aihwkit.json'), 'utf8'),
      ) as AihwkitConfigFile;
      expect(config.driftSeconds).toEqual([1, 3600, 86400, 2592000]);
      expect(config.hardware).toEqual(PCM_CHIP);
      expect(config.source).toMatchObject({ designKey: '0212000020101011' });
      expect(config.layers[0]!.weightScale).toEqual(Array.from(trainedNet.layers[0]!.weightScale));
      await expect(fs.access(path.join(result.outDir, 'model.onnx'))).resolves.toBeUndefined();
    },
  );
});
