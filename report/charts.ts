/**
 * The report's plots as Vega-Lite specifications, compiled and rendered to SVG in Node (vega's headless
 * renderer needs no canvas and no browser). Data are inlined into each spec, so rendering never loads a
 * file or a URL, and the SVG carries no scripts.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One datum of a plot: a flat record of numbers, strings and booleans. */
type Row = object;

function field(row: Row, name: string): unknown {
  return (row as Record<string, unknown>)[name];
}

const FRONT_COLOR = '#d62728';
const OTHER_COLOR = '#b0b0b0';
const WIDTH = 360;
const HEIGHT = 240;

/** An `accuracy` field in percent with one decimal, so close accuracies stay distinct on the axis. */
const ACCURACY_ENCODING = {
  field: 'accuracy',
  type: 'quantitative',
  title: 'accuracy',
  axis: { format: '.1%' },
  scale: { zero: false },
};

const BASE_CONFIG = {
  font: 'sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eeeeee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  view: { stroke: '#dddddd' },
};

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile({ ...spec, config: { ...BASE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec);
  // renderer 'none': no canvas or DOM; the loader is never asked for anything because data are inline.
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** d3-format: three significant digits with an SI prefix, trailing zeros trimmed ("2.36µ", "100p"). */
const SI_AXIS_FORMAT = '.3~s';

/** Log axes carry costs (SI prefixes); a linear axis such as a hypervolume keeps vega's default. */
function axisFormat(format: string | undefined) {
  return format ? { axis: { format } } : {};
}

export interface ScatterAxis {
  field: string;
  title: string;
  log: boolean;
  percent?: boolean;
}

function axisEncoding(axis: ScatterAxis) {
  return {
    field: axis.field,
    type: 'quantitative' as const,
    title: axis.title,
    scale: axis.log ? { type: 'log' as const } : { zero: false },
    // Costs on log axes span decades (1e-12 to 1e-3 J): SI prefixes (1µ, 10µ) read better than 0.000001.
    ...axisFormat(axis.percent ? '.0%' : axis.log ? SI_AXIS_FORMAT : undefined),
  };
}

const BASELINE_COLOR = '#1f77b4';

/**
 * Every evaluated candidate in grey, the Pareto front (over the run's objectives) highlighted. Rows carry
 * `onFront` (boolean) and `key`; rows with `baseline: true` (hand-designed baselines) are blue squares
 * labelled with their key.
 */
export function frontScatter(rows: Row[], x: ScatterAxis, y: ScatterAxis, title: string): TopLevelSpec {
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: '!datum.onFront && !datum.baseline' }],
        mark: { type: 'point', filled: true, opacity: 0.6, size: 40, color: OTHER_COLOR },
        encoding: { x: axisEncoding(x), y: axisEncoding(y) },
      },
      {
        transform: [{ filter: 'datum.onFront' }],
        mark: {
          type: 'point',
          filled: true,
          size: 80,
          color: FRONT_COLOR,
          stroke: '#000000',
          strokeWidth: 0.5,
        },
        encoding: { x: axisEncoding(x), y: axisEncoding(y) },
      },
      {
        transform: [{ filter: 'datum.baseline === true' }],
        mark: { type: 'square', filled: true, size: 90, color: BASELINE_COLOR, stroke: '#000000' },
        encoding: { x: axisEncoding(x), y: axisEncoding(y) },
      },
      {
        transform: [{ filter: 'datum.baseline === true' }],
        mark: { type: 'text', align: 'left', dx: 7, fontSize: 10, color: BASELINE_COLOR },
        encoding: { x: axisEncoding(x), y: axisEncoding(y), text: { field: 'key' } },
      },
    ],
  } as TopLevelSpec;
}

