/**
 * The imcnas command line. Exit codes a script can rely on:
 *   0 success · 1 unexpected failure · 2 invalid input (config, arguments) · 3 search not found ·
 *   4 Temporal unreachable · 5 the search failed, was cancelled or terminated.
 */
import { Command, CommanderError } from 'commander';
import { loadConfigFile } from '../config/load';
import { ConfigError } from '../config/validation';
import { ensureDevServer, runDevServerForeground, serverAnswers, stopDevServer } from '../scripts/devServer';
import { describeProgress, describeResult } from './format';
import { CONNECTION_ENV_HELP, connectionSettingsFromEnv, UnreachableServerError } from './connection';
import {
  clientSettingsFor,
  connectClient,
  defaultUiBase,
  searchStatus,
  startSearch,
  webUiUrl,
} from './searches';

export const EXIT = { ok: 0, failure: 1, invalid: 2, notFound: 3, unreachable: 4, searchFailed: 5 } as const;

class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function buildProgram(): Command {
  const program = new Command('imcnas')
    .description(
      'Co-design a neural network and the analog in-memory-computing chip that runs it, as durable Temporal workflows.',
    )
    .addHelpText(
      'after',
      `\n${CONNECTION_ENV_HELP}\n\nExit codes: 0 ok, 2 invalid input, 3 not found, 4 Temporal unreachable, 5 search failed.`,
    )
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('validate')
    .description(
      'check a search configuration (YAML or JSON) and list every problem; exit 0 when valid, 2 when not',
    )
    .argument('<config>', 'configuration file')
    .action(async (file: string) => {
      const config = await loadConfigFile(file);
      console.log(
        `${file}: valid (search "${config.name}", seed ${config.seed}, dataset ${config.dataset.name})`,
      );
    });

  program
    .command('start')
    .description(
      'validate a configuration and start its search (attaches to the running search when one with the same id runs); ' +
        'a worker must serve the queues: `npm run worker`',
    )
    .requiredOption('-c, --config <file>', 'search configuration (YAML or JSON)')
    .option('--id <searchId>', 'search id (default: the config name); the workflow id is nas/<searchId>')
    .option('--json', 'print the started search as JSON')
    .action(async (options: { config: string; id?: string; json?: boolean }) => {
      const config = await loadConfigFile(options.config);
      const settings = clientSettingsFor(config);
      const client = await connectClient(settings);
      try {
        const started = await startSearch(client, config, { searchId: options.id });
        const ui = webUiUrl(defaultUiBase(settings.address), settings.namespace, started.searchId);
        if (options.json) console.log(JSON.stringify({ ...started, webUi: ui }));
        else {
          console.log(`${started.attached ? 'Attached to running' : 'Started'} search ${started.searchId}`);
          console.log(`  workflow   ${started.workflowId} (run ${started.runId})`);
          console.log(`  artifacts  ${started.runDir}`);
          console.log(`  Web UI     ${ui}`);
        }
      } finally {
        await client.connection.close();
      }
    });

  program
    .command('status')
    .description('show a search: its workflow status, stage and progress (or its result when complete)')
    .argument('<searchId>', 'the search id given at start')
    .option('--json', 'print as JSON')
    .action(async (searchId: string, options: { json?: boolean }) => {
      const settings = connectionSettingsFromEnv();
      const client = await connectClient(settings);
      try {
        const status = await searchStatus(client, searchId);
        if (!status)
          throw new ExitError(
            EXIT.notFound,
            `no search "${searchId}" (workflow nas/${searchId}) in namespace ${settings.namespace}`,
          );
        if (options.json) console.log(JSON.stringify(status, null, 2));
        else {
          console.log(`search ${status.searchId}: ${status.status} (started ${status.startTime})`);
          if (status.progress) for (const line of describeProgress(status.progress)) console.log(`  ${line}`);
          if (status.result)
            for (const line of describeResult(status.result, status.objectives)) console.log(`  ${line}`);
          console.log(`  Web UI ${webUiUrl(defaultUiBase(settings.address), settings.namespace, searchId)}`);
        }
        if (['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'].includes(status.status))
          process.exitCode = EXIT.searchFailed;
      } finally {
        await client.connection.close();
      }
    });

  program
    .command('server')
    .description('the local Temporal dev server (SQLite-persisted, Web UI on :8233)')
    .argument('[action]', 'run (foreground, default) | start (background) | stop | status', 'run')
    .action(async (action: string) => {
      const address = process.env.TEMPORAL_ADDRESS;
      switch (action) {
        case 'run':
          process.exitCode = await runDevServerForeground({ address });
          break;
        case 'start': {
          const server = await ensureDevServer({ address });
          console.log(
            `${server.reused ? 'Already running' : 'Started'}: ${server.address}; Web UI ${server.uiUrl}`,
          );
          break;
        }
        case 'stop':
          console.log(
            (await stopDevServer({ address })) ? 'Stopped.' : 'No dev server started by imcnas is running.',
          );
          break;
        case 'status': {
          const target = address ?? '127.0.0.1:7233';
          const up = await serverAnswers(target);
          console.log(up ? `Temporal answers on ${target}` : `Nothing answers on ${target}`);
          if (!up) process.exitCode = EXIT.unreachable;
          break;
        }
        default:
          throw new ExitError(
            EXIT.invalid,
            `server: unknown action "${action}"; use run, start, stop or status`,
          );
      }
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? EXIT.ok
        : EXIT.invalid;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return EXIT.invalid;
    }
    if (error instanceof UnreachableServerError) {
      console.error(error.message);
      return EXIT.unreachable;
    }
    if (error instanceof ExitError) {
      console.error(error.message);
      return error.code;
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return EXIT.failure;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
