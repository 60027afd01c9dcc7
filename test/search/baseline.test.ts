/**
 * The baseline section of a run configuration: defaults (vgg and resnet on RRAM 128×128 with 6-bit ADCs),
 * explicit networks, and clear errors that name the field and the fix before anything runs.
 */
import { validateConfig } from '../../config/load';
import { ConfigError } from '../../common/validation';
import { layerShapes, macsPerImage, validateArchitecture } from '../../search/architecture';
import { baselineDesign, baselineNetworks, BASELINE_PRESETS } from '../../search/baseline';

const shape = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10 };

function problemsOf(baseline: unknown): string[] {
  try {
    validateConfig({ name: 'b', baseline });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('config.baseline', () => {
  it('is absent unless asked for, and an empty section means vgg and resnet on the default chip', () => {
    expect(validateConfig({ name: 'b' }).baseline).toBeUndefined();
    const baseline = validateConfig({ name: 'b', baseline: {} }).baseline!;
    expect(baselineNetworks(baseline).map((n) => n.name)).toEqual(['vgg', 'resnet']);
    expect(baseline.chip).toEqual({
      device: 'rram',
      rows: 128,
      cols: 128,
      adcBits: 6,
      adcType: 'sar',
      dacBits: 1,
      bitsPerCell: 2,
      colsPerAdc: 8,
      techNode: 22,
    });
    expect(validateConfig({ name: 'b', baseline: { networks: [] } }).baseline!.networks).toEqual([]);
  });

  it('builds the presets as described: plain 3×3 convs (vgg), shortcuts where width and resolution stay (resnet), 8-bit', () => {
    const chip = validateConfig({ name: 'b', baseline: {} }).baseline!.chip;
    const vgg = baselineDesign(BASELINE_PRESETS.vgg, chip, shape);
    const resnet = baselineDesign(BASELINE_PRESETS.resnet, chip, shape);
    for (const design of [vgg, resnet]) {
      expect(validateArchitecture(design.candidate.architecture)).toEqual([]);
      expect(design.candidate.architecture.blocks.every((b) => b.operator === 'conv3')).toBe(true);
      expect(design.candidate.quantization.stem).toEqual({ weightBits: 8, activationBits: 8 });
      expect(design.candidate.hardware).toMatchObject({ device: 'rram', rows: 128, cols: 128, adcBits: 6 });
    }
    expect(vgg.candidate.architecture.blocks.map((b) => [b.outChannels, b.stride, b.residual])).toEqual([
      [32, 1, false],
      [32, 1, false],
      [64, 2, false],
      [64, 1, false],
    ]);
    expect(resnet.candidate.architecture.blocks.map((b) => b.residual)).toEqual([
      true,
      true,
      true,
      false,
      true,
      true,
    ]);
    const macs = (design: typeof vgg) =>
      macsPerImage(layerShapes(design.candidate.architecture, design.candidate.quantization));
    expect(macs(vgg)).toBe(5_447_872);
    expect(macs(resnet)).toBe(9_991_936);
    expect(vgg.key).toBe('baseline-vgg');
  });

  it('allows a shortcut on a conv block only where it is an identity (stride 1, in = out)', () => {
    const chip = validateConfig({ name: 'b', baseline: {} }).baseline!.chip;
    const { architecture } = baselineDesign(BASELINE_PRESETS.vgg, chip, shape).candidate;
    const withShortcut = (index: number) => ({
      ...architecture,
      blocks: architecture.blocks.map((b, i) => (i === index ? { ...b, residual: true } : b)),
    });
    expect(validateArchitecture(withShortcut(1))).toEqual([]);
    // Block 0 changes the width (16 → 32), block 2 strides: no identity shortcut possible.
    expect(validateArchitecture(withShortcut(0))).toEqual([
      'blocks[0] (conv3): residual true, expected false',
    ]);
    expect(validateArchitecture(withShortcut(2))).toEqual([
      'blocks[2] (conv3): residual true, expected false',
    ]);
  });

  it('accepts an explicit network beside a preset', () => {
    const config = validateConfig({
      name: 'b',
      baseline: {
        networks: [
          'vgg',
          {
            name: 'lenet-ish',
            stem: { channels: 6, kernel: 5 },
            stages: [{ blocks: 1, channels: 16, stride: 2, kernel: 5 }].map(({ kernel: _k, ...s }) => s),
            kernel: 5,
            headChannels: 32,
            weightBits: 4,
          },
        ],
        chip: { device: 'pcm', techNode: 14, bitsPerCell: 4, adcBits: 8 },
      },
    });
    const network = baselineNetworks(config.baseline)[1]!;
    const design = baselineDesign(network, config.baseline!.chip, shape);
    expect(design.candidate.architecture.blocks[0]).toMatchObject({ operator: 'conv5', outChannels: 16 });
    expect(design.candidate.architecture.head.convChannels).toBe(32);
    expect(design.candidate.quantization.head).toEqual({ weightBits: 4, activationBits: 8 });
    expect(design.candidate.hardware).toMatchObject({ device: 'pcm', techNode: 14, bitsPerCell: 4 });
  });

  it('names the field and the fix for every problem', () => {
    expect(
      problemsOf({
        networks: ['vgg', 'alexnet', { name: 'Bad Name', stem: { channels: 0 }, stages: [] }, 'vgg'],
        chip: { colsPerAdc: 256, rows: 100 },
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^baseline\.networks\[1\]: unknown baseline network "alexnet": use vgg or resnet/,
        ),
        expect.stringMatching(/^baseline\.networks\[2\]\.name: must be 1–40 lower-case letters/),
        expect.stringMatching(/^baseline\.networks\[2\]\.stem\.channels: must be ≥ 1, got 0/),
        expect.stringMatching(/^baseline\.networks\[2\]\.stages: needs at least 1 entries/),
        expect.stringMatching(/^baseline\.chip\.rows: must be a power of two from 8 to 1024/),
      ]),
    );
    expect(problemsOf({ networks: ['vgg', 'vgg'] })).toEqual([
      expect.stringMatching(
        /^baseline\.networks\[1\]: baseline name "vgg" is used twice \(networks\[0\] too\)/,
      ),
    ]);
    expect(problemsOf({ chip: { colsPerAdc: 256 } })).toEqual([
      'baseline.chip.colsPerAdc: 256 columns per ADC exceeds the 128 columns of an array: use at most 128',
    ]);
    expect(problemsOf({ chip: { techNode: 7 } })).toEqual([
      expect.stringMatching(
        /^baseline\.chip\.techNode: rram is not offered at 7 nm .*: use one of 130, 90, 65, 45, 32, 22 nm/,
      ),
    ]);
    expect(problemsOf({ chip: { device: 'sram', bitsPerCell: 2 } })).toEqual([
      expect.stringMatching(
        /^baseline\.chip\.bitsPerCell: sram cannot store 2 bits per cell .*: use one of 1/,
      ),
    ]);
    expect(
      problemsOf({
        networks: [{ name: 'x', stem: { channels: 8 }, stages: [{ blocks: 1, channels: 8 }], extra: 1 }],
      }),
    ).toEqual([expect.stringMatching(/^baseline\.networks\[0\]\.extra: unknown field/)]);
  });
});
