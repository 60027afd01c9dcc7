/**
 * Device noise models (docs/sources.md §Noise models): settings, conductance-level models the simulated chip
 * samples, and the weight-level perturbation for noise-aware training. Domain code: no Temporal.
 */
export * from './settings';
export * from './models';
export * from './random';
export * from './weightNoise';
export * from './schema';
