import { parseSearchSpace, resolveSearchSpace } from '../../../search/space/parse';
import { SearchSpaceSchema, formatIssues } from '../../../search/space/schema';
import { defaultSpace } from './support';

describe('SearchSpaceSchema', () => {
  it('fills defaults for everything and stays valid when its output is parsed again', () => {
    expect(defaultSpace.network.inputShape).toEqual([28, 28, 1]);
    expect(defaultSpace.network.numClasses).toBe(10);
    expect(defaultSpace.network.stages.length).toBeGreaterThan(0);
    expect(defaultSpace.quantization.granularity).toBe('stage');
    expect(defaultSpace.hardware.devices).toEqual(['rram', 'pcm', 'fefet', 'sram', 'mram']);
    expect(defaultSpace.hardware.rows).toEqual([32, 64, 128, 256, 512]);
    expect(defaultSpace.hardware.cols).toEqual([32, 64, 128, 256, 512]);
    expect(defaultSpace.hardware.techNode).toEqual([65, 45, 32, 22, 14, 7]);
    const again = SearchSpaceSchema.parse(JSON.parse(JSON.stringify(defaultSpace)));
    expect(again).toEqual(defaultSpace);
    // Defaults are fresh copies: changing one parsed space never changes the next.
    const first = resolveSearchSpace({});
    first.network.stages[0].widths.push(999);
    expect(resolveSearchSpace({}).network.stages[0].widths).not.toContain(999);
  });

  const badConfigs: Array<[string, unknown, RegExp]> = [
    [
      'an unknown key, listing the allowed ones',
      { hardware: { adcbits: [4] } },
      /^hardware: unknown key "adcbits": allowed keys are devices, .*adcBits/,
    ],
    [
      'a value outside a range',
      { hardware: { adcBits: [4, 16] } },
      /^hardware\.adcBits\[1\]: .*1 to 12.*got 16/,
    ],
    [
      'a crossbar size that is not a power of two',
      { hardware: { crossbar: [100] } },
      /^hardware\.crossbar\[0\]: .*power of two from 8 to 1024.*got 100/,
    ],
    [
      'an unknown operator',
      { network: { operators: ['conv3', 'conv9'] } },
      /^network\.operators\[1\]: unknown operator "conv9": choose from conv3/,
    ],
    [
      'a duplicate choice',
      { quantization: { weightBits: [4, 8, 4] } },
      /^quantization\.weightBits\[2\]: 4 is listed twice: remove the duplicate/,
    ],
    ['an empty list', { hardware: { dacBits: [] } }, /^hardware\.dacBits: give at least one/],
    [
      'crossbar together with rows',
      { hardware: { crossbar: [64], rows: [64] } },
      /^hardware\.crossbar: give either crossbar .* or rows and cols/,
    ],
    [
      'an unknown node',
      { hardware: { techNode: [28] } },
      /^hardware\.techNode\[0\]: technology node must be one of .*got 28/,
    ],
    [
      'an unknown device',
      { hardware: { devices: ['xram'] } },
      /^hardware\.devices\[0\]: unknown device "xram"/,
    ],
    [
      'only skip as operator',
      { network: { operators: ['skip'] } },
      /^network\.operators: add at least one operator other than skip/,
    ],
    [
      'a stage without blocks',
      { network: { stages: [{ blocks: 0, widths: [8] }] } },
      /^network\.stages\[0\]\.blocks: .*got 0/,
    ],
    [
      'columns per ADC wider than any array',
      { hardware: { cols: [64], colsPerAdc: [1, 128] } },
      /^hardware\.colsPerAdc\[1\]: 128 columns per ADC exceeds/,
    ],
    [
      'a granularity typo',
      { quantization: { granularity: 'block' } },
      /^quantization\.granularity: .*network, stage or layer/,
    ],
    [
      'a device without a feasible node (rules)',
      { hardware: { devices: ['rram'], techNode: [14, 7] } },
      /^hardware\.devices\[0\]: rram is offered at none of hardware\.techNode .*NeuroSim refuses RRAM below 22 nm \(DNN\+NeuroSim V1\.4 Technology\.cpp\): add one of/,
    ],
    [
      'a device the hardware library does not know',
      { hardware: { devices: ['rram', 'rram-neurram'] } },
      /^hardware\.devices\[1\]: unknown device rram-neurram: the hardware library has rram, .*add rram-neurram to the library's devices/,
    ],
    [
      'a supply voltage below what the cost model accepts',
      { hardware: { supplyVoltage: [0.4, 0.8] } },
      /^hardware\.supplyVoltage\[0\]: supply voltage \(V\) must be a number from 0\.5 to 1\.5, got 0\.4/,
    ],
    [
      'a device without a feasible bits-per-cell value (rules)',
      { hardware: { devices: ['sram'], bitsPerCell: [2, 4] } },
      /^hardware\.devices\[0\]: sram supports none of hardware\.bitsPerCell/,
    ],
  ];
  it.each(badConfigs)('rejects %s, naming the field and the fix', (_label, input, expected) => {
    const result = parseSearchSpace(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.some((problem) => expected.test(problem))).toBe(true);
  });

  it('reports every problem at once, and zod issues carry the path', () => {
    const input = { network: { numClasses: 1 }, hardware: { adcBits: [0], extra: true } };
    const result = parseSearchSpace(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(3);
    const raw = SearchSpaceSchema.safeParse(input);
    expect(raw.success).toBe(false);
    if (!raw.success) {
      expect(raw.error.issues.map((issue) => issue.path.join('.'))).toEqual(
        expect.arrayContaining(['network.numClasses', 'hardware.adcBits.0', 'hardware']),
      );
      expect(formatIssues(raw.error.issues, 'space')[0]).toMatch(/^space\.(network|hardware)/);
    }
    expect(() => resolveSearchSpace(input)).toThrow(/network\.numClasses/);
  });
});
