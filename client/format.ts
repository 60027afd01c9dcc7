/** Human-readable lines for a search's progress and results (CLI status/watch, the demo). */
import type { FinalModelResult, SearchProgress, SearchResult } from '../activities/contracts';
import { describeBaselines } from '../report/baselines';

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)} %`;

function formatMetric(name: string, value: number): string {
  if (name.toLowerCase().includes('accuracy')) return pct(value);
  return Math.abs(value) >= 1e4 || Math.abs(value) < 1e-2 ? value.toExponential(3) : value.toFixed(3);
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

export function describeFront(objectives: string[], front: SearchResult['front']): string[] {
  const sorted = [...front].sort((a, b) => b.objectives[0]! - a.objectives[0]!);
  return [
    `  ${'design'.padEnd(28)} ${objectives.map((o) => o.padStart(12)).join(' ')}`,
    ...sorted.map(
      (m) =>
        `  ${m.key.padEnd(28)} ${m.objectives.map((v, i) => formatMetric(objectives[i]!, v).padStart(12)).join(' ')}`,
    ),
  ];
}

export function describeFinal(final: FinalModelResult): string[] {
  const h = final.hardware;
  return [
    `  design ${final.key}`,
    `    test accuracy: digital ${pct(final.testAccuracyDigital)}; on ${final.samples} noisy chips mean ${pct(final.testAccuracyMean)} ± ${pct(final.testAccuracyStd)}, 5th percentile ${pct(final.testAccuracyP5)}`,
    `    chip: energy ${h.energy.toExponential(3)} J/image, latency ${h.latency.toExponential(3)} s, area ${h.area.toFixed(3)} mm², EDAP ${h.edap.toExponential(3)} J·s·mm², ${h.topsPerWatt.toPrecision(3)} TOPS/W, ${h.topsPerMm2.toPrecision(3)} TOPS/mm²`,
    `    exported to ${final.exportDir}`,
  ];
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
  if (result.robust.length > 0) {
    lines.push('Robustness on noisy chips (validation images):');
    for (const r of result.robust) {
      lines.push(
        `  ${r.key.padEnd(28)} digital ${pct(r.digitalAccuracy)}, noisy mean ${pct(r.accuracyMean)} ± ${pct(r.accuracyStd)}, p5 ${pct(r.accuracyP5)} (${r.samples} chips)`,
      );
    }
  }
  if (result.finals.length > 0) {
    lines.push('Final retrained designs:');
    for (const final of result.finals) lines.push(...describeFinal(final));
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
