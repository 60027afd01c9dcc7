/**
 * Robustness evaluation: the Evaluator contract, the built-in Monte-Carlo simulator, and the adapter for
 * external evaluators speaking JSON lines (PROTOCOL.md). Domain code: no Temporal.
 */
export * from './types';
export * from './statistics';
export * from './serialize';
export * from './simulator';
export * from './external';
