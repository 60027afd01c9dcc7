/**
 * The imcnas command line. Exit codes a script can rely on:
 *   0 success · 1 unexpected failure · 2 invalid input (config, arguments) · 3 search not found ·
 *   4 Temporal unreachable · 5 the search failed, was cancelled or terminated.
 */
import { runFiles } from '../storage/runLayout';
import { Command, CommanderError } from 'commander';
import { loadConfigFile } from '../config/load';
import { ConfigError } from '../common/validation';
import { RunConflictError } from '../config/identity';
import { checkSearchId, UnsafePathError } from '../storage/runPaths';
import { ensureDevServer, runDevServerForeground, serverAnswers, stopDevServer } from '../temporal/devServer';
import { describePendingWork, describeProgress, describeResult } from './format';
import { baselineEntryFromOnnx, costOnnxModel, describeOnnxCost, type OnnxCostOptions } from './onnxCost';
import { OnnxImportError } from '../models/onnx/layers';
import { OnnxFormatError } from '../models/onnx/model';
import { CONNECTION_ENV_HELP, connectionSettingsFromEnv, UnreachableServerError } from './connection';
import { promises as fs } from 'node:fs';
import { exportRunDesignToNeuroSim } from '../tasks/neurosimExport';
import { NEUROSIM_TARGET, NeuroSimExportError } from '../interop/neurosim';
import { AIHWKIT_TARGET, AihwkitExportError } from '../interop/aihwkit';
import { exportRunDesignToAihwkit } from '../tasks/aihwkitExport';
import { initTensorEngine } from '../tensor/backend';
import * as path from 'node:path';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { SearchProgress } from '../contracts';
import { isRunDirectoryTarget, ReportInputError, searchResultFromRunDir, writeReport } from '../report';
import {
  clientSettingsFor,
  connectClient,
  defaultUiBase,
  listSearches,
  pauseSearch,
  resumeFailedSearch,
  resumeSearch,
  searchStatus,
  startSearch,
  stopSearch,
  webUiUrl,
  workflowIdFor,
} from './searches';

