/**
 * The per-search HTML report: one self-contained file (inline CSS, inline SVG plots, no script, no URL of
 * any kind) written next to results.json. `buildReport` reads a run directory (and optionally a second run
 * to compare with) and returns the page; `writeReport` writes it atomically.
 */
import { describeDesign } from '../search/describe';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DroppedCounts, SearchResult } from '../contracts';
import { deriveSeed } from '../common/rng';
import { reportAtSeconds } from '../config/schema';
import { buildLayout } from '../search/space/layout';
import { resolveSearchSpace } from '../search/space/parse';
import { spaceSize } from '../search/space/sampling';
import { writeFileAtomic } from '../storage/atomic';
import { STAGE_NAMES, type WorkTiming } from '../storage/stageTiming';
import type { TrainingRecord } from './runData';
import {
  algorithmLabel,
  bestObjectiveCurves,
  breakdownOf,
  hypervolumeCurves,
  isLogScaled,
  objectiveNames,
  objectiveValues,
  type ComparedRun,
} from './analysis';
import {
  driftCurves,
  frontScatter,
  generationCurve,
  renderSvg,
  robustnessDistribution,
  robustVsClean,
  stackedBars,
  stageTimeline,
  trainingCurves,
} from './charts';
import { escapeHtml, figure, note, number, page, percent, seconds, section, table } from './html';
import {
  loadRunData,
  loadRunResults,
  loadSupernetChunks,
  REPORT_FILE,
  RESULTS_FILE,
  ReportInputError,
  type ResultsCandidate,
  type RunData,
} from './runData';

export { ReportInputError, REPORT_FILE, loadRunResults };

export interface ReportOptions {
  /** A second run (directory or results.json) whose search is compared on the same hypervolume yardstick. */
  compare?: string;
}

const METRIC_TITLES: Record<string, { title: string; percent?: boolean }> = {
  accuracy: { title: 'validation accuracy (inherited weights)', percent: true },
  robustAccuracyMean: { title: 'noisy mean accuracy', percent: true },
  robustAccuracyP5: { title: 'noisy 5th-percentile accuracy', percent: true },
  energy: { title: 'energy per image (J)' },
  latency: { title: 'latency per image (s)' },
  area: { title: 'chip area (mm²)' },
  edap: { title: 'EDAP (J·s·mm²)' },
  edp: { title: 'EDP (J·s)' },
  topsPerWatt: { title: 'TOPS/W' },
  topsPerMm2: { title: 'TOPS/mm²' },
};

function metricTitle(metric: string): string {
  return METRIC_TITLES[metric]?.title ?? metric;
}

function formatMetricValue(metric: string, value: number): string {
  return METRIC_TITLES[metric]?.percent ? percent(value) : number(value);
}

// ------------------------------------------------------------------------------------------ sections

function headerHtml(data: RunData, runs: ComparedRun[]): string {
  const { results, config } = data;
  const facts = [
    `search <b>${escapeHtml(results.searchId)}</b> (${escapeHtml(results.name)})`,
    `dataset ${escapeHtml(config.dataset.name)}`,
    `search algorithm ${escapeHtml(algorithmLabel(config))}`,
    `${results.generations.length} generations, ${results.evaluations} candidates evaluated`,
    `objectives ${results.objectives.map((o) => escapeHtml(o.metric)).join(', ')}`,
    data.createdAt ? `started ${escapeHtml(data.createdAt)}` : '',
    results.stoppedEarly ? `<b>stopped early (${escapeHtml(results.stoppedEarly)})</b>` : '',
    results.outcome === 'partial' ? '<b class="partial">PARTIAL RESULT: some evaluations failed</b>' : '',
    runs.length > 1 ? `compared with ${escapeHtml(runs[1].label)}` : '',
  ].filter(Boolean);
  const problems = results.problems?.length
    ? `\n<div class="problems"><b>Problems (${escapeHtml(droppedSummary(results.dropped))})</b><ul>${results.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></div>`
    : '';
  return `<h1>imcnas report: ${escapeHtml(results.searchId)}</h1>\n<p class="muted">${facts.join(' · ')}</p>${problems}`;
}

