/**
 * The ONNX export of a folded network, read back by the project's own ONNX reader: the same weight layers
 * with the same bits, so the cost model gives the design the same numbers as the search did.
 */
import { evaluateNetwork } from '../../../hardware/cost';
import { RRAM_128_CHIP } from '../../hardware/analogSupport';
import type { FoldedNetwork } from '../../../models/folded';
import { foldedNetworkToOnnx } from '../../../models/onnx/export';
import { onnxLayerShapes } from '../../../models/onnx/layers';
import { decodeOnnxModel } from '../../../models/onnx/model';
import type { OperatorName } from '../../../search/architecture';
import { decode, type Genome } from '../../../search/space/codec';
import { buildLayout } from '../../../search/space/layout';
import { resolveSearchSpace } from '../../../search/space/parse';
import { seededFoldedNetwork } from './seededNetwork';

const SPACE = resolveSearchSpace({
  network: {
    stem: { channels: 8, stride: 2 },
    stages: [
      { blocks: 2, widths: [8], stride: 1 },
      { blocks: 3, widths: [12], stride: 2 },
    ],
    operators: ['conv5', 'dwsep3', 'mbconv3_e3', 'mbconv5_e1', 'skip'],
    head: { channels: 16 },
  },
  quantization: { weightBits: [4, 8], activationBits: [4, 6, 8], granularity: 'layer' },
});

/** Every operator family, residual shortcuts, a strided conv, per-layer bits, and random folded weights. */
function foldedNetwork(): FoldedNetwork {
  const layout = buildLayout(SPACE);
  const genome: Genome = new Array<number>(layout.length).fill(0);
  const operators: OperatorName[] = ['dwsep3', 'mbconv3_e3', 'conv5', 'mbconv5_e1', 'skip'];
  layout.blockSlots.forEach((slot, i) => {
    genome[slot.operatorGene] = layout.genes[slot.operatorGene]!.values.indexOf(operators[i]!);
  });
  // Mixed bits: every other bits gene takes its second value.
  layout.genes.forEach((gene, i) => {
    if (/Bits/.test(gene.name) && i % 2 === 0) genome[i] = 1;
  });
  const { architecture, quantization } = decode(SPACE, genome);
  return seededFoldedNetwork(architecture, quantization, 11);
}

const CHIP = RRAM_128_CHIP;

describe('ONNX export', () => {
  it('re-imports as the same layers with the same bits, and the same cost', () => {
    const net = foldedNetwork();
    const model = decodeOnnxModel(foldedNetworkToOnnx(net), 'exported');
    expect(model.opsetVersion).toBe(17);
    const [height, width, channels] = net.architecture.inputShape;
    expect(model.inputs).toEqual([{ name: 'images', shape: [null, channels, height, width] }]);
    const imported = onnxLayerShapes(model, { inputShape: [channels, height, width] });
    const original = net.layers.map((layer) => layer.shape);
    expect(new Set(original.map((s) => s.kind))).toEqual(new Set(['conv', 'depthwise', 'dense']));
    expect(new Set(original.map((s) => s.weightBits)).size).toBeGreaterThan(1);
    expect(imported.layers).toEqual(original);
    expect(imported.outputShape).toEqual([net.architecture.head.numClasses]);
    expect(imported.digitalOps).toMatchObject({ Clip: original.length, GlobalAveragePool: 1, Flatten: 1 });
    expect(evaluateNetwork(imported.layers, CHIP)).toEqual(evaluateNetwork(original, CHIP));
  });

  it('writes the kernels in ONNX layout: a conv weight [cout, cin, kh, kw], a depthwise one [c, 1, kh, kw]', () => {
    const net = foldedNetwork();
    const model = decodeOnnxModel(foldedNetworkToOnnx(net), 'exported');
    const stem = net.layers[0]!;
    const [kh, kw, cin, cout] = stem.kernelShape as [number, number, number, number];
    const weight = model.initializers.get('stem.weight')!;
    expect(weight.dims).toEqual([cout, cin, kh, kw]);
    // Element [o, i, y, x] is the folded kernel's [y, x, i, o].
    const [o, i, y, x] = [cout - 1, cin - 1, kh - 1, 0];
    expect(weight.data[((o * cin + i) * kh + y) * kw + x]).toBe(
      stem.kernel[((y * kw + x) * cin + i) * cout + o],
    );
    const depthwise = net.layers.find((l) => l.shape.kind === 'depthwise')!;
    const dw = model.initializers.get(`${depthwise.shape.name}.weight`)!;
    expect(dw.dims).toEqual([
      depthwise.shape.outChannels,
      1,
      depthwise.shape.kernelH,
      depthwise.shape.kernelW,
    ]);
    const node = model.nodes.find((n) => n.name === depthwise.shape.name)!;
    expect(node.attributes.get('group')).toBe(depthwise.shape.outChannels);
  });
});