export const EXIT = {
  ok: 0,
  failure: 1,
  invalid: 2,
  notFound: 3,
  unreachable: 4,
  searchFailed: 5,
  partial: 6,
} as const;

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
      `\n${CONNECTION_ENV_HELP}\n\nExit codes: 0 ok, 2 invalid input, 3 not found, 4 Temporal unreachable, 5 search failed, 6 completed with a partial result.`,
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
    .command('cost')
    .description(
      "cost a network you already have (ONNX) on a chip with the search's cost model: per layer and in total",
    )
    .argument(
      '<model.onnx>',
      'an ONNX CNN (Conv, depthwise Conv, Gemm/MatMul; BatchNorm, activations, pooling, residual adds)',
    )
    .option(
      '--chip <file>',
      'YAML/JSON chip: device, rows, cols, adcBits, adcType, dacBits, bitsPerCell, colsPerAdc, techNode (default RRAM 22 nm, 128×128, 6-bit SAR ADC, 2 b/cell)',
    )
    .option('--input <CxHxW>', "the images the network takes (default the dataset's 1x28x28)")
    .option(
      '--weight-bits <n>',
      "weight bits of every layer (default: each layer's own from an imcnas export, else 8)",
    )
    .option(
      '--activation-bits <n>',
      "input-activation bits of every layer (default: each layer's own from an imcnas export, else 8)",
    )
    .option('--json', 'print as JSON')
    .action(async (file: string, options: OnnxCostOptions & { json?: boolean }) => {
      const report = await costOnnxModel(file, options);
      if (options.json) {
        const { layers, ...totals } = report.cost;
        console.log(
          JSON.stringify(
            {
              model: report.model,
              chip: report.chip,
              layers: report.network.layers,
              digitalOps: report.network.digitalOps,
              perLayer: layers,
              totals,
            },
            null,
            2,
          ),
        );
      } else for (const line of describeOnnxCost(report)) console.log(line);
    });

  program
    .command('import')
    .description(
      "an ONNX CNN's architecture as a baseline.networks entry (YAML) to run beside your search: retrained, noisy-tested and costed like the found designs",
    )
    .argument(
      '<model.onnx>',
      'a stem conv, stages of k×k conv blocks (identity shortcuts allowed), global pooling, a classifier',
    )
    .requiredOption('--name <name>', 'the baseline name (lower-case letters, digits, - and _)')
    .option('--input <CxHxW>', "the images the network takes (default the dataset's 1x28x28)")
    .option('--classes <n>', 'classifier outputs (default 10)')
    .option('--weight-bits <n>', 'weight bits (default 8)')
    .option('--activation-bits <n>', 'input-activation bits (default 8)')
    .action(async (file: string, options: OnnxCostOptions & { name: string; classes?: string }) => {
      console.log(await baselineEntryFromOnnx(file, options));
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
      // Before any connection: an id that would write outside the artifact root is refused outright.
      checkSearchId(options.id ?? config.name, '--id');
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
          for (const line of status.pending ?? []) console.log(line);
          if (status.failure) console.log(`  failed: ${status.failure}`);
          if (status.result)
            for (const line of describeResult(status.result, status.objectives)) console.log(`  ${line}`);
          console.log(`  Web UI ${webUiUrl(defaultUiBase(settings.address), settings.namespace, searchId)}`);
        }
        if (['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'].includes(status.status))
          process.exitCode = EXIT.searchFailed;
        else if (status.result?.outcome === 'partial') process.exitCode = EXIT.partial;
      } finally {
        await client.connection.close();
      }
    });

  /** Runs `work` with a client from the environment, mapping "no such search" to exit code 3. */
  const withClient = async (searchId: string | undefined, work: (client: Client) => Promise<void>) => {
    const client = await connectClient(connectionSettingsFromEnv());
    try {
      await work(client);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || (error as Error)?.name === 'WorkflowNotFoundError') {
        throw new ExitError(EXIT.notFound, `no search "${searchId}" (workflow nas/${searchId})`);
      }
      if (error instanceof WorkflowUpdateFailedError) {
        throw new ExitError(EXIT.invalid, `refused: ${(error.cause as Error)?.message ?? error.message}`);
      }
      throw error;
    } finally {
      await client.connection.close();
    }
  };
  const printProgress = (searchId: string, progress: SearchProgress) => {
    console.log(`search ${searchId}: ${describeProgress(progress).join('\n')}`);
  };

  program
    .command('list')
    .description('list searches with their status, stage, generation and best accuracy (newest first)')
    .option('--json', 'print as JSON')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (options: { json?: boolean; limit: string }) =>
      withClient(undefined, async (client) => {
        const listings = await listSearches(client, Number(options.limit));
        if (options.json) return console.log(JSON.stringify(listings, null, 2));
        if (listings.length === 0) return console.log('no searches yet');
        console.log(
          `${'search'.padEnd(32)} ${'status'.padEnd(11)} ${'stage'.padEnd(11)} gen  best acc  started`,
        );
        for (const l of listings) {
          console.log(
            `${l.searchId.padEnd(32)} ${l.status.padEnd(11)} ${(l.stage ?? '').padEnd(11)} ${String(l.generation ?? '').padStart(3)}  ${l.bestAccuracy === undefined ? '        ' : `${(l.bestAccuracy * 100).toFixed(2).padStart(6)} %`}  ${l.startTime}`,
          );
        }
      }),
    );

  program
    .command('watch')
    .description('follow a search live until it ends (progress redrawn in place on a terminal)')
    .argument('<searchId>', 'the search id given at start')
    .option('--interval <seconds>', 'refresh interval', '2')
    .action(async (searchId: string, options: { interval: string }) =>
      withClient(searchId, async (client) => {
        const handle = client.workflow.getHandle(workflowIdFor(searchId));
        const tty = process.stdout.isTTY;
        let last = '';
        let drawnLines = 0;
        for (;;) {
          const described = await handle.describe();
          if (described.status.name !== 'RUNNING') {
            const status = await searchStatus(client, searchId);
            if (status?.result)
              for (const line of describeResult(status.result, status.objectives)) console.log(line);
            else
              console.log(
                `search ${searchId}: ${described.status.name}${status?.failure ? `: ${status.failure}` : ''}`,
              );
            if (described.status.name !== 'COMPLETED') process.exitCode = EXIT.searchFailed;
            else if (status?.result?.outcome === 'partial') process.exitCode = EXIT.partial;
            return;
          }
          const progress = await handle.query<SearchProgress>('progress').catch(() => undefined);
          if (progress) {
            const text = [
              ...describeProgress(progress),
              ...describePendingWork(described.raw.pendingActivities),
            ].join('\n');
            if (tty) {
              if (drawnLines) process.stdout.write(`\x1b[${drawnLines}A\x1b[J`);
              process.stdout.write(`${text}\n`);
              drawnLines = text.split('\n').length;
            } else if (text !== last) console.log(`[${new Date().toISOString()}] ${text}`);
            last = text;
          }
          await new Promise((resolve) => setTimeout(resolve, Number(options.interval) * 1000));
        }
      }),
    );

  program
    .command('pause')
    .description('pause a search: work in flight finishes, nothing new starts until resume')
    .argument('<searchId>')
    .action(async (searchId: string) =>
      withClient(searchId, async (client) => printProgress(searchId, await pauseSearch(client, searchId))),
    );

  program
    .command('resume')
    .description('resume a paused search')
    .argument('<searchId>')
    .action(async (searchId: string) =>
      withClient(searchId, async (client) => printProgress(searchId, await resumeSearch(client, searchId))),
    );

  program
    .command('stop')
    .description(
      'stop a search: by default after the generation in flight (then robustness and retraining run on the front found); --now cancels work in flight and writes the best-so-far results',
    )
    .argument('<searchId>')
    .option('--now', 'stop immediately')
    .action(async (searchId: string, options: { now?: boolean }) =>
      withClient(searchId, async (client) =>
        printProgress(searchId, await stopSearch(client, searchId, options.now ? 'now' : 'after-generation')),
      ),
    );

  /** A finished search's run directory: `target` itself, or the run directory of the search with that id. */
  const finishedRunDir = async (target: string): Promise<string> => {
    if (await isRunDirectoryTarget(target)) return target;
    let runDir = '';
    await withClient(target, async (client) => {
      const status = await searchStatus(client, target);
      if (!status)
        throw new ExitError(
          EXIT.notFound,
          `no search "${target}" (workflow nas/${target}) and no run directory ${path.resolve(target)}`,
        );
      if (status.result) runDir = status.result.runDir;
      else if (status.status === 'RUNNING')
        throw new ExitError(
          EXIT.invalid,
          `search ${target} is still running: its report is written when it completes (follow it with \`imcnas watch ${target}\`)`,
        );
      else
        throw new ExitError(
          EXIT.searchFailed,
          `search ${target} is ${status.status} and has no results; try \`imcnas resume-failed ${target}\``,
        );
    });
    return runDir;
  };

  program
    .command('report')
    .description('write the HTML report of a finished search (one offline file with plots); prints its path')
    .argument('<searchId|runDir>', 'a search id, or a run directory (runs/<searchId>) or its results.json')
    .option('--out <file>', 'write the report here (default: report.html in the run directory)')
    .option(
      '--compare <other>',
      'another run (directory, results.json or search id) to compare on the same hypervolume yardstick, e.g. NSGA-II vs random',
    )
    .action(async (target: string, options: { out?: string; compare?: string }) => {
      const runDir = await finishedRunDir(target);
      const compare = options.compare ? await finishedRunDir(options.compare) : undefined;
      console.log(await writeReport(runDir, { out: options.out, compare }));
    });

  program
    .command('results')
    .description(
      'print the Pareto front of a search (best so far while it runs) and write it as CSV/JSON; a run directory works without a server',
    )
    .argument('<searchId|runDir>')
    .option('--csv <file>', 'write the front as CSV here')
    .option('--json <file>', 'write the whole results (every evaluated candidate) as JSON here')
    .action(async (searchId: string, options: { csv?: string; json?: string }) => {
      if (await isRunDirectoryTarget(searchId)) {
        const result = await searchResultFromRunDir(searchId);
        for (const line of describeResult(result, result.objectives)) console.log(line);
        if (result.outcome === 'partial') process.exitCode = EXIT.partial;
        if (options.csv) await fs.copyFile(runFiles(result.runDir).frontCsv, options.csv);
        if (options.json) await fs.copyFile(result.resultsFile, options.json);
        if (options.csv) console.log(`front written to ${options.csv}`);
        if (options.json) console.log(`results written to ${options.json}`);
        return;
      }
      await withClient(searchId, async (client) => {
        const status = await searchStatus(client, searchId);
        if (!status) throw new ExitError(EXIT.notFound, `no search "${searchId}" (workflow nas/${searchId})`);
        if (status.result) {
          for (const line of describeResult(status.result, status.objectives)) console.log(line);
          if (status.result.outcome === 'partial') process.exitCode = EXIT.partial;
          const runDir = status.result.runDir;
          if (options.csv) await fs.copyFile(runFiles(runDir).frontCsv, options.csv);
          if (options.json) await fs.copyFile(runFiles(runDir).results, options.json);
        } else if (status.progress) {
          console.log(`search ${searchId} is ${status.status}; best so far:`);
          for (const line of describeProgress(status.progress)) console.log(line);
          if (options.csv || options.json) {
            const rows = status.progress.front.map((m) => ({
              key: m.key,
              ...Object.fromEntries(status.objectives.map((o, i) => [o, m.objectives[i]])),
            }));
            if (options.csv) {
              const header = ['key', ...status.objectives];
              const lines = [
                header.join(','),
                ...rows.map((r) => header.map((h) => String((r as Record<string, unknown>)[h])).join(',')),
              ];
              await fs.writeFile(options.csv, `${lines.join('\n')}\n`);
            }
            if (options.json)
              await fs.writeFile(
                options.json,
                JSON.stringify({ searchId, status: status.status, front: rows }, null, 2),
              );
          }
        } else {
          throw new ExitError(
            EXIT.searchFailed,
            `search ${searchId} is ${status.status} and has no results; try \`imcnas resume-failed ${searchId}\``,
          );
        }
        if (options.csv) console.log(`front written to ${options.csv}`);
        if (options.json) console.log(`results written to ${options.json}`);
      });
    });

  program
    .command('export')
    .description(
      'export a design for another simulator: --to neurosim writes NetWork.csv, Param.cpp settings, real weight/input traces and run.sh (DNN+NeuroSim V1.4); --to aihwkit writes model.onnx and aihwkit.json (the InferenceRPUConfig mapped from the design, docs/aihwkit-export.md)',
    )
    .argument('<searchId|runDir>')
    .argument('<designKey>', 'a retrained design (a key under final/ in the run directory) or a genome key')
    .requiredOption('--to <tool>', 'neurosim or aihwkit')
    .option('--out <dir>', 'write here (default: <runDir>/export/<designKey>/<tool>)')
    .option('--images <n>', 'neurosim: Fashion-MNIST test images to trace', '4')
    .option(
      '--drift <seconds>',
      "aihwkit: comma-separated times after programming (default: the run's robustness.driftSeconds)",
    )
    .action(
      async (
        target: string,
        designKey: string,
        options: { to: string; out?: string; images: string; drift?: string },
      ) => {
        if (options.to !== 'neurosim' && options.to !== 'aihwkit')
          throw new ExitError(
            EXIT.invalid,
            `--to: unknown tool "${options.to}"; use --to neurosim or --to aihwkit`,
          );
        const images = Number(options.images);
        if (!Number.isInteger(images) || images < 1)
          throw new ExitError(EXIT.invalid, `--images: a whole number ≥ 1, got "${options.images}"`);
        const driftSeconds = options.drift?.split(',').map((t) => Number(t.trim()));
        if (driftSeconds?.some((t) => !(Number.isFinite(t) && t >= 0)))
          throw new ExitError(
            EXIT.invalid,
            `--drift: comma-separated seconds ≥ 0 (e.g. 1,3600,86400), got "${options.drift}"`,
          );
        const runDir = await finishedRunDir(target);
        await initTensorEngine({ log: () => undefined });
        try {
          if (options.to === 'aihwkit') {
            const result = await exportRunDesignToAihwkit({
              runDir,
              designKey,
              outDir: options.out,
              driftSeconds,
            });
            console.log(`aihwkit ${AIHWKIT_TARGET.version} export written to ${result.outDir}`);
            console.log(
              `  run it: python bench/peers/aihwkit/run.py ${result.outDir} (with ${AIHWKIT_TARGET.pypi}; docs/aihwkit-export.md)`,
            );
            for (const note of result.config.cannotMap) console.log(`  note: ${note}`);
            return;
          }
          const result = await exportRunDesignToNeuroSim({ runDir, designKey, outDir: options.out, images });
          console.log(`NeuroSim V${NEUROSIM_TARGET.version} export written to ${result.outDir}`);
          console.log(
            `  run it: ${path.join(result.outDir, 'run.sh')} <DNN_NeuroSim_V1.4/Inference_pytorch/NeuroSIM>`,
          );
          for (const note of result.approximations) console.log(`  note: ${note}`);
        } catch (error) {
          if (error instanceof NeuroSimExportError || error instanceof AihwkitExportError)
            throw new ExitError(EXIT.invalid, error.message);
          throw error;
        }
      },
    );

  program
    .command('resume-failed')
    .description(
      'restart a failed, cancelled or terminated search from its run directory: finished epochs, candidates and stages are not redone',
    )
    .argument('<searchId>')
    .action(async (searchId: string) =>
      withClient(searchId, async (client) => {
        const started = await resumeFailedSearch(client, searchId);
        console.log(`Resumed search ${searchId} (run ${started.runId}); artifacts ${started.runDir}`);
      }),
    );

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
    if (
      error instanceof ReportInputError ||
      error instanceof UnsafePathError ||
      error instanceof RunConflictError ||
      error instanceof OnnxImportError ||
      error instanceof OnnxFormatError
    ) {
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
