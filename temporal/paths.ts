/** Where imcnas keeps what outlives a checkout: the Temporal CLI build, the dev server's database. */
import * as os from 'node:os';
import * as path from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.5.1';

export function cacheRoot(): string {
  return process.env.IMCNAS_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'imcnas');
}

export function temporalCliDir(): string {
  return path.join(cacheRoot(), `temporal-${TEMPORAL_CLI_VERSION}`);
}

export function temporalCliPath(): string {
  return path.join(temporalCliDir(), 'temporal');
}

export function devServerDir(): string {
  return process.env.IMCNAS_SERVER_DIR ?? path.join(cacheRoot(), 'dev-server');
}

export const REPO_ROOT = path.resolve(__dirname, '..');