function droppedSummary(dropped: DroppedCounts | undefined): string {
  const d = dropped ?? { candidates: 0, robustness: 0, finals: 0 };
  return `dropped: ${d.candidates} candidates, ${d.robustness} robustness evaluations, ${d.finals} final designs${d.baselines ? `, ${d.baselines} baselines` : ''}`;
}

function finalModelsSection(data: RunData): string {
  const { results } = data;
  if (results.finalModels.length === 0)
    return note(
      'No retrained design: the search stopped before stage 4 (or no design passed stage 3), so there are no test-set results.',
    );
  return (
    table(
      [
        'design',
        'test acc. digital',
        'noisy mean',
        'noisy std',
        'noisy p5',
        'chips',
        'energy (J)',
        'latency (s)',
        'area (mm²)',
        'EDAP (J·s·mm²)',
        'TOPS/W',
        'TOPS/mm²',
        'description',
      ],
      [...results.finalModels, ...(results.baselines ?? [])].map((final) => ({
        attributes: { 'data-key': final.key },
        cells: [
          final.key,
          { text: percent(final.testAccuracyDigital), value: final.testAccuracyDigital },
          { text: percent(final.testAccuracyMean), value: final.testAccuracyMean },
          { text: percent(final.testAccuracyStd), value: final.testAccuracyStd },
          { text: percent(final.testAccuracyP5), value: final.testAccuracyP5 },
          String(final.samples),
          { text: number(final.hardware.energy), value: final.hardware.energy },
          { text: number(final.hardware.latency), value: final.hardware.latency },
          { text: number(final.hardware.area), value: final.hardware.area },
          { text: number(final.hardware.edap), value: final.hardware.edap },
          { text: number(final.hardware.topsPerWatt), value: final.hardware.topsPerWatt },
          { text: number(final.hardware.topsPerMm2), value: final.hardware.topsPerMm2 },
          {
            text: escapeHtml(
              'description' in final
                ? `hand-designed baseline ${final.description}`
                : (results.candidates.find((c) => c.key === final.key)?.description ?? ''),
            ),
            html: true,
          },
        ],
      })),
      { class: 'finals' },
    ) + baselineComparisonTable(results.baselines ?? [])
  );
}

/** The found design against each hand-designed baseline (same retraining, noisy test and cost model). */
function baselineComparisonTable(baselines: NonNullable<RunData['results']['baselines']>): string {
  const compared = baselines.flatMap((baseline) =>
    baseline.versus ? [{ baseline, versus: baseline.versus }] : [],
  );
  if (compared.length === 0) return '';
  return (
    '<p>The found design against the hand-designed baselines, each retrained with the same recipe and tested on its own fresh noisy chips: EDAP ratio = baseline / found (above 1, the found chip is better); accuracy difference = found − baseline.</p>' +
    table(
      ['baseline', 'found design', 'EDAP ratio', 'noisy mean difference', 'digital difference'],
      compared.map(({ baseline, versus }) => ({
        attributes: { 'data-key': baseline.key },
        cells: [
          baseline.key,
          versus.searchedKey,
          { text: `${versus.edapRatio.toPrecision(3)}×`, value: versus.edapRatio },
          { text: signedPoints(versus.noisyAccuracyDifference), value: versus.noisyAccuracyDifference },
          { text: signedPoints(versus.digitalAccuracyDifference), value: versus.digitalAccuracyDifference },
        ],
      })),
      { class: 'baselines' },
    )
  );
}

function signedPoints(difference: number): string {
  return `${difference >= 0 ? '+' : '−'}${Math.abs(difference * 100).toFixed(2)} points`;
}

