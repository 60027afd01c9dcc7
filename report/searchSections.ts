/** The report's sections about the search: header, final designs and baselines, front, progress, robustness. */
import type { DroppedCounts } from '../contracts';
import { reportAtSeconds } from '../config/schema';
import {
  algorithmLabel,
  bestObjectiveCurves,
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
} from './charts';
import { escapeHtml, figure, note, number, percent, table } from './html';
import { type RunData } from './runData';
import { formatMetricValue, METRIC_TITLES, metricTitle } from './metricFormat';

export function headerHtml(data: RunData, runs: ComparedRun[]): string {
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

export function droppedSummary(dropped: DroppedCounts | undefined): string {
  const d = dropped ?? { candidates: 0, robustness: 0, finals: 0 };
  return `dropped: ${d.candidates} candidates, ${d.robustness} robustness evaluations, ${d.finals} final designs${d.baselines ? `, ${d.baselines} baselines` : ''}`;
}

export function finalModelsSection(data: RunData): string {
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
export function baselineComparisonTable(baselines: NonNullable<RunData['results']['baselines']>): string {
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

export function signedPoints(difference: number): string {
  return `${difference >= 0 ? '+' : '−'}${Math.abs(difference * 100).toFixed(2)} points`;
}

export async function frontSection(data: RunData): Promise<string[]> {
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

export async function searchProgressSection(data: RunData, runs: ComparedRun[]): Promise<string[]> {
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

export async function robustnessSection(data: RunData): Promise<string[]> {
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