/** Noisy-chip mean accuracy against the digital (noise-free) accuracy; the diagonal is "no loss". */
export function robustVsClean(rows: Row[]): TopLevelSpec {
  const both = rows.flatMap((row) => ['clean', 'mean', 'p5'].map((name) => Number(field(row, name))));
  const low = Math.max(0, Math.min(...both) - 0.02);
  const high = Math.min(1, Math.max(...both) + 0.02);
  const domain = [low, high];
  const scale = { domain, zero: false };
  return {
    title: 'Noisy chip vs digital accuracy (front designs, validation images)',
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: [{ a: low }, { a: high }] },
        mark: { type: 'line', color: '#999999', strokeDash: [4, 4] },
        encoding: {
          x: { field: 'a', type: 'quantitative', scale },
          y: { field: 'a', type: 'quantitative', scale },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'rule', color: FRONT_COLOR },
        encoding: {
          x: { field: 'clean', type: 'quantitative', scale },
          y: { field: 'p5', type: 'quantitative', scale },
          y2: { field: 'mean' },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 80, color: FRONT_COLOR },
        encoding: {
          x: {
            field: 'clean',
            type: 'quantitative',
            scale,
            title: 'digital accuracy',
            axis: { format: '.0%' },
          },
          y: {
            field: 'mean',
            type: 'quantitative',
            scale,
            title: 'noisy mean accuracy (bar: down to p5)',
            axis: { format: '.0%' },
          },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Lines with a point per datum. */
function lineChart(title: string, rows: Row[], encoding: object): TopLevelSpec {
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', point: { filled: true, size: 50 } },
    encoding,
  } as TopLevelSpec;
}

/** A line per series over generations (hypervolume, or one objective's best value). */
export function generationCurve(
  rows: Row[],
  field: string,
  title: string,
  yTitle: string,
  options: { log?: boolean; percent?: boolean } = {},
): TopLevelSpec {
  return lineChart(title, rows, {
    x: {
      field: 'generation',
      type: 'quantitative',
      title: 'generation',
      axis: { tickMinStep: 1, format: 'd' },
    },
    y: {
      field,
      type: 'quantitative',
      title: yTitle,
      scale: options.log ? { type: 'log' } : { zero: false },
      ...axisFormat(options.percent ? '.1%' : options.log ? SI_AXIS_FORMAT : undefined),
    },
    color: { field: 'run', type: 'nominal', title: 'run' },
  });
}

/** Per-sample accuracies as a box per design with every sample drawn on it, and the digital accuracy. */
export function robustnessDistribution(samples: Row[], digital: Row[], title: string): TopLevelSpec {
  const y = { field: 'accuracy', type: 'quantitative' as const, title: 'accuracy', axis: { format: '.0%' } };
  return {
    title,
    width: Math.max(160, 90 * new Set(samples.map((s) => field(s, 'design'))).size),
    height: HEIGHT,
    layer: [
      {
        data: { values: samples },
        mark: { type: 'boxplot', extent: 'min-max', size: 28, color: '#9ecae1' },
        encoding: { x: { field: 'design', type: 'nominal', title: 'design' }, y },
      },
      {
        data: { values: samples },
        mark: { type: 'tick', color: '#08519c', thickness: 2, size: 18 },
        encoding: { x: { field: 'design', type: 'nominal' }, y },
      },
      {
        data: { values: digital },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 90, color: FRONT_COLOR },
        encoding: { x: { field: 'design', type: 'nominal' }, y },
      },
    ],
  } as TopLevelSpec;
}

/** Accuracy over time after programming, mean and 5th percentile per design. */
export function driftCurves(rows: Row[], title: string): TopLevelSpec {
  const positive = rows.every((row) => Number(field(row, 'seconds')) > 0);
  return lineChart(title, rows, {
    x: {
      field: 'seconds',
      type: 'quantitative',
      title: 'time after programming (s)',
      scale: { type: positive ? 'log' : 'symlog' },
    },
    y: ACCURACY_ENCODING,
    color: { field: 'design', type: 'nominal', title: 'design' },
    strokeDash: { field: 'statistic', type: 'nominal', title: 'statistic' },
  });
}

/** Horizontal stacked bars: one bar per `bar` value, segments per `component`. */
export function stackedBars(rows: Row[], bar: string, title: string, valueTitle: string): TopLevelSpec {
  const bars = new Set(rows.map((row) => field(row, bar))).size;
  return {
    title,
    width: WIDTH,
    height: Math.max(60, 22 * bars),
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      y: { field: bar, type: 'nominal', title: null, sort: null },
      x: { field: 'value', type: 'quantitative', title: valueTitle, axis: { format: '.2~e' } },
      color: { field: 'component', type: 'nominal', title: 'component', scale: { scheme: 'tableau20' } },
      tooltip: [{ field: 'component' }, { field: 'value', format: '.3e' }],
    },
  } as TopLevelSpec;
}

/** Training loss per step with the per-epoch mean, and validation accuracy per epoch beside it. */
export function trainingCurves(steps: Row[], epochs: Row[], title: string): TopLevelSpec {
  const panels: object[] = [];
  if (steps.length > 0 || epochs.some((e) => field(e, 'meanLoss') !== null)) {
    panels.push({
      width: WIDTH,
      height: HEIGHT,
      title: 'training loss',
      layer: [
        {
          data: { values: steps },
          mark: { type: 'line', color: '#9ecae1', strokeWidth: 1 },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
          },
        },
        {
          data: { values: epochs.filter((e) => field(e, 'meanLoss') !== null) },
          mark: { type: 'line', color: '#08519c', point: { filled: true, size: 50, color: '#08519c' } },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'meanLoss', type: 'quantitative' },
          },
        },
      ],
    });
  }
  if (epochs.length > 0) {
    panels.push({
      width: WIDTH,
      height: HEIGHT,
      title: 'validation accuracy at epoch end',
      data: { values: epochs },
      mark: { type: 'line', color: FRONT_COLOR, point: { filled: true, size: 60, color: FRONT_COLOR } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
        y: ACCURACY_ENCODING,
      },
    });
  }
  return {
    title,
    hconcat: panels,
  } as TopLevelSpec;
}

/** Stage spans on a time axis (a Gantt chart). */
export function stageTimeline(rows: Row[]): TopLevelSpec {
  return {
    title: 'Stages over time',
    width: WIDTH * 1.5,
    height: Math.max(60, 26 * rows.length),
    data: { values: rows },
    mark: { type: 'bar', cornerRadius: 2 },
    encoding: {
      y: { field: 'stage', type: 'nominal', sort: null, title: null },
      x: { field: 'start', type: 'quantitative', title: 'seconds since the run started' },
      x2: { field: 'end' },
      color: { field: 'stage', type: 'nominal', legend: null },
    },
  } as TopLevelSpec;
}