async function frontSection(data: RunData): Promise<string[]> {
  const { results } = data;
  const names = objectiveNames(results);
  const robustByKey = new Map(results.robustness.map((r) => [r.key, r]));
  const body: string[] = [
    `<p>The Pareto front over the run's objectives (${names.map(escapeHtml).join(', ')}): ${results.front.length} of ${results.candidates.length} evaluated designs. Accuracy here is the validation accuracy a design reaches with weights inherited from the supernet.</p>`,
    table(
      ['design', 'generation', ...names.map(metricTitle), 'noisy mean', 'noisy p5', 'description'],
      results.front.map((candidate) => {
        const values = objectiveValues(results, candidate);
        const robust = robustByKey.get(candidate.key);
        return {
          attributes: { 'data-key': candidate.key, 'data-objectives': JSON.stringify(values) },
          cells: [
            candidate.key,
            String(candidate.generation + 1),
            ...values.map((value, i) => ({ text: formatMetricValue(names[i], value), value })),
            robust ? { text: percent(robust.accuracyMean), value: robust.accuracyMean } : '—',
            robust ? { text: percent(robust.accuracyP5), value: robust.accuracyP5 } : '—',
            { text: escapeHtml(candidate.description), html: true },
          ],
        };
      }),
      { class: 'front', 'data-objective-names': JSON.stringify(names) },
    ),
  ];
  const rows = results.candidates.map((c) => ({
    key: c.key,
    onFront: c.onFront,
    accuracy: c.metrics.accuracy,
    edap: c.metrics.edap,
    energy: c.metrics.energy,
    latency: c.metrics.latency,
    area: c.metrics.area,
  }));
  // The hand-designed baselines at their retrained digital test accuracy (the front: inherited weights).
  for (const baseline of results.baselines ?? [])
    rows.push({
      key: baseline.key,
      onFront: false,
      baseline: true,
      accuracy: baseline.testAccuracyDigital,
      edap: baseline.hardware.edap,
      energy: baseline.hardware.energy,
      latency: baseline.hardware.latency,
      area: baseline.hardware.area,
    } as (typeof rows)[number]);
  const y = { field: 'accuracy', title: metricTitle('accuracy'), log: false, percent: true };
  for (const metric of ['edap', 'energy', 'latency', 'area']) {
    const svg = await renderSvg(
      frontScatter(
        rows,
        { field: metric, title: metricTitle(metric), log: true },
        y,
        `Accuracy vs ${metric}`,
      ),
    );
    body.push(
      figure(
        `front-${metric}`,
        svg,
        `Accuracy against ${metricTitle(metric)} (log scale). Grey: every evaluated design; red: the Pareto front over ${names.join(', ')}${results.baselines?.length ? '; blue squares: the hand-designed baselines at their retrained digital test accuracy' : ''}.`,
      ),
    );
  }
  if (results.robustness.length > 0) {
    const robustRows = results.robustness.map((r) => ({
      design: r.key,
      clean: r.digitalAccuracy,
      mean: r.accuracyMean,
      p5: r.accuracyP5,
    }));
    body.push(
      figure(
        'robust-vs-clean',
        await renderSvg(robustVsClean(robustRows)),
        'Each front design evaluated on noisy chips: mean accuracy over the Monte-Carlo chips against its digital accuracy on the same images; the bar goes down to the 5th percentile; on the dashed diagonal noise costs nothing.',
      ),
    );
  } else
    body.push(
      note(
        'No design was evaluated on noisy chips (stage 3 did not run), so there is no robust-vs-clean plot.',
      ),
    );
  return body;
}

