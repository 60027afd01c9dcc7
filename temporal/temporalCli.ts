/**
 * The Temporal CLI (which embeds the dev server and Web UI), built once from the Go module proxy and cached
 * outside the repository. We build rather than download because only package registries are reachable
 * here; v1.5.1 is the newest tag that `go install` accepts (later tags carry `replace` directives).
 */
import { spawn } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import * as path from 'node:path';
import { TEMPORAL_CLI_VERSION, temporalCliDir, temporalCliPath } from './paths';

export class SetupError extends Error {
  override name = 'SetupError';
}

/**
 * A binary built by `go install` reports its version as 0.0.0-DEV, so the version we built is recorded in
 * a marker file written after the binary is in place; the binary must also run.
 */
function markerPath(): string {
  return path.join(temporalCliDir(), 'VERSION');
}

async function isUsableBinary(binary: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  const marker = await fs.readFile(markerPath(), 'utf8').catch(() => '');
  if (marker.trim() !== TEMPORAL_CLI_VERSION) return false;
  return new Promise((resolve) => {
    const child = spawn(binary, ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Serializes concurrent builds (two test processes, or a test and the demo) with an exclusive lock dir. */
async function withBuildLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, '.build.lock');
  await fs.mkdir(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.mkdir(lock);
      break;
    } catch {
      const stat = await fs.stat(lock).catch(() => undefined);
      // A lock older than 30 minutes belongs to a build that died.
      if (stat && Date.now() - stat.mtimeMs > 30 * 60_000)
        await fs.rm(lock, { recursive: true, force: true });
      if (attempt % 30 === 0) console.error('[setup] waiting for another Temporal CLI build to finish…');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

/** Returns the path of a working Temporal CLI, building it with `go install` on first use. */
export async function ensureTemporalCli(log: (line: string) => void = console.error): Promise<string> {
  const binary = temporalCliPath();
  if (await isUsableBinary(binary)) return binary;
  return withBuildLock(temporalCliDir(), async () => {
    if (await isUsableBinary(binary)) return binary;
    const goVersion = await new Promise<string | undefined>((resolve) => {
      const child = spawn('go', ['version'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', () => resolve(undefined));
      child.on('close', (code) => resolve(code === 0 ? out.trim() : undefined));
    });
    if (!goVersion) {
      throw new SetupError(
        'Go is not installed: the Temporal CLI is built with `go install` (Go ≥ 1.25). ' +
          'Install Go, or set IMCNAS_TEMPORAL_ADDRESS to a Temporal server you already run.',
      );
    }
    const started = Date.now();
    log(
      `[setup] building the Temporal CLI v${TEMPORAL_CLI_VERSION} with ${goVersion} (once; a few minutes)…`,
    );
    const gobin = path.join(temporalCliDir(), `.gobin-${process.pid}`);
    await fs.mkdir(gobin, { recursive: true });
    const tick = setInterval(
      () => log(`[setup]   still building the Temporal CLI… ${Math.round((Date.now() - started) / 1000)} s`),
      20_000,
    );
    const stderrTail: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        'go',
        ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
        {
          env: { ...process.env, GOBIN: gobin, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      child.stderr.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          if (line.trim()) stderrTail.push(line);
          if (stderrTail.length > 40) stderrTail.shift();
        }
      });
      child.on('error', () => resolve(null));
      child.on('close', resolve);
    });
    clearInterval(tick);
    if (code !== 0) {
      await fs.rm(gobin, { recursive: true, force: true });
      throw new SetupError(`go install of the Temporal CLI failed (exit ${code}):\n${stderrTail.join('\n')}`);
    }
    // Move into place atomically so a half-built binary is never mistaken for a usable one.
    await fs.rename(path.join(gobin, 'temporal'), binary);
    await fs.rm(gobin, { recursive: true, force: true });
    await fs.writeFile(markerPath(), `${TEMPORAL_CLI_VERSION}\n`);
    log(`[setup] Temporal CLI ready at ${binary} (${Math.round((Date.now() - started) / 1000)} s)`);
    return binary;
  });
}
