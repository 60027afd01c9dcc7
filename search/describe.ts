/**
 * Short human-readable names for a design, for tables where the genome key alone says nothing
 * ("2222020002001301"): the network ("mbconv3_e3/32 conv3/32 conv3/64 conv3/64, w8a8") and the chip
 * ("RRAM 45 nm, 64×64, 1 b/cell, 8-bit SAR ADC"). Settings at their usual value (one column per ADC, a
 * 1-bit DAC, the node's nominal supply, no tile budget) are left out; the report and results.json carry
 * everything.
 */
import type { HardwareConfig } from '../hardware/types';
import type { ArchitectureSpec, LayerBits, QuantizationSpec } from './architecture';

export interface DesignDescription {
  network: string;
  chip: string;
}

const DEVICE_LABELS: Record<string, string> = {
  rram: 'RRAM',
  pcm: 'PCM',
  fefet: 'FeFET',
  sram: 'SRAM',
  mram: 'STT-MRAM',
};

/** 'rram' → 'RRAM', 'rram-neurram' → 'RRAM (neurram)'. */
function deviceLabel(device: string): string {
  const [family = device, ...preset] = device.split('-');
  const label = DEVICE_LABELS[family] ?? family;
  return preset.length > 0 ? `${label} (${preset.join('-')})` : label;
}

const bitsLabel = (bits: LayerBits) => `w${bits.weightBits}a${bits.activationBits}`;

export function describeNetwork(architecture: ArchitectureSpec, quantization: QuantizationSpec): string {
  const blocks: string[] = [];
  const blockBits: string[] = [];
  architecture.blocks.forEach((block, index) => {
    if (block.family === 'skip') return;
    blocks.push(`${block.operator}/${block.outChannels}`);
    const bits = quantization.blocks[index];
    if (bits) blockBits.push(bitsLabel(bits));
  });
  const distinct = [...new Set(blockBits)];
  // One precision for the whole network reads as a suffix; mixed precision is shown per block.
  if (distinct.length <= 1) {
    return `${blocks.join(' ') || 'no blocks (stem and head only)'}${distinct[0] ? `, ${distinct[0]}` : ''}`;
  }
  return blocks.map((block, i) => `${block}@${blockBits[i] ?? '?'}`).join(' ');
}

export function describeChip(hardware: HardwareConfig): string {
  const parts = [
    `${deviceLabel(hardware.device)} ${hardware.techNode} nm`,
    `${hardware.rows}×${hardware.cols}`,
    `${hardware.bitsPerCell} b/cell`,
    `${hardware.adcBits}-bit ${hardware.adcType === 'sar' ? 'SAR' : hardware.adcType} ADC` +
      (hardware.colsPerAdc > 1 ? ` per ${hardware.colsPerAdc} columns` : ''),
  ];
  if (hardware.dacBits > 1) parts.push(`${hardware.dacBits}-bit DAC`);
  if (hardware.supplyVoltage !== undefined) parts.push(`${hardware.supplyVoltage} V`);
  if (hardware.tiles !== undefined) parts.push(`${hardware.tiles} tiles`);
  if (hardware.executionMode === 'pipelined') parts.push('pipelined');
  return parts.join(', ');
}

export function describeDesign(design: {
  architecture: ArchitectureSpec;
  quantization: QuantizationSpec;
  hardware: HardwareConfig;
}): DesignDescription {
  return {
    network: describeNetwork(design.architecture, design.quantization),
    chip: describeChip(design.hardware),
  };
}