async function searchProgressSection(data: RunData, runs: ComparedRun[]): Promise<string[]> {
  const body: string[] = [];
  const label = runs.map((r) => r.label).join(' vs ');
  body.push(
    `<p>Hypervolume of everything evaluated up to each generation, normalized as imcnas compares searches: hardware costs on a log10 scale, ideal and nadir taken from the non-dominated set of ${runs.length > 1 ? 'both runs' : 'the run'}'s feasible designs, reference point 1.1 in every normalized objective (largest possible value ${Math.pow(1.1, objectiveNames(runs[0].results).length).toFixed(3)}). ${runs.length > 1 ? '' : `This run used ${escapeHtml(algorithmLabel(data.config))}${data.config.evolution.algorithm === 'random' ? ' (the baseline, not NSGA-II)' : ''}; pass <code>--compare &lt;other run&gt;</code> to draw another run (e.g. a random-search run with the same budget) on the same yardstick.`}</p>`,
  );
  const hv = hypervolumeCurves(runs);
  if (hv.length === 0)
    body.push(note('No feasible design was evaluated, so the hypervolume is 0 throughout.'));
  else {
    body.push(
      figure(
        'hypervolume',
        await renderSvg(
          generationCurve(hv, 'hypervolume', `Normalized hypervolume (${label})`, 'hypervolume'),
        ),
        'Hypervolume of the feasible designs evaluated so far, per generation.',
      ),
    );
    const last = new Map(hv.map((p) => [p.run, p]));
    body.push(
      table(
        ['run', 'generations', 'evaluations', 'final hypervolume'],
        [...last.values()].map((p) => ({
          cells: [
            p.run,
            String(p.generation),
            String(p.evaluations),
            { text: p.hypervolume.toFixed(4), value: p.hypervolume },
          ],
        })),
        { class: 'hypervolume' },
      ),
    );
  }
  const best = bestObjectiveCurves(runs);
  for (const objective of objectiveNames(runs[0].results)) {
    const rows = best.filter((p) => p.objective === objective);
    if (rows.length === 0) continue;
    body.push(
      figure(
        `best-${objective}`,
        await renderSvg(
          generationCurve(rows, 'best', `Best ${objective} so far`, metricTitle(objective), {
            log: isLogScaled(objective),
            percent: METRIC_TITLES[objective]?.percent,
          }),
        ),
        `Best feasible ${metricTitle(objective)} among the designs evaluated up to each generation.`,
      ),
    );
  }
  return body;
}

async function robustnessSection(data: RunData): Promise<string[]> {
  const { results, config } = data;
  const body: string[] = [];
  if (results.robustness.length === 0)
    return [note('Stage 3 (noisy-chip robustness) did not run for this search.')];
  body.push(
    table(
      ['design', 'evaluator', 'chips', 'digital', 'noisy mean', 'std', 'min', 'p5'],
      results.robustness.map((r) => ({
        attributes: { 'data-key': r.key },
        cells: [
          r.key,
          r.evaluator,
          String(r.samples),
          { text: percent(r.digitalAccuracy), value: r.digitalAccuracy },
          { text: percent(r.accuracyMean), value: r.accuracyMean },
          { text: percent(r.accuracyStd), value: r.accuracyStd },
          { text: percent(r.accuracyMin), value: r.accuracyMin },
          { text: percent(r.accuracyP5), value: r.accuracyP5 },
        ],
      })),
      { class: 'robustness' },
    ),
  );
  const samples: Array<Record<string, string | number>> = [];
  const digital: Array<Record<string, string | number>> = [];
  const headlineTime = reportAtSeconds(config);
  for (const r of results.robustness) {
    const raw = data.robustSamples.get(r.key);
    const headline = raw?.points.find((point) => point.timeS === headlineTime);
    if (!headline) continue;
    for (const accuracy of headline.accuracies) samples.push({ design: r.key, accuracy });
    digital.push({ design: r.key, accuracy: r.digitalAccuracy });
  }
  if (samples.length > 0)
    body.push(
      figure(
        'robustness-samples',
        await renderSvg(
          robustnessDistribution(
            samples,
            digital,
            `Accuracy on Monte-Carlo chips, ${headlineTime} s after programming`,
          ),
        ),
        'One tick per simulated chip (device variation, read noise, stuck-at faults, ADC quantization); the box spans min–max with the median; the red diamond is the digital accuracy.',
      ),
    );
  else body.push(note('Per-chip accuracies were not recorded (robust/<design>.json has no raw samples).'));

  const driftRows = (
    key: string,
    drift: Array<{ seconds: number; accuracyMean: number; accuracyP5: number }>,
  ) =>
    drift.flatMap((point) => [
      { design: key, seconds: point.seconds, statistic: 'mean', accuracy: point.accuracyMean },
      { design: key, seconds: point.seconds, statistic: 'p5', accuracy: point.accuracyP5 },
    ]);
  if (config.robustness.driftSeconds.length > 1) {
    body.push(
      figure(
        'drift-front',
        await renderSvg(
          driftCurves(
            results.robustness.flatMap((r) => driftRows(r.key, r.drift)),
            'Drift: front designs (validation images)',
          ),
        ),
        'Mean and 5th-percentile accuracy over the Monte-Carlo chips at each time after programming.',
      ),
    );
    const finalDrift = [...data.finals.entries()].flatMap(([key, final]) => driftRows(key, final.drift));
    if (finalDrift.length > 0)
      body.push(
        figure(
          'drift-final',
          await renderSvg(driftCurves(finalDrift, 'Drift: retrained designs (test set)')),
          'The retrained designs on the test set, same statistics.',
        ),
      );
  } else
    body.push(
      note(
        `Drift curves need several robustness.driftSeconds; this run computed one time (${headlineTime} s).`,
      ),
    );
  return body;
}

