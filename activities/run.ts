/** Run bookkeeping on the orchestration queue: the run directory, its config and its manifest. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../storage/atomic';
import { recordWork } from '../storage/stageTiming';
import type { PrepareRunResult, SearchInput } from './contracts';

export interface RunManifest {
  format: 'imcnas-run-v1';
  searchId: string;
  createdAt: string;
  configSha256: string;
}

/** Creates the run directory with config.yaml and manifest.json; a second call returns the first's result. */
export async function prepareRun(input: SearchInput): Promise<PrepareRunResult> {
  const manifestFile = path.join(input.runDir, 'manifest.json');
  const existing = await readJsonIfExists<RunManifest>(manifestFile);
  if (existing)
    return { runDir: input.runDir, configSha256: existing.configSha256, createdAt: existing.createdAt };
  await fs.mkdir(input.runDir, { recursive: true });
  const configSha256 = await writeFileAtomic(path.join(input.runDir, 'config.yaml'), toYaml(input.config));
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
