/**
 * The IMC hardware cost model: device library, technology nodes, layer → crossbar mapping, energy /
 * latency / area, validation rules and calibration. Domain code: no Temporal, no tfjs.
 */
export * from './types';
export * from './technology';
export * from './devices';
export * from './architectures';
export * from './components';
export * from './library';
export * from './mapping';
export * from './cost';
export * from './constraints';
export * from './validate';
export * from './schema';
export * from './networks';
export * from './calibration';
