/**
 * Installs Chromium from Debian's `chromium` package when it is missing: the report's acceptance test
 * renders report.html in a real headless browser. Idempotent, like the dataset install (scripts/dataset.ts).
 */
import { spawnSync } from 'node:child_process';
import { aptGetInstall, isRoot } from './apt';
import { SetupError } from '../temporal/temporalCli';

const CANDIDATES = ['chromium', 'chromium-browser'];

/** The Chromium executable on PATH, or undefined. */
export function findChromium(): string | undefined {
  for (const name of CANDIDATES) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return undefined;
}

export function ensureChromium(log: (line: string) => void = console.error): string {
  const existing = findChromium();
  if (existing) return existing;
  const hasAptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!hasAptGet)
    throw new SetupError(
      'Chromium is not installed and apt-get is not available to install it. Install Chromium with your ' +
        "system's package manager (the report's headless test runs `chromium --headless`).",
    );
  if (!isRoot())
    throw new SetupError(
      'Chromium is not installed. Install it with\n  sudo apt-get update && sudo apt-get install -y chromium',
    );
  log('[setup] installing Chromium (apt-get install chromium) for the report test…');
  aptGetInstall('chromium');
  const installed = findChromium();
  if (!installed) throw new SetupError('apt-get installed chromium but no chromium executable is on PATH');
  log('[setup] Chromium ready');
  return installed;
}
