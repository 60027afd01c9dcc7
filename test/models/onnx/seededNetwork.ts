/** A folded network with seeded weights for a decoded path: the ONNX tests read its structure, not its accuracy. */
import { Rng } from '../../../common/rng';
import type { FoldedNetwork } from '../../../models/folded';
import { describePath } from '../../../models/pathTopology';
import type { ArchitectureSpec, QuantizationSpec } from '../../../search/architecture';

export function seededFoldedNetwork(
  architecture: ArchitectureSpec,
  quantization: QuantizationSpec,
  seed: number,
): FoldedNetwork {
  const rng = new Rng(seed);
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
  return {
    architecture,
    quantization,
    layers: describePath(architecture, quantization).map((layer) => {
      const { shape } = layer;
      const kernelShape =
        shape.kind === 'dense'
          ? [shape.inChannels, shape.outChannels]
          : shape.kind === 'depthwise'
            ? [shape.kernelH, shape.kernelW, shape.outChannels, 1]
            : [shape.kernelH, shape.kernelW, shape.inChannels, shape.outChannels];
      return {
        shape,
        kernel: random(kernelShape.reduce((a, b) => a * b, 1)),
        kernelShape,
        weightScale: new Float32Array(shape.outChannels).fill(0.01),
        bias: random(shape.outChannels),
        inputScale: 0.05,
        inputSigned: layer.inputSigned,
      };
    }),
  };
}
