/** Jest: TypeScript through SWC (type checking is `tsc --noEmit`, run by `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Integration tests share one dev server and are CPU heavy: the runner script decides parallelism.
  testTimeout: 120000,
};
