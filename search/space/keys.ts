/** Compact genome keys and one-line candidate descriptions, for logs, caches and activity summaries. */

import type { Candidate, Genome } from './codec';

/**
 * A compact key: one base-36 character per gene when every gene is below 36 (the usual case), otherwise
 * '.' followed by base-36 numbers joined by '.'. Keys of equal genomes are equal; canonicalize first to
 * make equal candidates share one key.
 */
export function genomeKey(genome: readonly number[]): string {
  const parts = genome.map((value) => value.toString(36));
  return parts.every((part) => part.length === 1) ? parts.join('') : `.${parts.join('.')}`;
}

export function parseGenomeKey(key: string): Genome {
  const parts = key.startsWith('.') ? key.slice(1).split('.') : key.split('');
  return parts.map((part) => {
    const value = parseInt(part, 36);
    if (!Number.isInteger(value) || value < 0 || value.toString(36) !== part) {
      throw new Error(`invalid genome key "${key}"`);
    }
    return value;
  });
}

/** One line naming a candidate, for logs and activity summaries. */
export function describeCandidate(candidate: Candidate): string {
  const blocks = candidate.architecture.blocks
    .filter((block) => block.family !== 'skip')
    .map((block, i) => {
      const bits = candidate.quantization.blocks.filter((entry) => entry !== null)[i];
      return `${block.operator}/${block.outChannels}${bits ? `@w${bits.weightBits}a${bits.activationBits}` : ''}`;
    });
  const hw = candidate.hardware;
  return [
    blocks.join(' '),
    `${hw.device} ${hw.techNode}nm ${hw.rows}×${hw.cols} ${hw.bitsPerCell}b/cell ADC ${hw.adcBits}b ${hw.adcType}/${hw.colsPerAdc}col DAC ${hw.dacBits}b` +
      (hw.supplyVoltage !== undefined ? ` ${hw.supplyVoltage}V` : '') +
      (hw.tiles !== undefined ? ` ${hw.tiles} tiles` : ''),
  ].join(' | ');
}