const ENERGY_COMPONENTS = [
  'array',
  'adc',
  'sampleHold',
  'dac',
  'shiftAdd',
  'accumulation',
  'buffer',
  'interconnect',
  'offChipIo',
  'leakage',
] as const;
const AREA_COMPONENTS = [
  'array',
  'adc',
  'sampleHold',
  'dac',
  'shiftAdd',
  'tileBuffer',
  'globalBuffer',
  'interconnect',
  'periphery',
  'layoutOverhead',
  'offChipIo',
] as const;

async function hardwareSection(data: RunData): Promise<string[]> {
  const { results } = data;
  const byKey = new Map(results.candidates.map((c) => [c.key, c]));
  let chosen: ResultsCandidate[] = results.finalModels.flatMap((f) => byKey.get(f.key) ?? []);
  const body: string[] = [];
  if (chosen.length === 0) {
    const best = [...results.front].sort((a, b) => b.metrics.accuracy - a.metrics.accuracy)[0];
    if (!best) return [note('No design to break down: the search evaluated none.')];
    chosen = [best];
    body.push(note(`No retrained design; showing the most accurate front design ${best.key} instead.`));
  }
  const breakdowns = chosen.map(breakdownOf);
  body.push(
    "<p>Energy per image and chip area by component and by layer, from the analytical cost model (hardware/cost.ts) on each chosen design's decoded network and chip; results.json stores only the totals, so the breakdown is recomputed here.</p>",
  );
  for (const b of breakdowns)
    if (b.mismatch > 1e-9)
      body.push(
        note(
          `${b.key}: the recomputed totals differ from the search's stored metrics by up to ${(b.mismatch * 100).toFixed(3)} % (the cost model changed since the run).`,
        ),
      );
  const energyRows = breakdowns.flatMap((b) =>
    ENERGY_COMPONENTS.map((component) => ({
      design: b.key,
      component,
      value: b.cost.energyBreakdown[component],
    })),
  );
  const areaRows = breakdowns.flatMap((b) =>
    AREA_COMPONENTS.map((component) => ({
      design: b.key,
      component,
      value: b.cost.areaBreakdown[component],
    })),
  );
  body.push(
    figure(
      'energy-components',
      await renderSvg(stackedBars(energyRows, 'design', 'Energy per image by component', 'energy (J)')),
      'Where the energy of one inference goes, per chosen design.',
    ),
    figure(
      'area-components',
      await renderSvg(stackedBars(areaRows, 'design', 'Chip area by component', 'area (mm²)')),
      'What the chip area is made of, per chosen design.',
    ),
  );
  for (const b of breakdowns) {
    const layers = b.cost.layers ?? [];
    const layerEnergy = layers.flatMap((layer) =>
      ENERGY_COMPONENTS.map((component) => ({
        layer: layer.name,
        component,
        value: layer.energyBreakdown[component],
      })),
    );
    const layerArea = layers.map((layer) => ({
      layer: layer.name,
      component: 'tiles',
      value: layer.areaMm2,
    }));
    body.push(
      figure(
        `layer-energy-${b.key}`,
        await renderSvg(stackedBars(layerEnergy, 'layer', `Energy per layer: ${b.key}`, 'energy (J)')),
        `Energy per image of each layer of ${b.key}, by component.`,
      ),
      figure(
        `layer-area-${b.key}`,
        await renderSvg(stackedBars(layerArea, 'layer', `Tile area per layer: ${b.key}`, 'area (mm²)')),
        `Area of the tiles each layer of ${b.key} owns (global buffer and I/O excluded).`,
      ),
      table(
        ['layer', 'kind', 'arrays', 'tiles', 'energy (J)', 'latency (s)', 'area (mm²)', 'utilization'],
        layers.map((layer) => ({
          cells: [
            layer.name,
            layer.kind,
            String(layer.mapping.arrays),
            String(layer.tiles),
            { text: number(layer.energyJ), value: layer.energyJ },
            { text: number(layer.latencyS), value: layer.latencyS },
            { text: number(layer.areaMm2), value: layer.areaMm2 },
            percent(layer.utilization, 1),
          ],
        })),
        { class: 'layers', 'data-key': b.key },
      ),
    );
  }
  return body;
}

