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
 *   IMCNAS_BASELINE_CONFIG=examples/quick.yaml takes the baseline section from that file instead.
 *   IMCNAS_BASELINE_NETWORKS=vgg restricts the networks measured (comma-separated names).
 *   IMCNAS_BASELINE_COST_ONLY=1 (with a run directory) skips the baselines' training and test: the EDAP
 *     ratios from the cost model only, with the noisy accuracies null (cost_only: true in the figures).
 *
 * Figures: searched_noisy_mean (stage 4's first retrained design), baseline_noisy_mean_<name>,
 * edap_ratio_<name> (baseline / searched; target ≥ 10 at no worse noisy accuracy), their digital accuracies,
 * and, for context, the EDAP ratio against the front's lowest-EDAP design (inherited-weight accuracy only).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BaselineResult, FinalModelResult, SearchResult } from '../contracts';
import { loadConfigFile } from '../config/load';
import type { RunConfig } from '../config/schema';
import { startSearch } from '../client/searches';
import { runBaselineFinal } from '../tasks/chipEvaluation';
import { run as trainTask } from '../tasks/supernetTraining';
import { loadRunResults } from '../report/runData';
import { BaselineSchema, baselineDesign, baselineNetworkNamed, baselineNetworks } from '../search/baseline';
import { hardwareMetrics } from '../search/evolution';
import { withInProcessWorkers } from './inProcessSearch';
import type { BenchFigures } from './run';

interface Measured {
  config: RunConfig;
  searchId: string;
  finals: FinalModelResult[];
  baselines: BaselineResult[];
  frontMinEdap: number | null;
  frontMinEdapAccuracy: number | null;
}

const COST_ONLY = process.env.IMCNAS_BASELINE_COST_ONLY === '1';
const nullIfNaN = (x: number) => (Number.isNaN(x) ? null : x);

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

/** A baseline's cost-model figures only (no training, no test): accuracies are NaN. */
function costOnly(config: RunConfig, name: string): BaselineResult {
  const network = baselineNetworkNamed(config.baseline, name);
  const design = baselineDesign(network, config.baseline!.chip, config.space.network);
  return {
    key: design.key,
    name,
    description: design.description,
    testAccuracyDigital: NaN,
    testAccuracyMean: NaN,
    testAccuracyStd: NaN,
    testAccuracyP5: NaN,
    reportAtSeconds: NaN,
    testDrift: [],
    samples: 0,
    exportDir: '',
    hardware: { accuracy: NaN, ...hardwareMetrics(design.space, design.genome) },
  };
}

async function fromRunDir(runDir: string): Promise<Measured> {
  const { results, config: runConfig } = await loadRunResults(runDir);
  // IMCNAS_BASELINE_CONFIG=<config file>: its baseline section instead of the run's (e.g. a run made before
  // baselines existed measured against examples/quick.yaml's baseline).
  const from = process.env.IMCNAS_BASELINE_CONFIG;
  const section = from ? (await loadConfigFile(from)).baseline : runConfig.baseline;
  const config: RunConfig = { ...runConfig, baseline: section ?? BaselineSchema.parse({}) };
  let baselines = (results.baselines ?? []).map(({ versus: _versus, ...b }) => b as BaselineResult);
  const names = wanted(baselineNetworks(config.baseline).map((n) => n.name));
  if (COST_ONLY) baselines = names.map((name) => costOnly(config, name));
  else if (baselines.length === 0) {
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
  const config = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  return withInProcessWorkers(config, config.temporal.taskQueuePrefix, async (client) => {
    const search = await startSearch(client, config, {
      searchId: `bench-baseline-${Date.now().toString(36)}`,
    });
    const result = (await client.workflow.getHandle(search.workflowId).result()) as SearchResult;
    const measured = await fromRunDir(result.runDir);
    return { ...measured, baselines: (result.baselines ?? []).filter((b) => wanted([b.name]).length > 0) };
  });
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
    figures[`baseline_digital_${baseline.name}`] = nullIfNaN(baseline.testAccuracyDigital);
    figures[`baseline_noisy_mean_${baseline.name}`] = nullIfNaN(baseline.testAccuracyMean);
    figures[`baseline_noisy_p5_${baseline.name}`] = nullIfNaN(baseline.testAccuracyP5);
    figures[`baseline_edap_${baseline.name}`] = baseline.hardware.edap;
    figures[`edap_ratio_${baseline.name}`] = ratio;
    figures[`noisy_mean_difference_${baseline.name}`] = nullIfNaN(
      searched.testAccuracyMean - baseline.testAccuracyMean,
    );
    if (measured.frontMinEdap !== null)
      figures[`edap_ratio_front_min_${baseline.name}`] = baseline.hardware.edap / measured.frontMinEdap;
    // Unknown accuracy (cost only) cannot meet the target; a ratio below 10 fails it whatever the accuracy.
    allMeetTarget &&= ratio >= 10 && searched.testAccuracyMean >= baseline.testAccuracyMean;
  }
  // The first baseline's figures also under the plain names.
  const first = measured.baselines[0];
  if (first) {
    figures.baseline_noisy_mean = nullIfNaN(first.testAccuracyMean);
    figures.edap_ratio = first.hardware.edap / searched.hardware.edap;
  }
  figures.front_min_edap = measured.frontMinEdap;
  figures.front_min_edap_inherited_accuracy = measured.frontMinEdapAccuracy;
  figures.cost_only = COST_ONLY;
  figures.target_met = allMeetTarget;
  return figures;
}
