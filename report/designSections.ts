/** The report's sections about the designs' hardware, their training, the space, the configuration and the timing. */
import { deriveSeed } from '../common/rng';
import { buildLayout } from '../search/space/layout';
import { resolveSearchSpace } from '../search/space/parse';
import { spaceSize } from '../search/space/sampling';
import { STAGE_NAMES, type WorkTiming } from '../storage/stageTiming';
import type { TrainingRecord } from './runData';
import { breakdownOf } from './analysis';
import { renderSvg, stackedBars, stageTimeline, trainingCurves } from './charts';
import { escapeHtml, figure, note, number, percent, seconds, table } from './html';
import { type ResultsCandidate, type RunData } from './runData';

export const ENERGY_COMPONENTS = [
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
export const AREA_COMPONENTS = [
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

export async function hardwareSection(data: RunData): Promise<string[]> {
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

export function trainingRows(
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

export async function trainingSection(data: RunData): Promise<string[]> {
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

export function spaceSection(data: RunData): string[] {
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

export function configSection(data: RunData): string[] {
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

export async function timingSection(data: RunData): Promise<string[]> {
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
