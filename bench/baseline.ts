/**
 * The found design against the hand-designed baselines on the same pipeline (issue #15's `baseline`):
 * the same retraining recipe (retrain.*), the same noisy test (robustness.samples fresh chips at
 * robustness.reportAt, retrain.testImages test images) and the same cost model (hardware/cost.ts).
 *
 *   npm run bench -- baseline
 *     runs examples/quick.yaml (which has a baseline section) on the dev server, as the demo does;
 *   IMCNAS_BASELINE_RUN_DIR=runs/<searchId> npm run bench -- baseline
 *     reads a finished run: its results.json `baselines` when it has them, otherwise it trains and tests
 *     the baselines (config.baseline, or vgg and resnet on the default chip) with that run's configuration,
 *     in this process, through the same stage-4 tasks, under a scratch directory (the run is not touched).
 *   IMCNAS_BASELINE_NETWORKS=vgg restricts the networks measured (comma-separated names).
 *
 * Figures: searched_noisy_mean (stage 4's first retrained design), baseline_noisy_mean_<name>,
 * edap_ratio_<name> (baseline / searched; target ≥ 10 at no worse noisy accuracy), their digital accuracies,
 * and, for context, the EDAP ratio against the front's lowest-EDAP design (inherited-weight accuracy only).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BaselineResult, FinalModelResult, SearchResult } from '../activities/contracts';
import { loadConfigFile } from '../config/load';
import type { RunConfig } from '../config/schema';
import { clientSettingsFor, connectClient, startSearch } from '../client/searches';
import { installJsonLogging } from '../client/logging';
import { runBaselineFinal } from '../models/tasks/chipEvaluation';
import { run as trainTask } from '../models/tasks/supernetTraining';
import { loadRunResults } from '../report/runData';
import { BaselineSchema, baselineNetworks } from '../search/baseline';
import { setup } from '../scripts/setup';
import { runInProcessWorkers } from '../worker';
import type { BenchFigures } from './run';

interface Measured {
  config: RunConfig;
  searchId: string;
  finals: FinalModelResult[];
  baselines: BaselineResult[];
  frontMinEdap: number | null;
  frontMinEdapAccuracy: number | null;
}

const log = (message: string) => console.error(`[bench baseline] ${message}`);

function wanted(names: string[]): string[] {
  const only = process.env.IMCNAS_BASELINE_NETWORKS?.split(',').filter(Boolean);
  return only ? names.filter((name) => only.includes(name)) : names;
}

/** Trains and tests one baseline exactly as the workflow's activities would, in this process. */
async function measureBaseline(config: RunConfig, workDir: string, name: string): Promise<BaselineResult> {
  const dir = path.join(workDir, 'baseline', name);
  const stored = await fs
    .readFile(path.join(dir, 'final.json'), 'utf8')
    .then((text) => JSON.parse(text) as BaselineResult & { raw?: unknown })
    .catch(() => undefined);
  if (stored) {
    const { raw: _raw, ...result } = stored;
    return result;
  }
  const context = {
    report: (p: { step: number; total: number; message: string }) =>
      p.step % 200 === 0 || /epoch \d+ done|accuracy/.test(p.message)
        ? log(`${name}: ${p.message}`)
        : undefined,
  };
  for (let epoch = 1; epoch <= config.retrain.epochs; epoch++)
    await trainTask(
      { dir: path.join(dir, 'train'), config, untilEpoch: epoch, attempt: 1, baseline: name },
      context,
    );
  return runBaselineFinal(
    { runDir: workDir, trainDir: path.join(dir, 'train'), dir, config, baseline: name },
    context,
  );
}

