/**
 * NeuroSim export: the NetWork.csv rows of a known small network, the Param.cpp mapping of the demo's
 * genomes, traces whose weight × bit-plane products reproduce the design's own convolution outputs, the
 * errors for designs NeuroSim cannot run, and a whole export of a trained network on Fashion-MNIST.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { loadConfigFile } from '../../config/load';
import { exportRunDesignToNeuroSim } from '../../tasks/neurosimExport';
import {
  bitsLevel,
  compareNeuroSimRun,
  exportToNeuroSim,
  layersOfRows,
  neurosimAlignedSetting,
  neurosimOperations,
  parseNeuroSimSummary,
  inputTrace,
  levelBits,
  neurosimCommand,
  neurosimLayerRows,
  neurosimParams,
  neurosimProblems,
  NeuroSimExportError,
  weightTrace,
} from '../../interop/neurosim';
import { DEFAULT_LIBRARY, getDevice } from '../../hardware/library';
import type { HardwareConfig, LayerShape } from '../../hardware/types';
import type { FoldedLayer } from '../../hardware/folded';
import { digitalLinearOp } from '../../models/inference';
import { layerShapes } from '../../search/architecture';
import { decode } from '../../search/space/codec';
import { parseGenomeKey } from '../../search/space/keys';
import { resolveSearchSpace } from '../../search/space/parse';
import { initTensorEngine } from '../../tensor/backend';
import { randomFoldedLayer, randomInput, RRAM_128_CHIP } from '../hardware/analogSupport';
import { fashionImages, haveFashionMnist, trainedNet } from '../evaluator/evaluatorSupport';

beforeAll(async () => {
  await initTensorEngine({ backend: 'cpu', env: {} });
});

const shape = (s: Partial<LayerShape> & Pick<LayerShape, 'name' | 'kind'>): LayerShape => ({
  inChannels: 1,
  outChannels: 1,
  kernelH: 1,
  kernelW: 1,
  stride: 1,
  outH: 1,
  outW: 1,
  weightBits: 8,
  activationBits: 8,
  ...s,
});

const SMALL_NET: LayerShape[] = [
  shape({
    name: 'stem',
    kind: 'conv',
    inChannels: 1,
    outChannels: 16,
    kernelH: 3,
    kernelW: 3,
    stride: 2,
    outH: 14,
    outW: 14,
  }),
  shape({
    name: 'dw',
    kind: 'depthwise',
    inChannels: 16,
    outChannels: 16,
    kernelH: 3,
    kernelW: 3,
    stride: 2,
    outH: 7,
    outW: 7,
  }),
  shape({ name: 'pw', kind: 'conv', inChannels: 16, outChannels: 32, outH: 7, outW: 7 }),
  shape({ name: 'head', kind: 'dense', inChannels: 32, outChannels: 10 }),
];

const rram = getDevice(DEFAULT_LIBRARY, 'rram');

/** 32×32 arrays, 1 bit per cell: SMALL_NET's 32 outputs × 8 columns make 256-column tiles, ≥ 4 × 32 rows. */
const SMALL_CHIP: HardwareConfig = { ...RRAM_128_CHIP, rows: 32, cols: 32, bitsPerCell: 1 };

describe('NetWork.csv rows', () => {
  test('a small network: padded input maps, depthwise as a C·K² × C convolution, dense as 1×1', () => {
    expect(neurosimLayerRows(SMALL_NET)).toEqual([
      [30, 30, 1, 3, 3, 16, 0, 2],
      [16, 16, 16, 3, 3, 16, 0, 2],
      [7, 7, 16, 1, 1, 32, 0, 1],
      [1, 1, 32, 1, 1, 10, 0, 1],
    ]);
  });

  test("NeuroSim's own vector count (Chip.cpp, integer arithmetic) gives the design's output pixels", () => {
    for (const [i, [h, w, , kh, kw, , , s]] of neurosimLayerRows(SMALL_NET).entries()) {
      const vectors = Math.floor((Math.floor((h - kh + 1) / s) * (w - kw + 1)) / s);
      expect(vectors).toBe(SMALL_NET[i]!.outH * SMALL_NET[i]!.outW);
    }
  });

  test('the command line: bits, array rows twice, then weight/input trace pairs', () => {
    expect(neurosimCommand(SMALL_NET.slice(0, 2), { ...RRAM_128_CHIP, rows: 64 }, 'traces', 1)).toEqual([
      './main',
      'NetWork.csv',
      '8',
      '8',
      '64',
      '64',
      'traces/weight0.csv',
      'traces/image1/input0.csv',
      'traces/weight1.csv',
      'traces/image1/input1.csv',
    ]);
  });
});

