/**
 * DNN+NeuroSim V1.4's network description: the build the export targets, the NetWork.csv layer rows of a
 * design and those rows read back (interop/neurosim.ts writes them).
 */
import type { LayerShape } from '../hardware/types';

/** The NeuroSim build the export targets (the same commit as the fidelity fixtures). */
export const NEUROSIM_TARGET = {
  version: '1.4',
  repository: 'https://github.com/neurosim/DNN_NeuroSim_V1.4',
  commit: 'ac828e6723bf077c9b1423c5c72ff6e4981e90f4',
} as const;

/** A design NeuroSim cannot run; `problems` name the field and the fix. */
export class NeuroSimExportError extends Error {
  constructor(readonly problems: string[]) {
    super(`this design cannot be exported to NeuroSim V1.4:\n  - ${problems.join('\n  - ')}`);
    this.name = 'NeuroSimExportError';
  }
}

/** One row of NeuroSim's NetWork_*.csv: IFM H, IFM W, Cin, Kh, Kw, Cout, max-pool after, stride. */
export type NeuroSimLayerRow = [number, number, number, number, number, number, number, number];

/** The padded input size that makes NeuroSim's vector count (H − K + 1)/s equal the design's output size. */
function paddedInput(out: number, kernel: number, stride: number): number {
  return out * stride + kernel - 1;
}

/** NeuroSim NetWork.csv rows for the design's weight layers (depthwise as a block-diagonal convolution). */
export function neurosimLayerRows(layers: readonly LayerShape[]): NeuroSimLayerRow[] {
  return layers.map((layer) => {
    if (layer.kind === 'dense') return [1, 1, layer.inChannels, 1, 1, layer.outChannels, 0, 1];
    return [
      paddedInput(layer.outH, layer.kernelH, layer.stride),
      paddedInput(layer.outW, layer.kernelW, layer.stride),
      layer.kind === 'depthwise' ? layer.outChannels : layer.inChannels,
      layer.kernelH,
      layer.kernelW,
      layer.outChannels,
      0,
      layer.stride,
    ];
  });
}

/**
 * NeuroSim NetWork.csv rows read back as layer shapes, depthwise as dense, with NeuroSim's own vector count:
 * Chip.cpp ChipCalculatePerformance runs (H − K + 1)/s × (W − K + 1)/s input vectors per layer (no
 * padding), so a 32×32 3×3 layer gets 900 MVMs, not 1024.
 */
export function layersOfRows(
  rows: readonly NeuroSimLayerRow[],
  weightBits: number,
  activationBits: number,
): LayerShape[] {
  return rows.map(([h, w, cin, kh, kw, cout, pooled, stride], i) => ({
    name: `layer${i + 1}`,
    kind: h === 1 && w === 1 && kh === 1 && kw === 1 ? 'dense' : 'conv',
    inChannels: cin,
    outChannels: cout,
    kernelH: kh,
    kernelW: kw,
    stride,
    outH: Math.floor((h - kh + 1) / stride),
    outW: Math.floor((w - kw + 1) / stride),
    weightBits,
    activationBits,
    // NetWork.csv column 7: a 2×2 max-pool follows
    ...(pooled ? { pooling: 4 } : {}),
  }));
}

/** Operations NeuroSim divides by its energy for TOPS/W: Σ 2·H·W·Cin·Kh·Kw·Cout over the rows (main.cpp). */
export function neurosimOperations(rows: readonly NeuroSimLayerRow[]): number {
  return rows.reduce((sum, [h, w, cin, kh, kw, cout]) => sum + 2 * h * w * cin * kh * kw * cout, 0);
}
