/**
 * `npm test`: type-check, lint, format check, then the whole jest suite — unit tests in parallel, then the
 * integration tests one at a time against the real Temporal dev server (started here unless one answers).
 * Prints one closing line `tests: N passed, M failed` and exits non-zero on any failure.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../temporal/paths';
import { ensureNativeTensorflow } from './nativeSetup';
import { setup } from './setup';

function bin(name: string): string {
  return path.join(REPO_ROOT, 'node_modules', '.bin', name);
}

function step(title: string, command: string, args: string[]): boolean {
  const started = Date.now();
  console.error(`\n[test] ${title}`);
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit', env: process.env });
  const ok = result.status === 0;
  console.error(
    `[test] ${title}: ${ok ? 'ok' : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return ok;
}

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
}

async function jest(title: string, args: string[]): Promise<{ ok: boolean; summary?: JestSummary }> {
  const outputFile = path.join(os.tmpdir(), `imcnas-jest-${process.pid}-${Date.now()}.json`);
  const ok = step(title, bin('jest'), [...args, '--json', `--outputFile=${outputFile}`]);
  const summary = JSON.parse(await fs.readFile(outputFile, 'utf8').catch(() => 'null')) as JestSummary | null;
  await fs.rm(outputFile, { force: true });
  return { ok, summary: summary ?? undefined };
}

async function main(): Promise<number> {
  const extra = process.argv.slice(2);
  let ok = true;
  ok = step('type check (tsc --noEmit)', bin('tsc'), ['--noEmit']) && ok;
  ok = step('lint (eslint)', bin('eslint'), ['.']) && ok;
  ok = step('format (prettier --check)', bin('prettier'), ['--check', '--log-level=warn', '.']) && ok;

  console.error(
    '\n[test] set-up: dataset, Chromium, native TensorFlow, Temporal CLI, dev server, workflow bundle',
  );
  await setup({ browser: true });
  // The native backend too, so its agreement tests (test/tensor/training.test.ts) run for real: built
  // once into ~/.cache/imcnas (about a minute), a second run only reads its record. CI must have it; a
  // developer machine without a compiler or pip still runs everything else.
  try {
    await ensureNativeTensorflow();
  } catch (error) {
    if (process.env.CI) throw error;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[test] native TensorFlow not provisioned, its tests are skipped: ${message}`);
  }

  const unit = await jest('unit tests', [
    '--testPathIgnorePatterns',
    '/test/integration/',
    '--maxWorkers=2',
    ...extra,
  ]);
  // Integration tests share one server and are CPU heavy: one file at a time. forceExit because the
  // Temporal runtime's native threads outlive the last test by design.
  const integration = await jest('integration tests (real Temporal dev server)', [
    'test/integration',
    '--runInBand',
    '--forceExit',
    ...extra,
  ]);
  const passed = (unit.summary?.numPassedTests ?? 0) + (integration.summary?.numPassedTests ?? 0);
  const failed =
    (unit.summary?.numFailedTests ?? 0) +
    (integration.summary?.numFailedTests ?? 0) +
    (unit.summary?.numRuntimeErrorTestSuites ?? 0) +
    (integration.summary?.numRuntimeErrorTestSuites ?? 0);
  ok = ok && unit.ok && integration.ok;
  console.log(`\ntests: ${passed} passed, ${failed} failed`);
  if (!ok && failed === 0) console.log('(a check before the tests failed: see [test] lines above)');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