describe('Param.cpp mapping of genomes', () => {
  const byName = (params: { name: string; value: string }[]) =>
    Object.fromEntries(params.map((p) => [p.name, p.value]));

  test('the demo front (examples/quick.yaml): device, node, array, ADC, bits per cell, columns per ADC', async () => {
    const config = await loadConfigFile(path.join(__dirname, '../../examples/quick.yaml'));
    const space = resolveSearchSpace(config.space);
    const mapped = ['2222020002001301', '0212000020101011', '0221000130000011'].map((key) => {
      const candidate = decode(space, parseGenomeKey(key));
      const hw = candidate.hardware;
      const device = getDevice(DEFAULT_LIBRARY, hw.device);
      const layers = layerShapes(candidate.architecture, candidate.quantization);
      const problems = neurosimProblems(layers, hw, device);
      const p = byName(neurosimParams(hw, device));
      // every Param.cpp knob follows the decoded hardware genes
      expect(p.cellBit).toBe(String(device.family === 'sram' ? 1 : hw.bitsPerCell));
      expect(p.levelOutput).toBe(String(2 ** hw.adcBits));
      expect(p.SARADC).toBe(hw.adcType === 'sar' ? 'true' : 'false');
      expect(p.numColMuxed).toBe(String(hw.colsPerAdc));
      expect(p.technode).toBe(String(hw.techNode));
      expect(p.numColSubArray).toBe(String(hw.cols));
      return { hw, p, problems };
    });
    expect(mapped[0]!.problems).toEqual([]);
    // 0212000020101011 (FeFET 22 nm, 64×64, 4-bit weights, 2 b/cell, widest layer 48): NeuroSim V1.4 stopped
    // on its export with "SubArray Size is too large" (docs/neurosim-export.md), so the export refuses it
    expect(mapped[1]!.hw).toMatchObject({ device: 'fefet', rows: 64, bitsPerCell: 2 });
    expect(mapped[1]!.problems).toEqual([
      expect.stringMatching(/^hardware\.rows: .*→ 128 columns.*≤ 32 rows/),
    ]);
    expect(mapped[1]!.p).toMatchObject({
      memcelltype: '3',
      cellBit: '2',
      levelOutput: '16',
      SARADC: 'false',
    });
    // 2222020002001301 is the demo's retrained design: RRAM 45 nm, 64×64, 1 b/cell, 8-bit SAR, 2 columns/ADC
    expect(mapped[0]!.hw).toMatchObject({ device: 'rram', techNode: 45, rows: 64, bitsPerCell: 1 });
    expect(mapped[0]!.p).toMatchObject({
      memcelltype: '2',
      cellBit: '1',
      levelOutput: '256',
      SARADC: 'true',
      numColMuxed: '2',
      technode: '45',
      numColSubArray: '64',
      resistanceOn: '100000',
      resistanceOff: '100000*17',
    });
  });

  test('SRAM is memcelltype 1 with one bit per cell and no resistances; PCM is the 1T1R cell with its own', () => {
    const sram = byName(
      neurosimParams(
        { ...RRAM_128_CHIP, device: 'sram', bitsPerCell: 2 },
        getDevice(DEFAULT_LIBRARY, 'sram'),
      ),
    );
    expect(sram).toMatchObject({ memcelltype: '1', cellBit: '1' });
    expect(sram.resistanceOn).toBeUndefined();
    const pcm = byName(
      neurosimParams({ ...RRAM_128_CHIP, device: 'pcm' }, getDevice(DEFAULT_LIBRARY, 'pcm')),
    );
    // hardware/devices.ts pcm preset: Ron 40 kΩ, on/off 12.5, 250 ns read pulse
    expect(pcm).toMatchObject({
      memcelltype: '2',
      resistanceOn: '40000',
      resistanceOff: '40000*12.5',
      readPulseWidth: '2.5e-7',
    });
    const fefet = byName(
      neurosimParams(
        { ...RRAM_128_CHIP, device: 'fefet', adcType: 'flash' },
        getDevice(DEFAULT_LIBRARY, 'fefet'),
      ),
    );
    expect(fefet).toMatchObject({ memcelltype: '3', SARADC: 'false' });
    const pipelined = byName(neurosimParams({ ...RRAM_128_CHIP, executionMode: 'pipelined' }, rram));
    expect(pipelined).toMatchObject({ pipeline: 'true', novelMapping: 'false', operationmode: '2' });
    expect(byName(neurosimParams(RRAM_128_CHIP, rram)).pipeline).toBe('false');
  });
});