function trainingRows(
  record: TrainingRecord,
  perEpochFallback: Array<{ epoch: number; accuracy: number | null }>,
) {
  // At most ~400 step points: the curve's shape, not every step, keeps the page small.
  const stride = Math.max(1, Math.ceil(record.steps.length / 400));
  const steps = record.steps
    .filter((_, i) => i % stride === 0 || i === record.steps.length - 1)
    .map((s) => ({ step: s.globalStep, loss: s.loss }));
  const epochs = record.history
    ? record.history.epochs.map((e) => ({
        epoch: e.epoch,
        step: e.globalStep,
        meanLoss: e.meanLoss,
        accuracy: e.validationAccuracy,
      }))
    : perEpochFallback
        .filter((e) => e.accuracy !== null)
        .map((e) => ({ epoch: e.epoch, step: null, meanLoss: null, accuracy: e.accuracy }));
  return { steps, epochs };
}

async function trainingSection(data: RunData): Promise<string[]> {
  const body: string[] = [];
  const { supernet } = data;
  const { steps, epochs } = trainingRows(
    supernet,
    supernet.chunks.map((c) => ({ epoch: c.epochsCompleted, accuracy: c.validationAccuracy })),
  );
  if (!supernet.history)
    body.push(
      note(
        'Per-epoch training history not recorded: this run predates supernet/history.json. ' +
          (epochs.length ? 'Validation accuracy is taken from the training chunks instead.' : ''),
      ),
    );
  if (steps.length === 0 && epochs.length === 0)
    body.push(note('Supernet training curve not recorded: the run directory has no supernet training log.'));
  else
    body.push(
      figure(
        'supernet-training',
        await renderSvg(trainingCurves(steps, epochs, 'Supernet training')),
        "Left: training loss of the sampled path at every step (light) and its mean per epoch (dark). Right: the largest path's validation accuracy after BatchNorm recalibration at each epoch end.",
      ),
    );
  for (const [key, final] of data.finals) {
    const rows = trainingRows(final.training, []);
    if (rows.steps.length === 0 && rows.epochs.length === 0) continue;
    body.push(
      figure(
        `retraining-${key}`,
        await renderSvg(trainingCurves(rows.steps, rows.epochs, `Retraining ${key}`)),
        `Stage 4: ${key} trained from scratch, quantization-${data.config.retrain.noiseAware ? ' and noise-' : ''}aware.`,
      ),
    );
  }
  return body;
}

