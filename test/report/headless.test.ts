/**
 * Acceptance: the report of a real (recorded) run, opened in headless Chromium with every network path
 * closed, draws marks in every plot and makes no request beyond loading its own file.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../../report';
import { REPORT_RUN_FIXTURE } from '../fixtures/reportRun';
import { visitPage } from './headlessChromium';

/** Per figure: its id, how many mark elements it has, and how many of them the browser laid out with a size. */
const COUNT_DRAWN_MARKS = `JSON.stringify([...document.querySelectorAll('figure.plot')].map((figure) => {
  const marks = [...figure.querySelectorAll('svg g.role-mark > *')];
  const drawn = marks.filter((mark) => { const box = mark.getBBox(); return box.width > 0 || box.height > 0; });
  return { id: figure.dataset.plot, marks: marks.length, drawn: drawn.length };
}))`;

let workDir: string;
beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-report-headless-'));
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

test('every plot of the report draws marks in headless Chromium, and the page requests nothing', async () => {
  const report = await writeReport(REPORT_RUN_FIXTURE, { out: path.join(workDir, 'report.html') });
  const pageUrl = pathToFileURL(report).href;
  const visit = await visitPage<string>(pageUrl, COUNT_DRAWN_MARKS, path.join(workDir, 'profile'));
  const figures = JSON.parse(visit.value) as Array<{ id: string; marks: number; drawn: number }>;

  // The fixture run has every kind of plot: front scatters, robustness, drift, breakdowns, training, timing.
  const ids = figures.map((f) => f.id);
  for (const expected of [
    'front-edap',
    'front-energy',
    'front-latency',
    'front-area',
    'robust-vs-clean',
    'hypervolume',
    'best-accuracy',
    'best-edap',
    'robustness-samples',
    'drift-front',
    'drift-final',
    'energy-components',
    'area-components',
    'supernet-training',
    'timeline',
  ])
    expect(ids).toContain(expected);
  for (const figure of figures) {
    expect({ id: figure.id, drawn: figure.drawn > 0 }).toEqual({ id: figure.id, drawn: true });
  }
  // Only the page itself was requested; nothing failed (a blocked request would show here too).
  expect(visit.requests).toEqual([pageUrl]);
  expect(visit.failedRequests).toEqual([]);
});