describe('NeuroSim results', () => {
  // NeuroSim V1.4's output for the demo's design 2222020002001301 on test image 0 (docs/neurosim-export.md)
  const output = readFileSync(path.join(__dirname, 'neurosim-v1.4-output.txt'), 'utf8');

  test('the summary of a real run: area, latency, energy, TOPS/W, tiles and per-layer figures', () => {
    const summary = parseNeuroSimSummary(output);
    expect(summary.areaMm2).toBeCloseTo(458.241, 3);
    expect(summary.latencyS).toBeCloseTo(522440e-9, 12);
    expect(summary.dynamicEnergyJ).toBeCloseTo(1.83071e-6, 11);
    expect(summary.leakageEnergyJ).toBeCloseTo(1.93217e-7, 12);
    expect(summary.energyJ).toBeCloseTo(1.83071e-6 + 1.93217e-7, 11);
    expect(summary.topsPerW).toBeCloseTo(7.76064, 5);
    expect(summary.tilesPerLayer).toEqual([1, 1, 1, 1, 1, 1, 2, 1]);
    expect(summary.layerLatencyS).toHaveLength(8);
    expect(summary.layerDynamicEnergyJ).toHaveLength(8);
    expect(summary.areaBreakdownMm2.adc).toBeCloseTo(13.9156, 4);
    // NeuroSim's own TOPS/W: its operation count over (dynamic + leakage) · ζ 1.22 (main.cpp)
    const rows = [
      [30, 30, 1, 3, 3, 16, 0, 2],
      [14, 14, 16, 1, 1, 48, 0, 1],
      [16, 16, 48, 3, 3, 48, 0, 2],
      [7, 7, 48, 1, 1, 32, 0, 1],
      [9, 9, 32, 3, 3, 32, 0, 1],
      [10, 10, 32, 3, 3, 64, 0, 2],
      [6, 6, 64, 3, 3, 64, 0, 1],
      [1, 1, 64, 1, 1, 10, 0, 1],
    ] as const;
    const ops = neurosimOperations(
      rows.map((r) => [...r] as [number, number, number, number, number, number, number, number]),
    );
    expect(ops / (summary.energyJ * 1.22) / 1e12).toBeCloseTo(summary.topsPerW, 3);
  });

  test('an output that stopped early is refused, and a missing one names run.sh', async () => {
    expect(() => parseNeuroSimSummary('ERROR!: RRAM-CIM is not supported beyond 22 nm!\n')).toThrow(
      /no Summary section/,
    );
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-neurosim-'));
    await expect(compareNeuroSimRun(dir, 2)).rejects.toThrow(
      /neurosim-image2\.txt: not found; run .*run\.sh <NeuroSIM directory> 2 first/,
    );
    await fs.rm(dir, { recursive: true, force: true });
  });

  test("rows read back: NeuroSim's layers have the design's output sizes; the aligned setting is what NeuroSim is given", () => {
    const rows = neurosimLayerRows(SMALL_NET);
    expect(layersOfRows(rows, 8, 8).map((l) => [l.kind, l.inChannels, l.outH, l.outW])).toEqual([
      ['conv', 1, 14, 14],
      ['conv', 16, 7, 7],
      ['conv', 16, 7, 7],
      ['dense', 32, 1, 1],
    ]);
    const aligned = neurosimAlignedSetting(
      rows,
      SMALL_NET,
      { ...RRAM_128_CHIP, dacBits: 2, techNode: 45 },
      rram,
    );
    expect(aligned.hw).toMatchObject({ dacBits: 1, architecture: 'neurosim' });
    // Param.cpp: readVoltage 0.51 V at 45 nm
    expect(aligned.libraryConfig).toEqual({
      devices: { rram: { differentialPairs: false, cellAreaF2: 64.5, readVoltageV: 0.51 } },
    });
  });
});