function spaceSection(data: RunData): string[] {
  const space = resolveSearchSpace(data.config.space);
  const size = spaceSize(space);
  const layout = buildLayout(space);
  return [
    `<p>Search space: <b data-space-size="${escapeHtml(size.candidates.count)}">${escapeHtml(size.candidates.scientific)}</b> candidate designs (${escapeHtml(size.note)}); network and quantization ${escapeHtml(size.networkAndQuantization.scientific)} × hardware ${escapeHtml(size.hardware.scientific)}; ${layout.length} genes, ${escapeHtml(size.genomeVectors.scientific)} raw genome vectors.</p>`,
    table(
      ['gene', 'domain', 'choices', 'values'],
      layout.genes.map((gene) => ({
        cells: [
          gene.name,
          gene.domain,
          String(gene.cardinality),
          { text: escapeHtml(gene.values.join(', ')), html: true },
        ],
      })),
      { class: 'genes' },
    ),
  ];
}

function configSection(data: RunData): string[] {
  const { config, results } = data;
  const seedRows = results.robustness.map((r) => ({
    cells: [
      r.key,
      String(deriveSeed(config.seed, 'chip', r.key)),
      (data.robustSamples.get(r.key)?.sampleSeeds ?? []).join(', ') || '—',
    ],
  }));
  return [
    `<p>Search seed <b>${config.seed}</b>: every random choice derives from it by name (epoch shuffles, sampled paths, generations, candidates, Monte-Carlo chips), so the same configuration and seed reproduce this search.</p>`,
    seedRows.length
      ? table(['design', 'chip seed', 'Monte-Carlo sample seeds'], seedRows, { class: 'seeds' })
      : '',
    '<h3>config.yaml</h3>',
    `<pre>${escapeHtml(data.configText)}</pre>`,
  ];
}

async function timingSection(data: RunData): Promise<string[]> {
  const timings = data.timings;
  if (timings.length === 0)
    return [note("Stage timings not recorded: this run predates the run directory's timing/ records.")];
  const byStage = new Map<string, WorkTiming[]>();
  for (const t of timings) byStage.set(t.stage, [...(byStage.get(t.stage) ?? []), t]);
  const origin = Math.min(
    ...timings.map((t) => Date.parse(t.firstStartedAt)),
    ...(data.createdAt ? [Date.parse(data.createdAt)] : []),
  );
  const rows = STAGE_NAMES.flatMap((stage) => {
    const units = byStage.get(stage);
    if (!units) return [];
    const start = Math.min(...units.map((u) => Date.parse(u.firstStartedAt)));
    const end = Math.max(...units.map((u) => Date.parse(u.lastFinishedAt)));
    return [
      {
        stage,
        start: (start - origin) / 1000,
        end: (end - origin) / 1000,
        busy: units.reduce((sum, u) => sum + u.busySeconds, 0),
        units: units.length,
        retried: units.filter((u) => u.attempts > 1).length,
        startedAt: new Date(start).toISOString(),
        finishedAt: new Date(end).toISOString(),
      },
    ];
  });
  return [
    table(
      ['stage', 'started', 'finished', 'wall time', 'work time', 'units of work', 'rerun units'],
      rows.map((r) => ({
        attributes: { 'data-stage': r.stage },
        cells: [
          r.stage,
          r.startedAt,
          r.finishedAt,
          { text: seconds(r.end - r.start), value: r.end - r.start },
          { text: seconds(r.busy), value: r.busy },
          String(r.units),
          String(r.retried),
        ],
      })),
      { class: 'timing' },
    ),
    '<p class="muted">Wall time: first start to last finish of the stage\'s activities. Work time: their durations summed (parallel work counts once per unit). The reporting stage\'s time covers writing results.json and front.csv; rendering this page comes after.</p>',
    figure(
      'timeline',
      await renderSvg(stageTimeline(rows)),
      'When each stage ran, in seconds since the run directory was created.',
    ),
  ];
}

// ------------------------------------------------------------------------------------------ entry points

