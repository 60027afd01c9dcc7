/**
 * Everything a fresh machine needs before a search or the tests can run: the dataset, Chromium (for the
 * report's browser test only), the Temporal CLI
 * (built once, cached), the dev server (started unless one answers) and the workflow bundle. Each step is
 * skipped when already done, so calling this on every `npm test` / `npm run demo` costs about a second.
 * `--native` also provisions the native TensorFlow backend (scripts/nativeSetup.ts; minutes the first time,
 * cached after); without it nothing native is touched and wasm stays the zero-setup engine.
 */
import { ensureChromium } from './chromium';
import { ensureFashionMnist } from './dataset';
import { ensureDevServer, type DevServerHandle } from '../temporal/devServer';
import { ensureWorkflowBundle } from '../temporal/bundle';
import { ensureNativeTensorflow } from './nativeSetup';

export interface SetupOptions {
  address?: string;
  /** Skip starting a server when TEMPORAL_ADDRESS points elsewhere and the user manages it. */
  startServer?: boolean;
  /** Install Chromium too (the report's headless browser test needs it; a search does not). */
  browser?: boolean;
  /** Provision the native TensorFlow backend too (`--native`), and measure it against wasm. */
  native?: boolean;
  /** With `native`: measure native against wasm again (`--remeasure`). */
  remeasure?: boolean;
}

export async function setup(options: SetupOptions = {}): Promise<{ server?: DevServerHandle }> {
  ensureFashionMnist();
  if (options.browser) ensureChromium();
  if (options.native) await ensureNativeTensorflow({ remeasure: options.remeasure });
  const server =
    options.startServer === false ? undefined : await ensureDevServer({ address: options.address });
  await ensureWorkflowBundle();
  return { server };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => !['--native', '--remeasure'].includes(arg));
  if (unknown.length > 0) {
    console.error(`setup: unknown option ${unknown.join(' ')} (options: --native, --remeasure)`);
    process.exit(2);
  }
  setup({ browser: true, native: args.includes('--native'), remeasure: args.includes('--remeasure') })
    .then(({ server }) => {
      if (server) console.error(`[setup] done: Temporal ${server.address}, Web UI ${server.uiUrl}`);
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
