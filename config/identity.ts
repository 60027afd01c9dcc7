/**
 * A run directory belongs to one configuration: its manifest records the SHA-256 of the config.yaml it was
 * made with (the validated configuration, every default filled in), and a search started again under the
 * same id must bring the same configuration.
 */
import { runFiles } from '../storage/runLayout';
import { sha256 } from '../storage/atomic';
import { configFileText } from './load';
import type { RunConfig } from './schema';

export class RunConflictError extends Error {
  override name = 'RunConflictError';
}

/** The hash a run directory's manifest records for its configuration (of config.yaml's text). */
export function configSha256(config: RunConfig): string {
  return sha256(configFileText(config));
}

/**
 * Refuses to run `config` in a run directory created for a different configuration. The message says how
 * to start a new search or continue the old one.
 */
export function checkRunConfigMatches(
  runDir: string,
  searchId: string,
  recordedSha256: string,
  config: RunConfig,
): void {
  if (configSha256(config) === recordedSha256) return;
  throw new RunConflictError(
    `search id "${searchId}" already has a run directory ${runDir} made with a different configuration ` +
      `(its config.yaml has SHA-256 ${recordedSha256.slice(0, 12)}…). To start a new search, give it another id ` +
      `(\`imcnas start -c <file> --id <new-id>\`) or another name; to continue the old search, resume it with its ` +
      `own configuration (\`imcnas resume-failed ${searchId}\`, or \`imcnas start -c ${runFiles(runDir).config} --id ${searchId}\`).`,
  );
}