describe('traces', () => {
  test('bit planes round-trip every level, signed (two’s complement) and unsigned', () => {
    for (const bits of [4, 8]) {
      for (let v = -(2 ** (bits - 1) - 1); v <= 2 ** (bits - 1) - 1; v++) {
        const planes = levelBits(v, bits, true);
        expect(planes).toHaveLength(bits);
        expect(bitsLevel(planes, true)).toBe(v);
      }
      for (let v = 0; v < 2 ** bits; v++) expect(bitsLevel(levelBits(v, bits, false), false)).toBe(v);
    }
    // hook.py dec2bin(−0.5, 8): sign bit then 1000000 → −128 + 64
    expect(levelBits(-64, 8, true)).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
  });

  /** Σ_rows weightTrace · decoded input levels, scaled back, for every output pixel and channel. */
  function fromTraces(layer: FoldedLayer, input: tf.Tensor): Float32Array {
    const s = layer.shape;
    const levels = Int32Array.from(input.dataSync(), (x) => Math.round(x / layer.inputScale));
    const [, inH, inW] = input.shape;
    const weights = weightTrace(layer);
    const planes = inputTrace(layer, levels, inH ?? 1, inW ?? 1);
    const bits = s.activationBits;
    const vectors = s.outH * s.outW;
    const out = new Float32Array(vectors * s.outChannels);
    for (let v = 0; v < vectors; v++) {
      for (let o = 0; o < s.outChannels; o++) {
        let sum = 0;
        weights.forEach((row, r) => {
          const x = bitsLevel(Array.from(planes[r]!.subarray(v * bits, (v + 1) * bits)), layer.inputSigned);
          sum += row[o]! * 2 ** (s.weightBits - 1) * x;
        });
        out[v * s.outChannels + o] = sum * layer.inputScale * layer.weightScale[o]!;
      }
    }
    return out;
  }

  test.each([
    ['conv 3×3 stride 2 (odd map: TensorFlow pads after)', 'conv', 7, 3, 5, 2, false],
    ['conv 3×3 stride 1, signed inputs', 'conv', 6, 4, 3, 1, true],
    ['depthwise 3×3 stride 2 (block-diagonal)', 'depthwise', 7, 5, 5, 2, false],
    ['dense', 'dense', 1, 12, 7, 1, false],
  ] as const)(
    '%s: weight × bit-plane products equal the design’s own layer output',
    (_label, kind, size, cin, cout, stride, signed) => {
      const rng = new Rng(18);
      const out = kind === 'dense' ? 1 : Math.ceil(size / stride);
      const channels = kind === 'depthwise' ? cin : cout;
      const layer = randomFoldedLayer(
        rng,
        {
          name: kind,
          kind,
          inChannels: cin,
          outChannels: channels,
          kernelH: kind === 'dense' ? 1 : 3,
          kernelW: kind === 'dense' ? 1 : 3,
          stride,
          outH: out,
          outW: out,
          weightBits: 6,
          activationBits: 5,
        },
        signed,
      );
      const input = randomInput(rng, layer, kind === 'dense' ? [1, cin] : [1, size, size, cin]);
      const expected = digitalLinearOp(layer, input).dataSync();
      const got = fromTraces(layer, input);
      expect(got.length).toBe(expected.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-4);
      if (kind === 'depthwise') {
        // off the block diagonal every weight is zero
        weightTrace(layer).forEach((row, r) =>
          row.forEach((w, o) => {
            if (Math.floor(r / 9) !== o) expect(w).toBe(0);
          }),
        );
      }
      input.dispose();
    },
  );
});

