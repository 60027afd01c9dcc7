/**
 * The report of a real recorded run (test/fixtures/report-run): it shows the same Pareto front as
 * `imcnas results`, references nothing outside itself, still renders for runs recorded before the training
 * history and timings existed, and names the problem when a run directory has no results.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFront } from '../../client/format';
import { buildReport, ReportInputError, REPORT_FILE } from '../../report';
import { REPORT_RUN_FIXTURE } from '../fixtures/reportRun';

const REPO_ROOT = path.join(__dirname, '..', '..');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      path.join(REPO_ROOT, 'client', 'cli.ts'),
      ...args,
    ],
    { encoding: 'utf8', cwd: REPO_ROOT },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Decodes the few entities escapeHtml produces. */
function unescape(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function frontRows(html: string): {
  objectives: string[];
  rows: Array<{ key: string; objectives: number[] }>;
} {
  const table = /<table class="front" data-objective-names="([^"]*)">([\s\S]*?)<\/table>/.exec(html);
  if (!table) throw new Error('report has no front table');
  const rows = [...table[2].matchAll(/<tr data-key="([^"]*)" data-objectives="([^"]*)">/g)].map((m) => ({
    key: unescape(m[1]),
    objectives: JSON.parse(unescape(m[2])) as number[],
  }));
  return { objectives: JSON.parse(unescape(table[1])) as string[], rows };
}

let workDir: string;
let html: string;
beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-report-'));
  html = await buildReport(REPORT_RUN_FIXTURE);
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

test('the front in report.html is the front `imcnas results <runDir>` prints', async () => {
  const { objectives, rows } = frontRows(html);
  expect(rows.length).toBeGreaterThan(0);
  const printed = cli('results', REPORT_RUN_FIXTURE);
  expect(printed.status).toBe(0);
  const expected = describeFront(
    objectives,
    rows.map((row) => ({ key: row.key, genome: [], objectives: row.objectives })),
  );
  // Each printed row is followed by its design in words (network, chip); the rows themselves must match.
  const lines = printed.stdout.split('\n');
  const start = lines.findIndex((line) => line === expected[0]);
  expect(start).toBeGreaterThan(-1);
  const block = lines.slice(start, start + 3 * expected.length);
  expect(block.filter((line) => line.startsWith('      network '))).toHaveLength(rows.length);
  const rowLines = block.filter((line) => !/^ {6}(network|chip) {1,4}/.test(line));
  expect(rowLines.slice(0, expected.length)).toEqual(expected);
  expect(lines[start - 1]).toBe(`Pareto front (${rows.length} designs):`);
  // The report the reporting activity wrote during the recorded run (real Temporal server) shows it too.
  const recorded = await fs.readFile(path.join(REPORT_RUN_FIXTURE, REPORT_FILE), 'utf8');
  expect(frontRows(recorded)).toEqual({ objectives, rows });
});

test('the report references nothing outside itself: no URL, no src, no external href', () => {
  // Attribute values naming a resource; in-page anchors (#id) are the only allowed href.
  const resourceAttributes = [
    ...html.matchAll(/\s(src|href|xlink:href|srcset|action|poster|data)="([^"]*)"/g),
  ];
  for (const [, name, value] of resourceAttributes)
    expect({ name, value: value.startsWith('#') }).toEqual({ name, value: true });
  expect(html).not.toMatch(/url\(/i);
  expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|<img/i);
  // The only http(s) strings are SVG/XLink namespace names in xmlns attributes, which are never fetched.
  const withoutNamespaces = html.replace(/\sxmlns(:\w+)?="[^"]*"/g, '');
  expect(withoutNamespaces).not.toMatch(/https?:\/\//i);
  expect(withoutNamespaces).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
});

test('a run recorded before training history and timings still gets a report, with notes saying so', async () => {
  const old = path.join(workDir, 'old-run');
  await fs.cp(REPORT_RUN_FIXTURE, old, { recursive: true });
  await fs.rm(path.join(old, 'supernet', 'history.json'));
  await fs.rm(path.join(old, 'timing'), { recursive: true });
  const page = await buildReport(old);
  expect(page).toContain('Per-epoch training history not recorded');
  expect(page).toContain('Stage timings not recorded');
  // The curve is still drawn from the step log and the chunks' validation accuracy.
  expect(page).toContain('data-plot="supernet-training"');
  expect(frontRows(page).rows).toEqual(frontRows(html).rows);
});

test('compare draws both runs on one hypervolume yardstick', async () => {
  const other = path.join(workDir, 'other-run');
  await fs.cp(REPORT_RUN_FIXTURE, other, { recursive: true });
  const page = await buildReport(REPORT_RUN_FIXTURE, { compare: other });
  const table = /<table class="hypervolume">([\s\S]*?)<\/table>/.exec(page)![1];
  const values = [...table.matchAll(/data-value="([^"]*)"/g)].map((m) => Number(m[1]));
  // The same evaluations score the same on a shared yardstick.
  expect(values).toHaveLength(2);
  expect(values[0]).toBeCloseTo(values[1], 12);
  expect(table).toContain('other-run');
});

test('a directory without results.json is refused with the problem and the fix', async () => {
  const empty = path.join(workDir, 'empty');
  await fs.mkdir(empty);
  await expect(buildReport(empty)).rejects.toThrow(ReportInputError);
  await expect(buildReport(empty)).rejects.toThrow(/results\.json does not exist.*imcnas status/);
  const refused = cli('report', empty);
  expect(refused.status).toBe(2);
  expect(refused.stderr).toContain(`${path.join(empty, 'results.json')} does not exist`);
  await expect(fs.stat(path.join(empty, REPORT_FILE))).rejects.toThrow();
});
