/** Installs Fashion-MNIST from Debian's `dataset-fashion-mnist` package when it is missing. */
import { DEBIAN_FASHION_MNIST_DIR, fashionMnistInstalled } from '../data/fashionMnist';
import { aptGetInstall, isRoot } from './apt';
import { SetupError } from '../temporal/temporalCli';

export function ensureFashionMnist(log: (line: string) => void = console.error): string {
  if (fashionMnistInstalled()) return DEBIAN_FASHION_MNIST_DIR;
  if (!isRoot()) {
    throw new SetupError(
      `Fashion-MNIST is not installed in ${DEBIAN_FASHION_MNIST_DIR}. Install it with\n` +
        '  sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist\n' +
        'or set dataset: { name: idx, dir: <directory with the four IDX files> } in your config.',
    );
  }
  log('[setup] installing Fashion-MNIST (apt-get install dataset-fashion-mnist)…');
  aptGetInstall('dataset-fashion-mnist');
  if (!fashionMnistInstalled())
    throw new SetupError(`dataset-fashion-mnist installed but ${DEBIAN_FASHION_MNIST_DIR} lacks its files`);
  log('[setup] Fashion-MNIST ready');
  return DEBIAN_FASHION_MNIST_DIR;
}
