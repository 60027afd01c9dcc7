/**
 * The simulated analog chip: weights bit-sliced onto crossbar cells, bit-serial inputs, per-array ADCs,
 * Monte-Carlo device noise; exposed as the LinearOp of hardware/folded.ts. Domain code: no Temporal.
 */
export * from './encoding';
export * from './adc';
export * from './plan';
export * from './program';
export * from './chip';
export { ReadNoise } from './readout';
export * from './readoutError';
