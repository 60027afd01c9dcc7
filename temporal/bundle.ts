/**
 * The prebuilt workflow bundle the worker registers: built once per change of the workflow sources, so a
 * worker starts in a second instead of re-bundling, and every worker of a deploy runs identical code.
 */
import { createHash } from 'node:crypto';
import { promises as fs, existsSync } from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileAtomic } from '../storage/atomic';
import { REPO_ROOT } from './paths';

export const BUNDLE_DIR = path.join(REPO_ROOT, 'build');
export const BUNDLE_FILE = path.join(BUNDLE_DIR, 'workflow-bundle.js');
const WORKFLOWS_ENTRY = path.join(REPO_ROOT, 'workflows', 'index.ts');

/**
 * The repository files the bundle is built from: workflows/index.ts and every module it reaches through
 * relative imports (the contracts, the failure policy, the front policy, …), found by following them, so
 * a change to any of them rebuilds the bundle. A hand-kept list went stale whenever a module moved.
 */
export async function workflowSources(): Promise<string[]> {
  const seen = new Set<string>();
  const pending = [WORKFLOWS_ENTRY];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await fs.readFile(file, 'utf8');
    // Type-only imports are erased before bundling (the workflow imports activity types only).
    for (const [, specifier] of text.matchAll(
      /^(?:import|export)\s+(?!type\s)[^;]*?from '(\.{1,2}\/[^']+)'/gm,
    )) {
      const target = path.resolve(path.dirname(file), specifier);
      const resolved = [`${target}.ts`, path.join(target, 'index.ts')].find((candidate) =>
        existsSync(candidate),
      );
      if (resolved) pending.push(resolved);
    }
  }
  return [...seen].map((file) => path.relative(REPO_ROOT, file));
}

/** Everything the bundle is made of: the workflow code, the modules it imports and the lockfile. */
async function sourcesDigest(): Promise<string> {
  const hash = createHash('sha256');
  const files = [...(await workflowSources()), 'package-lock.json'].sort();
  for (const file of files) {
    hash.update(file);
    hash.update(await fs.readFile(path.join(REPO_ROOT, file)));
  }
  return hash.digest('hex');
}

/** Returns the path of an up-to-date bundle, building it when the sources changed. */
export async function ensureWorkflowBundle(log: (line: string) => void = console.error): Promise<string> {
  const digest = await sourcesDigest();
  const digestFile = `${BUNDLE_FILE}.sha256`;
  if (existsSync(BUNDLE_FILE) && (await fs.readFile(digestFile, 'utf8').catch(() => '')) === digest)
    return BUNDLE_FILE;
  log('[setup] bundling workflow code…');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_ENTRY, logger: quietLogger });
  await writeFileAtomic(BUNDLE_FILE, code);
  await writeFileAtomic(digestFile, digest);
  return BUNDLE_FILE;
}

const noop = () => undefined;
const quietLogger = {
  log: noop,
  trace: noop,
  debug: noop,
  info: noop,
  warn: console.warn,
  error: console.error,
};

if (require.main === module) {
  ensureWorkflowBundle().then((file) => console.log(file));
}
