/**
 * The per-search HTML report: one self-contained file (inline CSS, inline SVG plots, no script, no URL of
 * any kind) written next to results.json. `buildReport` reads a run directory (and optionally a second run
 * to compare with) and returns the page; `writeReport` writes it atomically.
 */
import { runFiles } from '../storage/runLayout';
import { describeDesign } from '../search/describe';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SearchResult } from '../contracts';
import { writeFileAtomic } from '../storage/atomic';
import { algorithmLabel, objectiveNames, objectiveValues, type ComparedRun } from './analysis';
import { page, section } from './html';
import {
  loadRunData,
  loadRunResults,
  loadSupernetChunks,
  REPORT_FILE,
  RESULTS_FILE,
  ReportInputError,
} from './runData';
import {
  configSection,
  hardwareSection,
  spaceSection,
  timingSection,
  trainingSection,
} from './designSections';
import {
  finalModelsSection,
  frontSection,
  headerHtml,
  robustnessSection,
  searchProgressSection,
} from './searchSections';

export { ReportInputError, REPORT_FILE, loadRunResults };

export interface ReportOptions {
  /** A second run (directory or results.json) whose search is compared on the same hypervolume yardstick. */
  compare?: string;
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
  const out = path.resolve(options.out ?? runFiles(runDir).report);
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
    resultsFile: runFiles(runDir).results,
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
