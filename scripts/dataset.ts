/** Installs Fashion-MNIST from Debian's `dataset-fashion-mnist` package when it is missing. */
import { spawnSync } from 'node:child_process';
import { DEBIAN_FASHION_MNIST_DIR, fashionMnistInstalled } from '../data/fashionMnist';
import { SetupError } from './temporalCli';

export function ensureFashionMnist(log: (line: string) => void = console.error): string {
  if (fashionMnistInstalled()) return DEBIAN_FASHION_MNIST_DIR;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new SetupError(
      `Fashion-MNIST is not installed in ${DEBIAN_FASHION_MNIST_DIR}. Install it with\n` +
        '  sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist\n' +
        'or set dataset: { name: idx, dir: <directory with the four IDX files> } in your config.',
    );
  }
  log('[setup] installing Fashion-MNIST (apt-get install dataset-fashion-mnist)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'dataset-fashion-mnist'],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      throw new SetupError(
        `apt-get ${args.join(' ')} failed (exit ${result.status ?? result.error?.message})`,
      );
    }
  }
  if (!fashionMnistInstalled())
    throw new SetupError(`dataset-fashion-mnist installed but ${DEBIAN_FASHION_MNIST_DIR} lacks its files`);
  log('[setup] Fashion-MNIST ready');
  return DEBIAN_FASHION_MNIST_DIR;
}