async function fromRunDir(runDir: string): Promise<Measured> {
  const { results, config: runConfig } = await loadRunResults(runDir);
  const config: RunConfig = { ...runConfig, baseline: runConfig.baseline ?? BaselineSchema.parse({}) };
  let baselines = (results.baselines ?? []).map(({ versus: _versus, ...b }) => b as BaselineResult);
  const names = wanted(baselineNetworks(config.baseline).map((n) => n.name));
  if (baselines.length === 0) {
    const workDir = path.join(os.tmpdir(), 'imcnas-bench-baseline', results.searchId);
    log(`${runDir} has no baselines: measuring ${names.join(', ')} under ${workDir}`);
    for (const name of names) baselines.push(await measureBaseline(config, workDir, name));
  } else baselines = baselines.filter((b) => names.includes(b.name));
  const cheapest = [...results.front].sort((a, b) => a.metrics.edap - b.metrics.edap)[0];
  return {
    config,
    searchId: results.searchId,
    finals: results.finalModels,
    baselines,
    frontMinEdap: cheapest?.metrics.edap ?? null,
    frontMinEdapAccuracy: cheapest?.metrics.accuracy ?? null,
  };
}

async function fromDemoSearch(): Promise<Measured> {
  installJsonLogging('WARN');
  const config = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const settings = clientSettingsFor(config);
  await setup({ address: settings.address });
  const workers = await runInProcessWorkers(settings, config.temporal.taskQueuePrefix);
  const client = await connectClient(settings);
  try {
    const search = await startSearch(client, config, {
      searchId: `bench-baseline-${Date.now().toString(36)}`,
    });
    const result = (await client.workflow.getHandle(search.workflowId).result()) as SearchResult;
    const measured = await fromRunDir(result.runDir);
    return { ...measured, baselines: (result.baselines ?? []).filter((b) => wanted([b.name]).length > 0) };
  } finally {
    await workers.stop();
    await client.connection.close();
  }
}

export async function run(): Promise<BenchFigures> {
  const runDir = process.env.IMCNAS_BASELINE_RUN_DIR;
  const measured = runDir ? await fromRunDir(runDir) : await fromDemoSearch();
  const searched = measured.finals[0];
  if (!searched)
    throw new Error('the run has no retrained design (stage 4 did not finish): nothing to compare');
  const figures: BenchFigures = {
    source: runDir ? `run directory ${runDir}` : 'examples/quick.yaml search',
    search_id: measured.searchId,
    searched_design: searched.key,
    searched_digital: searched.testAccuracyDigital,
    searched_noisy_mean: searched.testAccuracyMean,
    searched_noisy_p5: searched.testAccuracyP5,
    searched_edap: searched.hardware.edap,
    test_images: measured.config.retrain.testImages,
    chips: searched.samples,
    retrain_epochs: measured.config.retrain.epochs,
  };
  let allMeetTarget = measured.baselines.length > 0;
  for (const baseline of measured.baselines) {
    const ratio = baseline.hardware.edap / searched.hardware.edap;
    figures[`baseline_design_${baseline.name}`] = baseline.description;
    figures[`baseline_digital_${baseline.name}`] = baseline.testAccuracyDigital;
    figures[`baseline_noisy_mean_${baseline.name}`] = baseline.testAccuracyMean;
    figures[`baseline_noisy_p5_${baseline.name}`] = baseline.testAccuracyP5;
    figures[`baseline_edap_${baseline.name}`] = baseline.hardware.edap;
    figures[`edap_ratio_${baseline.name}`] = ratio;
    figures[`noisy_mean_difference_${baseline.name}`] = searched.testAccuracyMean - baseline.testAccuracyMean;
    if (measured.frontMinEdap !== null)
      figures[`edap_ratio_front_min_${baseline.name}`] = baseline.hardware.edap / measured.frontMinEdap;
    allMeetTarget &&= ratio >= 10 && searched.testAccuracyMean >= baseline.testAccuracyMean;
  }
  // The first baseline's figures also under the plain names.
  const first = measured.baselines[0];
  if (first) {
    figures.baseline_noisy_mean = first.testAccuracyMean;
    figures.edap_ratio = first.hardware.edap / searched.hardware.edap;
  }
  figures.front_min_edap = measured.frontMinEdap;
  figures.front_min_edap_inherited_accuracy = measured.frontMinEdapAccuracy;
  figures.target_met = allMeetTarget;
  return figures;
}
