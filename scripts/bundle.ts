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

/** Everything the bundle is made of: the workflow folder, the contracts it imports and the lockfile. */
async function sourcesDigest(): Promise<string> {
  const hash = createHash('sha256');
  const files = [
    ...(await fs.readdir(path.join(REPO_ROOT, 'workflows')))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join('workflows', f)),
    path.join('activities', 'contracts.ts'),
    'package-lock.json',
  ].sort();
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
