/**
 * The search's results: results.json (every evaluated candidate with its genome, decoded design and
 * metrics; the front; robustness; final models), front.csv and the HTML report (report.html), written
 * atomically.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../storage/atomic';
import { recordWork } from '../storage/stageTiming';
import { writeReport } from '../report';
import { resultsBaselines } from '../report/baselines';
import type { SearchResultsFile } from '../report/runData';
import { decode } from '../search/space/codec';
import { describeCandidate } from '../search/space/keys';
import { resolveSearchSpace } from '../search/space/parse';
import type {
  CandidateMetricsJson,
  GenerationHistoryPoint,
  GenerationSummary,
  WriteResultsInput,
} from '../contracts';
import { generationDir, generationFiles, runFiles, searchDir } from '../storage/runLayout';

export interface EvaluatedRecord {
  key: string;
  genome: number[];
  generation: number;
  metrics: CandidateMetricsJson;
}

/** Every candidate evaluated so far, in generation order (read from the per-candidate result files). */
export async function readEvaluatedCandidates(runDir: string): Promise<EvaluatedRecord[]> {
  const generations = (await fs.readdir(searchDir(runDir)).catch(() => [] as string[]))
    .filter((name) => /^gen-\d{4}$/.test(name))
    .sort();
  const records: EvaluatedRecord[] = [];
  for (const name of generations) {
    const dir = generationFiles(path.join(searchDir(runDir), name)).evaluations;
    const files = (await fs.readdir(dir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.json'))
      .sort();
    for (const file of files) {
      const record = await readJsonIfExists<EvaluatedRecord>(path.join(dir, file));
      if (record) records.push(record);
    }
  }
  return records;
}

/**
 * The history of every generation, from the summaries in the run directory (the workflow carries only the
 * last ones across continue-as-new); generations without a summary keep the workflow's point.
 */
export async function generationHistory(
  runDir: string,
  fromWorkflow: GenerationHistoryPoint[],
): Promise<GenerationHistoryPoint[]> {
  const points = new Map(fromWorkflow.map((point) => [point.generation, point]));
  const names = (await fs.readdir(searchDir(runDir)).catch(() => [] as string[])).filter((name) =>
    /^gen-\d{4}$/.test(name),
  );
  for (const name of names) {
    const summary = await readJsonIfExists<GenerationSummary>(
      generationFiles(path.join(searchDir(runDir), name)).summary,
    );
    if (!summary) continue;
    points.set(summary.generation + 1, {
      generation: summary.generation + 1,
      evaluations: summary.evaluations,
      bestAccuracy: summary.bestAccuracy,
      bestEdap: summary.bestEdap,
      frontSize: summary.front.length,
    });
  }
  return [...points.values()].sort((a, b) => a.generation - b.generation);
}

export async function latestSummary(
  runDir: string,
  generations: number,
): Promise<GenerationSummary | undefined> {
  for (let generation = generations - 1; generation >= 0; generation--) {
    const summary = await readJsonIfExists<GenerationSummary>(
      generationFiles(generationDir(runDir, generation)).summary,
    );
    if (summary) return summary;
  }
  return undefined;
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function writeResults(
  input: WriteResultsInput,
): Promise<{ resultsFile: string; frontCsv: string; report: string | null; reportError?: string }> {
  const { config, runDir } = input;
  const startedAt = new Date();
  const space = resolveSearchSpace(config.space);
  const evaluated = await readEvaluatedCandidates(runDir);
  const summary = await latestSummary(runDir, config.evolution.generations);
  const frontKeys = new Set(summary?.front.map((member) => member.key) ?? []);
  const robustByKey = new Map(input.robust.map((r) => [r.key, r]));
  const candidates = evaluated.map((record) => {
    const candidate = decode(space, record.genome);
    return {
      ...record,
      onFront: frontKeys.has(record.key),
      description: describeCandidate(candidate),
      architecture: candidate.architecture,
      quantization: candidate.quantization,
      hardware: candidate.hardware,
    };
  });
  const results: SearchResultsFile = {
    format: 'imcnas-results-v1',
    searchId: input.searchId,
    name: config.name,
    seed: config.seed,
    objectives: config.objectives,
    constraints: config.constraints,
    stoppedEarly: input.stopped,
    outcome: input.outcome,
    dropped: input.dropped,
    problems: input.problems,
    generations: await generationHistory(runDir, input.generationHistory),
    evaluations: candidates.length,
    front: candidates.filter((c) => c.onFront),
    robustness: input.robust,
    finalModels: input.finals,
    ...(input.baselines ? { baselines: resultsBaselines(input.finals, input.baselines) } : {}),
    candidates,
  };
  const resultsFile = runFiles(runDir).results;
  await writeJsonAtomic(resultsFile, results);

  const metricNames = [
    'accuracy',
    'energy',
    'latency',
    'area',
    'edap',
    'edp',
    'topsPerWatt',
    'topsPerMm2',
  ] as const;
  // Stage 2's noise-free chip accuracy, a column only when the search measured it (older runs: unchanged).
  const withChip = results.front.some((c) => c.metrics.chipAccuracy !== undefined);
  const header = [
    'key',
    'generation',
    ...metricNames,
    ...(withChip ? ['chipAccuracy'] : []),
    'robustAccuracyMean',
    'robustAccuracyP5',
    'description',
  ];
  const rows = results.front.map((c) => [
    c.key,
    c.generation,
    ...metricNames.map((m) => c.metrics[m]),
    ...(withChip ? [c.metrics.chipAccuracy ?? ''] : []),
    robustByKey.get(c.key)?.accuracyMean ?? '',
    robustByKey.get(c.key)?.accuracyP5 ?? '',
    c.description,
  ]);
  const frontCsv = runFiles(runDir).frontCsv;
  await writeFileAtomic(
    frontCsv,
    [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n',
  );
  // Recorded before the report is rendered, so the report can show the reporting stage's timing too.
  await recordWork(runDir, 'reporting', 'results', startedAt, new Date());
  try {
    return { resultsFile, frontCsv, report: await writeReport(runDir) };
  } catch (error) {
    // The results are written; a report that cannot be drawn must not hold the finished search in endless
    // retries. `imcnas report <runDir>` draws it again once the cause is fixed.
    const reportError = error instanceof Error ? error.message : String(error);
    console.error(`report.html not written for ${runDir}: ${reportError}`);
    return { resultsFile, frontCsv, report: null, reportError };
  }
}
