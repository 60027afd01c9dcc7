/** Run bookkeeping on the orchestration queue: the run directory, its config and its manifest. */
import { runFiles } from '../storage/runLayout';
import { promises as fs } from 'node:fs';
import { configFileText } from '../config/load';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../storage/atomic';
import { checkRunConfigMatches } from '../config/identity';
import { recordWork } from '../storage/stageTiming';
import type { PrepareRunResult, SearchInput } from '../contracts';

export interface RunManifest {
  format: 'imcnas-run-v1';
  searchId: string;
  createdAt: string;
  configSha256: string;
}

/**
 * Creates the run directory with config.yaml and manifest.json (which records the configuration's hash);
 * a second call with the same configuration returns the first's result. A run directory holding another
 * configuration's artifacts is refused: reusing them would mix two searches' results.
 */
export async function prepareRun(input: SearchInput): Promise<PrepareRunResult> {
  const manifestFile = runFiles(input.runDir).manifest;
  const existing = await readJsonIfExists<RunManifest>(manifestFile);
  if (existing) {
    checkRunConfigMatches(input.runDir, input.searchId, existing.configSha256, input.config);
    return { runDir: input.runDir, configSha256: existing.configSha256, createdAt: existing.createdAt };
  }
  await fs.mkdir(input.runDir, { recursive: true });
  const configSha256 = await writeFileAtomic(runFiles(input.runDir).config, configFileText(input.config));
  const manifest: RunManifest = {
    format: 'imcnas-run-v1',
    searchId: input.searchId,
    createdAt: new Date().toISOString(),
    configSha256,
  };
  await writeJsonAtomic(manifestFile, manifest);
  await recordWork(input.runDir, 'preparing', 'run-directory', new Date(manifest.createdAt), new Date());
  return { runDir: input.runDir, configSha256, createdAt: manifest.createdAt };
}