describe('designs NeuroSim cannot run', () => {
  test('each problem names the field and the fix', () => {
    const mram = getDevice(DEFAULT_LIBRARY, 'mram');
    expect(neurosimProblems(SMALL_NET, { ...RRAM_128_CHIP, device: 'mram' }, mram)).toEqual([
      expect.stringMatching(/^hardware\.device: "mram".*no NeuroSim cell type/),
    ]);
    expect(neurosimProblems(SMALL_NET, { ...SMALL_CHIP, techNode: 14 }, rram)).toEqual([
      expect.stringMatching(/^hardware\.techNode: NeuroSim V1\.4 refuses RRAM .* 14 nm.*22 nm or above/),
    ]);
    const mixed = SMALL_NET.map((l, i) => ({ ...l, weightBits: i === 0 ? 4 : 8 }));
    expect(neurosimProblems(mixed, SMALL_CHIP, rram)).toEqual([
      expect.stringMatching(/^quantization\.\*\.weightBits: .*one weight precision.*granularity: network/),
    ]);
    const fourBit = SMALL_NET.map((l) => ({ ...l, weightBits: 2 }));
    expect(neurosimProblems(fourBit, { ...SMALL_CHIP, rows: 8, bitsPerCell: 4 }, rram)).toEqual([
      expect.stringMatching(/^hardware\.bitsPerCell: 4 bits per cell exceed the 2-bit weights/),
    ]);
    // 32 outputs × 2 columns (4-bit weights, 2 bits per cell) → 64-column tiles, too narrow for 64-row arrays
    const narrow = SMALL_NET.map((l) => ({ ...l, weightBits: 4 }));
    expect(neurosimProblems(narrow, { ...RRAM_128_CHIP, rows: 64, bitsPerCell: 2 }, rram)).toEqual([
      expect.stringMatching(
        /^hardware\.rows: .*32 outputs × 2 columns per weight → 64 columns.*arrays of ≤ 16 rows/,
      ),
    ]);
    // SRAM and FeFET run at 7 nm
    expect(
      neurosimProblems(
        SMALL_NET,
        { ...SMALL_CHIP, device: 'fefet', techNode: 7 },
        getDevice(DEFAULT_LIBRARY, 'fefet'),
      ),
    ).toEqual([]);
  });

  test('the export refuses before writing anything', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-neurosim-'));
    const request = {
      network: trainedNet,
      hardware: { ...RRAM_128_CHIP, device: 'mram' } as HardwareConfig,
      images: new Float32Array(0),
      imageCount: 1,
      outDir: path.join(out, 'export'),
      source: {},
    };
    await expect(exportToNeuroSim(request)).rejects.toThrow(NeuroSimExportError);
    await expect(exportToNeuroSim(request)).rejects.toThrow(
      /hardware\.device: "mram"[\s\S]*images: 0 images given/,
    );
    await expect(fs.access(path.join(out, 'export'))).rejects.toThrow();
    await fs.rm(out, { recursive: true, force: true });
  });

  test('a run design without a retrained model: the error lists the designs that can be exported', async () => {
    const run = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-neurosim-run-'));
    await fs.mkdir(path.join(run, 'final', '0212000020101011', 'model'), { recursive: true });
    await expect(exportRunDesignToNeuroSim({ runDir: run, designKey: '2101302030003301' })).rejects.toThrow(
      /designKey: 2101302030003301 has no retrained model .*export one of the retrained designs: 0212000020101011/,
    );
    await fs.rm(run, { recursive: true, force: true });
  });

  test("a front design by its genome needs a key of the run's space and the trained supernet", async () => {
    const run = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-neurosim-run-'));
    await fs.copyFile(path.join(__dirname, '../../examples/quick.yaml'), path.join(run, 'config.yaml'));
    await expect(exportRunDesignToNeuroSim({ runDir: run, designKey: 'zz' })).rejects.toThrow(
      /designKey: "zz" is not a design of this run's search space .*use a key from `imcnas results/,
    );
    await expect(exportRunDesignToNeuroSim({ runDir: run, designKey: '2222020002001301' })).rejects.toThrow(
      /designKey: 2222020002001301 has no retrained model and the run has no trained supernet .*supernet/,
    );
    await fs.rm(run, { recursive: true, force: true });
  });
});

const withData = haveFashionMnist ? describe : describe.skip;

