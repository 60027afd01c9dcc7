/** Jest: TypeScript through SWC (type checking is `tsc --noEmit`, run by `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Integration tests share one dev server and are CPU heavy: the runner script decides parallelism.
  // A bound on hangs, not a speed target: a test that takes 30 s alone can take minutes on a loaded
  // 2-core machine, and must still pass there.
  testTimeout: 600000,
};
