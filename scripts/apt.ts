/** Installs Debian packages with apt-get (as root, non-interactive) for the set-up scripts. */
import { spawnSync } from 'node:child_process';
import { SetupError } from '../temporal/temporalCli';

export function aptGetInstall(packageName: string): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', packageName],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      throw new SetupError(
        `apt-get ${args.join(' ')} failed (exit ${result.status ?? result.error?.message})`,
      );
    }
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
