/**
 * Safe identities and paths. A search id becomes a directory name and a workflow id, so it is restricted
 * to a small character set (no separators, no leading dot: `../../x` or `/etc` can never be one). Every
 * run directory a worker is handed is checked before anything is written: absolute, normalized, named
 * after a valid search id, and inside one of the worker's artifact roots when the operator configured
 * them (IMCNAS_ARTIFACT_ROOTS, colon-separated; a cluster sets it to its shared filesystem's run root).
 */
import { runFiles } from './runLayout';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Letters, digits, dot, dash and underscore; starts with a letter or digit; at most 100 characters. */
export const SEARCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

export function checkSearchId(searchId: string, field = 'search id'): void {
  if (!SEARCH_ID_PATTERN.test(searchId))
    throw new UnsafePathError(
      `${field} ${JSON.stringify(searchId)} is not allowed: use 1–100 letters, digits, dots, dashes or underscores, starting with a letter or digit (for example "fmnist-quick-2")`,
    );
}

/** The artifact roots this worker may write under, from IMCNAS_ARTIFACT_ROOTS; empty = not restricted. */
export function artifactRootsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.IMCNAS_ARTIFACT_ROOTS ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((root) => path.resolve(root));
}

export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Refuses a run directory a worker must not write: relative, not normalized (`..` segments), not named
 * after a valid search id, or outside the configured artifact roots.
 */
export function checkRunDir(runDir: string, roots: readonly string[] = artifactRootsFromEnv()): void {
  if (!path.isAbsolute(runDir) || path.normalize(runDir) !== runDir.replace(/\/+$/, ''))
    throw new UnsafePathError(`run directory ${JSON.stringify(runDir)} must be an absolute, normalized path`);
  checkSearchId(path.basename(runDir), `run directory name of ${runDir}:`);
  if (roots.length > 0 && !roots.some((root) => isInside(root, runDir) && root !== runDir))
    throw new UnsafePathError(
      `run directory ${runDir} is outside this worker's artifact roots (${roots.join(', ')}); start the search with artifacts.root inside one of them, or add its root to IMCNAS_ARTIFACT_ROOTS`,
    );
}

/** The recorded configuration hash of an existing run directory, or undefined when there is none. */
export function recordedConfigSha256(runDir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(runFiles(runDir).manifest, 'utf8')) as {
      configSha256?: string;
    };
    return manifest.configSha256;
  } catch {
    return undefined;
  }
}
