/** Search spaces and helpers shared by the search-space tests. */
import { Rng } from '../../../common/rng';
import type { LayerShape } from '../../../hardware/types';
import { type ArchitectureSpec } from '../../../search/architecture';
import { type Genome } from '../../../search/space/codec';
import { type GenomeLayout } from '../../../search/space/layout';
import { resolveSearchSpace } from '../../../search/space/parse';
import { sampleGenome } from '../../../search/space/sampling';
import { type SearchSpace, type SearchSpaceInput } from '../../../search/space/schema';

export const defaultSpace = resolveSearchSpace({});

/** Every option switched away from its default, to exercise the other branches of the layout. */
export const richSpaceInput = {
  network: {
    stem: { channels: 8, kernel: 5, stride: 2 },
    stages: [
      { blocks: 3, widths: [24, 8, 16], stride: 1 },
      { blocks: 3, widths: [16, 32], stride: 2 },
      { blocks: 2, widths: [32, 64], stride: 2 },
    ],
    operators: ['conv3', 'conv7', 'dwsep3', 'dwsep5', 'mbconv3_e1', 'mbconv3_e6', 'mbconv5_e3', 'skip'],
    widthChoice: 'block',
    head: { channels: 128 },
  },
  quantization: { weightBits: [2, 4, 8], activationBits: [4, 8], granularity: 'layer' },
  hardware: { supplyVoltage: [0.6, 0.7, 0.8, 0.9, 1.0], tiles: [64, 256, 1024, 4096], rows: [64, 128, 256] },
} satisfies SearchSpaceInput;
export const richSpace = resolveSearchSpace(richSpaceInput);

export const networkGranularitySpace = resolveSearchSpace({
  network: { stages: [{ blocks: 4, widths: [16, 32], stride: 2 }], operators: ['mbconv3_e3', 'skip'] },
  quantization: { granularity: 'network' },
  hardware: { crossbar: [64, 128], colsPerAdc: [1, 8, 128], devices: ['rram', 'rram-isaac', 'sram'] },
});

export const spaces: Array<[string, SearchSpace]> = [
  ['default', defaultSpace],
  ['rich (per-block widths, per-layer bits, voltage, tiles)', richSpace],
  ['network bits, square arrays, presets', networkGranularitySpace],
];

export function sampleMany(space: SearchSpace, count: number, seed: number): Genome[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => sampleGenome(space, rng));
}

/** A uniformly random integer vector (not necessarily feasible or canonical). */
export function randomVector(layout: GenomeLayout, rng: Rng): Genome {
  return layout.cardinalities.map((cardinality) => rng.int(cardinality));
}

export function expectNear(count: number, draws: number, probability: number) {
  const sigma = Math.sqrt(draws * probability * (1 - probability));
  expect(Math.abs(count - draws * probability)).toBeLessThan(5 * sigma);
}

/** The channel chain and spatial sizes agree layer to layer ('same' padding, strides); empty when they do. */
export function layerChainProblems(architecture: ArchitectureSpec, layers: LayerShape[]): string[] {
  const problems: string[] = [];
  const [height, width, channels] = architecture.inputShape;
  if (layers[0].name !== 'stem' || layers[0].inChannels !== channels)
    problems.push('the first layer is not the stem');
  let h = height;
  let w = width;
  layers.forEach((layer, i) => {
    if (i > 0 && layer.inChannels !== layers[i - 1].outChannels) {
      problems.push(`${layer.name}: inChannels ${layer.inChannels} ≠ ${layers[i - 1].name} outChannels`);
    }
    if (layer.kind === 'depthwise' && layer.inChannels !== layer.outChannels)
      problems.push(`${layer.name}: depthwise in ≠ out`);
    if (layer.kind === 'dense') {
      if (layer.outH !== 1 || layer.outW !== 1) problems.push(`${layer.name}: dense output is not 1×1`);
      return;
    }
    // Every conv applies its stride to the running size (an expand conv has stride 1: same resolution).
    if (layer.outH !== Math.ceil(h / layer.stride) || layer.outW !== Math.ceil(w / layer.stride)) {
      problems.push(
        `${layer.name}: output ${layer.outH}×${layer.outW} from ${h}×${w} with stride ${layer.stride}`,
      );
    }
    h = layer.outH;
    w = layer.outW;
  });
  const last = layers[layers.length - 1];
  if (last.name !== 'head.classifier' || last.outChannels !== architecture.head.numClasses) {
    problems.push('the last layer is not the classifier');
  }
  return problems;
}
