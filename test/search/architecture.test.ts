import { layerShapes, type OperatorName } from '../../search/architecture';
import { decode } from '../../search/space/codec';
import { buildLayout } from '../../search/space/layout';
import { resolveSearchSpace } from '../../search/space/parse';
import { sampleMany } from './space/support';

describe('layerShapes', () => {
  it('lists every weight layer with its shape for a known candidate', () => {
    const space = resolveSearchSpace({
      network: {
        stem: { channels: 8 },
        stages: [
          { blocks: 2, widths: [8], stride: 1 },
          { blocks: 2, widths: [16], stride: 2 },
        ],
        operators: ['conv3', 'dwsep5', 'mbconv3_e6', 'skip'],
        head: { channels: 32 },
      },
      quantization: { weightBits: [4, 8], activationBits: [6], granularity: 'stage' },
    });
    const layout = buildLayout(space);
    const genome = sampleMany(space, 1, 1)[0];
    const ops = ['mbconv3_e6', 'skip', 'dwsep5', 'conv3'];
    layout.blockSlots.forEach(
      (slot, i) => (genome[slot.operatorGene] = slot.operators.indexOf(ops[i] as OperatorName)),
    );
    const { architecture, quantization } = decode(space, genome);
    const shapes = layerShapes(architecture, quantization).map(
      (l) =>
        `${l.name} ${l.kind} ${l.inChannels}→${l.outChannels} k${l.kernelH} s${l.stride} ${l.outH}×${l.outW}`,
    );
    expect(shapes).toEqual([
      'stem conv 1→8 k3 s1 28×28',
      'stage0.block0.expand conv 8→48 k1 s1 28×28',
      'stage0.block0.depthwise depthwise 48→48 k3 s1 28×28',
      'stage0.block0.project conv 48→8 k1 s1 28×28',
      'stage1.block0.depthwise depthwise 8→8 k5 s2 14×14',
      'stage1.block0.pointwise conv 8→16 k1 s1 14×14',
      'stage1.block1.conv conv 16→16 k3 s1 14×14',
      'head.conv conv 16→32 k1 s1 14×14',
      'head.classifier dense 32→10 k1 s1 1×1',
    ]);
    expect(architecture.blocks[0].residual).toBe(true); // mbconv, stride 1, 8 → 8
    expect(architecture.blocks[1]).toMatchObject({
      operator: 'skip',
      inChannels: 8,
      outChannels: 8,
      stride: 1,
    });
    expect(quantization.blocks[1]).toBeNull();
  });
});
