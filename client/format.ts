/** Human-readable lines for a search's progress and results (CLI status/watch, the demo). */
import type { FinalModelResult, SearchProgress, SearchResult, ToolExport } from '../contracts';
import { describeBaselines } from '../report/baselines';

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)} %`;

function formatMetric(name: string, value: number): string {
  if (name.toLowerCase().includes('accuracy')) return pct(value);
  return Math.abs(value) >= 1e4 || Math.abs(value) < 1e-2 ? value.toExponential(3) : value.toFixed(3);
}

const SI_PREFIXES: ReadonlyArray<[number, string]> = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
  [1, ''],
  [1e-3, 'm'],
  [1e-6, 'µ'],
  [1e-9, 'n'],
  [1e-12, 'p'],
  [1e-15, 'f'],
];

/** Engineering notation with an SI prefix: 2.356e-6 J → "2.36 µJ" (three significant digits). */
export function withSiPrefix(value: number, unit: string): string {
  if (!Number.isFinite(value)) return `${value} ${unit}`;
  if (value === 0) return `0 ${unit}`;
  const magnitude = Math.abs(value);
  const [scale, prefix] = SI_PREFIXES.find(([factor]) => magnitude >= factor * 0.9995) ?? SI_PREFIXES.at(-1)!;
  return `${Number((value / scale).toPrecision(3))} ${prefix}${unit}`;
}

/** Three significant digits, in exponent form when the number is far from 1. */
function significant(value: number): string {
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 0.01 || magnitude >= 1e5)
    ? value.toExponential(2)
    : value.toPrecision(3);
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function describeProgress(p: SearchProgress): string[] {
  const lines = [
    `stage ${p.stage}${p.paused ? ' (paused)' : ''}${p.stopRequested ? ` (stop requested: ${p.stopRequested})` : ''}`,
  ];
  lines.push(
    `  supernet   epoch ${p.epochsCompleted}/${p.epochsTotal}, largest-path validation accuracy ${pct(p.supernetValidationAccuracy)}`,
  );
  lines.push(
    `  evolution  generation ${p.generation}/${p.generationsTotal}` +
      (p.stage === 'evolution' ? `, evaluated ${p.evaluated}/${p.evaluationsTotal} in this generation` : '') +
      `, front of ${p.front.length}, best accuracy ${pct(p.bestAccuracy)}` +
      (p.bestEdap !== null ? `, best EDAP ${p.bestEdap.toExponential(3)} J·s·mm²` : ''),
  );
  if (p.robustTotal > 0) lines.push(`  robustness ${p.robustDone}/${p.robustTotal} front designs`);
  if (p.retrainTotal > 0) lines.push(`  retraining ${p.retrained}/${p.retrainTotal} designs`);
  if (p.etaSeconds !== null && p.stage === 'evolution')
    lines.push(`  ETA of the evolution ≈ ${duration(p.etaSeconds)}`);
  const dropped = p.dropped ? describeDropped(p.dropped) : '';
  if (dropped) lines.push(`  failed and left out: ${dropped}; last: ${p.problems?.at(-1) ?? ''}`);
  return lines;
}

/** "3 candidates, 1 robustness evaluation" — empty when nothing was dropped. */
export function describeDropped(dropped: SearchResult['dropped']): string {
  const parts: string[] = [];
  const add = (n: number, one: string, many: string) => n > 0 && parts.push(`${n} ${n === 1 ? one : many}`);
  add(dropped.candidates, 'candidate', 'candidates');
  add(dropped.robustness, 'robustness evaluation', 'robustness evaluations');
  add(dropped.finals, 'final design', 'final designs');
  add(dropped.baselines ?? 0, 'baseline', 'baselines');
  return parts.join(', ');
}

type Description = SearchResult['front'][number]['description'];

/** The design's network and chip in words, indented under its row (nothing for old results without it). */
function descriptionLines(description: Description, indent: string): string[] {
  return description
    ? [`${indent}network ${description.network}`, `${indent}chip    ${description.chip}`]
    : [];
}

export function describeFront(objectives: string[], front: SearchResult['front']): string[] {
  const sorted = [...front].sort((a, b) => b.objectives[0]! - a.objectives[0]!);
  return [
    `  ${'design'.padEnd(28)} ${objectives.map((o) => o.padStart(12)).join(' ')}`,
    ...sorted.flatMap((m) => [
      `  ${m.key.padEnd(28)} ${m.objectives.map((v, i) => formatMetric(objectives[i]!, v).padStart(12)).join(' ')}`,
      ...descriptionLines(m.description, '      '),
    ]),
  ];
}

export function describeFinal(final: FinalModelResult, description?: Description): string[] {
  const h = final.hardware;
  return [
    `  design ${final.key}`,
    ...descriptionLines(description, '    '),
    `    test accuracy: digital ${pct(final.testAccuracyDigital)}; on ${final.samples} noisy chips mean ${pct(final.testAccuracyMean)} ± ${pct(final.testAccuracyStd)}, 5th percentile ${pct(final.testAccuracyP5)}`,
    `    cost: energy ${withSiPrefix(h.energy, 'J')}/image, latency ${withSiPrefix(h.latency, 's')}, area ${significant(h.area)} mm², EDAP ${h.edap.toExponential(3)} J·s·mm², ${significant(h.topsPerWatt)} TOPS/W, ${significant(h.topsPerMm2)} TOPS/mm²`,
    `    exported to ${final.exportDir}`,
    ...toolExportLines('NeuroSim', final.neurosimExport, 'run.sh inside runs it in DNN+NeuroSim V1.4'),
    ...toolExportLines('aihwkit', final.aihwkitExport, 'bench/peers/aihwkit/run.py rebuilds it'),
  ];
}

function toolExportLines(tool: string, exported: ToolExport | undefined, howToRun: string): string[] {
  if (!exported) return [];
  if ('dir' in exported) return [`    ${tool}: ${exported.dir} (${howToRun})`];
  return [`    ${tool}: not exported, ${exported.problems.join('; ')}`];
}

export function describeResult(result: SearchResult, objectives: string[]): string[] {
  const lines = [
    `search ${result.searchId}: ${result.generations} generations, ${result.evaluations} candidates evaluated` +
      (result.stoppedEarly ? ` (stopped early: ${result.stoppedEarly})` : ''),
    ...(result.outcome === 'partial'
      ? [
          `PARTIAL RESULT: ${describeDropped(result.dropped)} failed and were left out:`,
          ...result.problems.map((problem) => `  - ${problem}`),
        ]
      : []),
    `  supernet largest-path validation accuracy ${pct(result.supernetValidationAccuracy)}`,
    `Pareto front (${result.front.length} designs):`,
    ...describeFront(objectives, result.front),
  ];
  const descriptions = new Map(result.front.map((member) => [member.key, member.description]));
  if (result.robust.length > 0) {
    lines.push('Robustness on noisy chips (validation images):');
    for (const r of result.robust) {
      const chip = descriptions.get(r.key)?.chip;
      lines.push(
        `  ${r.key.padEnd(28)} digital ${pct(r.digitalAccuracy)}, noisy mean ${pct(r.accuracyMean)} ± ${pct(r.accuracyStd)}, p5 ${pct(r.accuracyP5)} (${r.samples} chips)${chip ? ` — ${chip}` : ''}`,
      );
    }
  }
  if (result.finals.length > 0) {
    lines.push('Final retrained designs:');
    for (const final of result.finals) lines.push(...describeFinal(final, descriptions.get(final.key)));
  }
  lines.push(...describeBaselines(result.finals, result.baselines ?? []));
  lines.push(`results: ${result.resultsFile}`);
  return lines;
}

/** What a pending activity last reported, as the describe call returns it (heartbeat details, attempt). */
export interface PendingWork {
  activityType?: { name?: string | null } | null;
  heartbeatDetails?: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null;
  attempt?: number | null;
  /** Why the previous attempt failed (the describe call's lastFailure). */
  lastFailure?: { message?: string | null; cause?: PendingWork['lastFailure'] } | null;
}

/**
 * One line per activity in flight with its last heartbeat ("epoch 2/4 step 300/859 loss 0.31", "t = 3600 s:
 * samples 1–5 of 5"): the live view of a long step, between the workflow's own progress points. Heartbeat
 * details are the activities' JSON progress objects (activities relay their child's reports).
 */
export function describePendingWork(pending: readonly PendingWork[] | null | undefined): string[] {
  return (pending ?? []).map((work) => {
    const payload = work.heartbeatDetails?.payloads?.[0]?.data;
    let message = 'starting';
    if (payload) {
      try {
        const details = JSON.parse(Buffer.from(payload).toString('utf8')) as { message?: unknown };
        if (typeof details.message === 'string' && details.message) message = details.message;
      } catch {
        message = 'working';
      }
    }
    const attempt = work.attempt && work.attempt > 1 ? ` (attempt ${work.attempt})` : '';
    const line = `    ${work.activityType?.name ?? 'activity'}: ${message}${attempt}`;
    const failure = innermostMessage(work.lastFailure);
    return failure ? `${line}\n      last attempt failed: ${failure.split('\n')[0]}` : line;
  });
}

function innermostMessage(failure: PendingWork['lastFailure']): string | undefined {
  let message: string | undefined;
  for (let f = failure; f; f = f.cause) if (f.message) message = f.message;
  return message;
}
