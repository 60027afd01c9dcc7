/**
 * Everything a fresh machine needs before a search or the tests can run: the dataset, Chromium (for the
 * report's browser test only), the Temporal CLI
 * (built once, cached), the dev server (started unless one answers) and the workflow bundle. Each step is
 * skipped when already done, so calling this on every `npm test` / `npm run demo` costs about a second.
 */
import { ensureChromium } from './chromium';
import { ensureFashionMnist } from './dataset';
import { ensureDevServer, type DevServerHandle } from '../temporal/devServer';
import { ensureWorkflowBundle } from '../temporal/bundle';

export interface SetupOptions {
  address?: string;
  /** Skip starting a server when TEMPORAL_ADDRESS points elsewhere and the user manages it. */
  startServer?: boolean;
  /** Install Chromium too (the report's headless browser test needs it; a search does not). */
  browser?: boolean;
}

export async function setup(options: SetupOptions = {}): Promise<{ server?: DevServerHandle }> {
  ensureFashionMnist();
  if (options.browser) ensureChromium();
  const server =
    options.startServer === false ? undefined : await ensureDevServer({ address: options.address });
  await ensureWorkflowBundle();
  return { server };
}

if (require.main === module) {
  setup({ browser: true })
    .then(({ server }) => {
      if (server) console.error(`[setup] done: Temporal ${server.address}, Web UI ${server.uiUrl}`);
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