withData('a whole export of a trained network on Fashion-MNIST test images', () => {
  test('files, rows, first-layer traces equal to the image pixels, run.sh command', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-neurosim-'));
    const data = await fashionImages('test', 0, 2);
    // 64 outputs × 3 columns (6-bit weights, 2 bits per cell) → 256-column tiles: 64-row arrays fit
    const hw: HardwareConfig = { ...RRAM_128_CHIP, rows: 64, cols: 64, dacBits: 2 };
    const result = await exportToNeuroSim({
      network: trainedNet,
      hardware: hw,
      images: data.images,
      imageCount: 2,
      labels: data.labels,
      outDir: out,
      source: { test: true },
    });
    const layers = trainedNet.layers.map((l) => l.shape);
    expect((await fs.readFile(path.join(out, 'NetWork.csv'), 'utf8')).trim().split('\n')).toEqual(
      neurosimLayerRows(layers).map((r) => r.join(',')),
    );
    for (const name of ['Param.cpp.patch', 'param.json', 'imcnas.json', 'run.sh'])
      await expect(fs.access(path.join(out, name))).resolves.toBeUndefined();
    expect(result.approximations.some((n) => n.startsWith('dacBits 2'))).toBe(true);
    expect(result.inputBitDensity).toBeGreaterThan(0);
    expect(result.inputBitDensity).toBeLessThan(1);
    expect(result.params.find((p) => p.name === 'inputtoggle')?.value).toBe(
      result.inputBitDensity.toFixed(4),
    );
    const imcnas = JSON.parse(await fs.readFile(path.join(out, 'imcnas.json'), 'utf8')) as {
      design: { areaMm2: number; energyJ: number };
      asNeuroSimRuns: { hardware: HardwareConfig; energyJ: number };
    };
    expect(imcnas.design.areaMm2).toBeGreaterThan(0);
    expect(imcnas.design.energyJ).toBeGreaterThan(0);
    expect(imcnas.asNeuroSimRuns.hardware.dacBits).toBe(1);

    // first layer input = the image's bytes (inputScale 1/255, unsigned), unfolded with 'same' padding
    const first = trainedNet.layers[0]!;
    const text = await fs.readFile(path.join(out, 'traces', 'image1', 'input0.csv'), 'utf8');
    const rows = text
      .trim()
      .split('\n')
      .map((line) => line.split(',').map(Number));
    const bits = first.shape.activationBits;
    const k = first.shape.kernelH;
    const centre = Math.floor(k / 2) * k + Math.floor(k / 2); // (channel 0, ky, kx) = centre tap
    // TensorFlow 'same' padding: the odd padding pixel goes after, so the first tap starts at padTop
    const { stride, outH, outW } = first.shape;
    const padTop = Math.floor(Math.max((outH - 1) * stride + k - 28, 0) / 2);
    const image = data.images.subarray(28 * 28, 2 * 28 * 28);
    expect(first.inputSigned).toBe(false);
    let checked = 0;
    for (let oy = 0; oy < outH; oy += 3) {
      for (let ox = 0; ox < outW; ox += 2) {
        const v = oy * outW + ox;
        const pixel = image[(oy * stride + 1 - padTop) * 28 + (ox * stride + 1 - padTop)]!;
        const level = bitsLevel(rows[centre]!.slice(v * bits, (v + 1) * bits), false);
        expect(level).toBe(Math.min(Math.round(pixel / first.inputScale), 2 ** bits - 1));
        if (level > 0) checked++;
      }
    }
    // the image is not blank where it was read
    expect(checked).toBeGreaterThan(5);
    expect(rows[0]!.length).toBe(first.shape.outH * first.shape.outW * bits);

    const params = JSON.parse(await fs.readFile(path.join(out, 'param.json'), 'utf8')) as {
      images: { labels: number[] };
      command: string;
    };
    expect(params.images.labels).toEqual(Array.from(data.labels));
    expect(params.command).toBe(neurosimCommand(layers, hw, 'traces').join(' '));
    const script = await fs.readFile(path.join(out, 'run.sh'), 'utf8');
    expect(script).toContain(neurosimCommand(layers, hw, 'traces', '$IMAGE').join(' '));
    expect((await fs.stat(path.join(out, 'run.sh'))).mode & 0o111).not.toBe(0);
    await fs.rm(out, { recursive: true, force: true });
  });
});
