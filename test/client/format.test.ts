import { describeFinal, describeFront, describePendingWork, withSiPrefix } from '../../client/format';
import { describeChip, describeDesign, describeNetwork } from '../../search/describe';
import { largestNetworkGenome } from '../../search/space/adapters';
import { decode } from '../../search/space/codec';
import { resolveSearchSpace } from '../../search/space/parse';
import { randomSourceFrom, sampleGenome } from '../../search/space/sampling';

const details = (value: unknown) => ({
  payloads: [{ data: new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8')) }],
});

describe('work in flight', () => {
  it("shows each pending activity's last heartbeat message and any retry", () => {
    expect(
      describePendingWork([
        {
          activityType: { name: 'retrainCandidate' },
          heartbeatDetails: details({ step: 300, total: 859, message: 'epoch 2/4 step 300/859 loss 0.3100' }),
          attempt: 1,
        },
        {
          activityType: { name: 'evaluateFinalModel' },
          heartbeatDetails: details({ done: 1024, total: 12000, message: 't = 3600 s: samples 1–5 of 5' }),
          attempt: 2,
        },
        { activityType: { name: 'evaluateRobustness' }, heartbeatDetails: null, attempt: 1 },
        {
          activityType: { name: 'writeResults' },
          heartbeatDetails: { payloads: [{ data: new Uint8Array([123, 34]) }] },
        },
      ]),
    ).toEqual([
      '    retrainCandidate: epoch 2/4 step 300/859 loss 0.3100',
      '    evaluateFinalModel: t = 3600 s: samples 1–5 of 5 (attempt 2)',
      '    evaluateRobustness: starting',
      '    writeResults: working',
    ]);
    expect(describePendingWork(undefined)).toEqual([]);
  });
});

describe('numbers and designs in words', () => {
  it('writes energy and latency in engineering notation', () => {
    expect(withSiPrefix(2.356e-6, 'J')).toBe('2.36 µJ');
    expect(withSiPrefix(6.297e-4, 's')).toBe('630 µs');
    expect(withSiPrefix(1.456e-3, 's')).toBe('1.46 ms');
    expect(withSiPrefix(0.9999, 's')).toBe('1 s');
    expect(withSiPrefix(0, 'J')).toBe('0 J');
  });

  it('shows each front design and final design with its network and chip, and old results without', () => {
    const description = {
      network: 'conv3/32 conv3/64, w8a8',
      chip: 'RRAM 45 nm, 64×64, 1 b/cell, 8-bit SAR ADC',
    };
    const front = describeFront(
      ['accuracy', 'edap'],
      [
        { key: 'a1', genome: [1], objectives: [0.9, 6.7e-7], description },
        { key: 'b2', genome: [2], objectives: [0.8, 3e-7] },
      ],
    );
    expect(front).toEqual([
      expect.stringContaining('design'),
      expect.stringMatching(/^ {2}a1 +90\.00 % +6\.700e-7$/),
      '      network conv3/32 conv3/64, w8a8',
      '      chip    RRAM 45 nm, 64×64, 1 b/cell, 8-bit SAR ADC',
      expect.stringMatching(/^ {2}b2 +80\.00 %/),
    ]);
    const hardware = {
      accuracy: 0.9,
      energy: 2.356e-6,
      latency: 6.297e-4,
      area: 45.5,
      edap: 6.746e-7,
      edp: 1.5e-9,
      topsPerWatt: 1.37,
      topsPerMm2: 1.13e-5,
      capacityExcess: 0,
    };
    const final = describeFinal(
      {
        key: 'a1',
        testAccuracyDigital: 0.91,
        testAccuracyMean: 0.9,
        testAccuracyStd: 0.002,
        testAccuracyP5: 0.897,
        reportAtSeconds: 3600,
        testDrift: [],
        samples: 5,
        exportDir: '/runs/x/final/a1/model',
        hardware,
      },
      description,
    );
    expect(final[1]).toBe('    network conv3/32 conv3/64, w8a8');
    expect(final[4]).toBe(
      '    cost: energy 2.36 µJ/image, latency 630 µs, area 45.5 mm², EDAP 6.746e-7 J·s·mm², 1.37 TOPS/W, 1.13e-5 TOPS/mm²',
    );
  });
});

describe('design descriptions', () => {
  it("names the largest network of the default space and its chip's settings", () => {
    const space = resolveSearchSpace({});
    const genome = largestNetworkGenome(
      space,
      sampleGenome(
        space,
        randomSourceFrom(() => 0.3),
      ),
    );
    const { network, chip } = describeDesign(decode(space, genome));
    expect(network.split(' ').filter((block) => block.includes('/'))).toHaveLength(
      decode(space, genome).architecture.blocks.filter((block) => block.family !== 'skip').length,
    );
    expect(chip).toMatch(
      /^(RRAM|PCM|FeFET|SRAM|STT-MRAM) \d+ nm, \d+×\d+, \d b\/cell, \d+-bit (SAR|flash) ADC/,
    );
  });

  it('collapses one precision into a suffix and shows mixed precision per block', () => {
    const architecture = {
      blocks: [
        { operator: 'conv3', family: 'conv', outChannels: 32 },
        { operator: 'skip', family: 'skip', outChannels: 32 },
        { operator: 'mbconv3_e3', family: 'mbconv', outChannels: 64 },
      ],
    } as unknown as Parameters<typeof describeNetwork>[0];
    const bits = (w: number, a: number) => ({ weightBits: w, activationBits: a });
    const same = { stem: bits(8, 8), head: bits(8, 8), blocks: [bits(4, 4), null, bits(4, 4)] };
    const mixed = { stem: bits(8, 8), head: bits(8, 8), blocks: [bits(4, 4), null, bits(8, 6)] };
    expect(describeNetwork(architecture, same)).toBe('conv3/32 mbconv3_e3/64, w4a4');
    expect(describeNetwork(architecture, mixed)).toBe('conv3/32@w4a4 mbconv3_e3/64@w8a6');
    expect(
      describeChip({
        device: 'rram-neurram',
        rows: 128,
        cols: 256,
        adcBits: 5,
        adcType: 'flash',
        dacBits: 2,
        bitsPerCell: 2,
        colsPerAdc: 8,
        techNode: 22,
      }),
    ).toBe('RRAM (neurram) 22 nm, 128×256, 2 b/cell, 5-bit flash ADC per 8 columns, 2-bit DAC');
  });
});