export async function buildReport(runDir: string, options: ReportOptions = {}): Promise<string> {
  const data = await loadRunData(runDir);
  const runs: ComparedRun[] = [
    { label: `${algorithmLabel(data.config)} (${data.results.searchId})`, results: data.results },
  ];
  if (options.compare) {
    const other = await loadRunResults(options.compare);
    const mine = objectiveNames(data.results).join(',');
    const theirs = objectiveNames(other.results).join(',');
    if (mine !== theirs)
      throw new ReportInputError(
        `cannot compare ${other.runDir}: its objectives are ${theirs}, this run's are ${mine}; compare runs that optimize the same objectives`,
      );
    let label = `${algorithmLabel(other.config)} (${other.results.searchId})`;
    if (label === runs[0].label) label = `${label} [${path.basename(other.runDir)}]`;
    runs.push({ label, results: other.results });
  }
  const sections = [
    { id: 'final', title: 'Final designs', body: [finalModelsSection(data)] },
    { id: 'front', title: 'Pareto front', body: await frontSection(data) },
    { id: 'search', title: 'Search progress', body: await searchProgressSection(data, runs) },
    { id: 'robustness', title: 'Robustness on noisy chips', body: await robustnessSection(data) },
    { id: 'hardware', title: 'Energy and area breakdown', body: await hardwareSection(data) },
    { id: 'training', title: 'Training', body: await trainingSection(data) },
    { id: 'space', title: 'Search space', body: spaceSection(data) },
    { id: 'config', title: 'Configuration and seeds', body: configSection(data) },
    { id: 'timing', title: 'Timing', body: await timingSection(data) },
  ];
  return page(
    `imcnas report: ${data.results.searchId}`,
    sections.map((s) => ({ id: s.id, title: s.title, html: section(s.id, s.title, s.body) })),
    headerHtml(data, runs),
  );
}

/** Writes the report (default: report.html in the run directory) atomically; returns its path. */
export async function writeReport(
  runDir: string,
  options: ReportOptions & { out?: string } = {},
): Promise<string> {
  const html = await buildReport(runDir, options);
  const out = path.resolve(options.out ?? path.join(runDir, REPORT_FILE));
  await writeFileAtomic(out, html);
  return out;
}

/**
 * The search's result as the workflow returns it (what `imcnas results` prints), rebuilt from the run
 * directory: the same front, robustness and final models, for searches whose workflow history is gone or
 * when no Temporal server is at hand.
 */
export async function searchResultFromRunDir(target: string): Promise<SearchResult> {
  const { runDir, results } = await loadRunResults(target);
  const chunks = await loadSupernetChunks(runDir);
  return {
    searchId: results.searchId,
    runDir,
    stoppedEarly: results.stoppedEarly,
    supernetValidationAccuracy: chunks.at(-1)?.validationAccuracy ?? null,
    generations: results.generations.length,
    evaluations: results.evaluations,
    objectives: objectiveNames(results),
    front: results.front.map((c) => ({
      key: c.key,
      genome: c.genome,
      objectives: objectiveValues(results, c),
      description: describeDesign(c),
    })),
    robust: results.robustness,
    finals: results.finalModels,
    ...(results.baselines ? { baselines: results.baselines.map(({ versus: _versus, ...b }) => b) } : {}),
    resultsFile: path.join(runDir, RESULTS_FILE),
    outcome: results.outcome ?? (results.stoppedEarly ? 'stopped' : 'complete'),
    dropped: results.dropped ?? { candidates: 0, robustness: 0, finals: 0 },
    problems: results.problems ?? [],
  };
}

/**
 * Whether `target` names a run directory (or its results.json) rather than a search id: an existing path,
 * or anything with a path separator (search ids have none), so a mistyped path is reported as a path.
 */
export async function isRunDirectoryTarget(target: string): Promise<boolean> {
  if (target.includes('/') || target.includes(path.sep)) return true;
  const stat = await fs.stat(target).catch(() => undefined);
  return stat !== undefined && (stat.isDirectory() || path.basename(target) === RESULTS_FILE);
}
