/**
 * The contract between a trained network and a chip. A subnet extracted from the supernet is exported as
 * a FoldedNetwork: BatchNorm folded into each weight layer, weights on their quantization grid, each
 * layer's input quantization step recorded. Inference runs the network's topology (models/) and calls a
 * LinearOp for every weight layer: the digital op is exact arithmetic; the analog chip's op
 * (hardware/analog) maps the same integer weight levels onto cells and adds DAC/ADC quantization and
 * device noise. With an ideal chip the two must agree exactly. The layer types and LinearOp live in
 * hardware/folded.ts, so the chip needs nothing from models/.
 */
import type { ArchitectureSpec, QuantizationSpec } from '../search/architecture';
import type { FoldedLayers } from '../hardware/folded';

export interface FoldedNetwork extends FoldedLayers {
  architecture: ArchitectureSpec;
  quantization: QuantizationSpec;
}
