/** How the report names and formats the search's metrics. */
import { number, percent } from './html';

export const METRIC_TITLES: Record<string, { title: string; percent?: boolean }> = {
  accuracy: { title: 'validation accuracy (inherited weights)', percent: true },
  robustAccuracyMean: { title: 'noisy mean accuracy', percent: true },
  robustAccuracyP5: { title: 'noisy 5th-percentile accuracy', percent: true },
  chipAccuracy: { title: 'noise-free chip accuracy (ADC, bit slicing)', percent: true },
  energy: { title: 'energy per image (J)' },
  latency: { title: 'latency per image (s)' },
  area: { title: 'chip area (mm²)' },
  edap: { title: 'EDAP (J·s·mm²)' },
  edp: { title: 'EDP (J·s)' },
  topsPerWatt: { title: 'TOPS/W' },
  topsPerMm2: { title: 'TOPS/mm²' },
};

export function metricTitle(metric: string): string {
  return METRIC_TITLES[metric]?.title ?? metric;
}

export function formatMetricValue(metric: string, value: number): string {
  return METRIC_TITLES[metric]?.percent ? percent(value) : number(value);
}
