/**
 * The found design against the hand-designed baselines (config.baseline; search/baseline.ts): both went
 * through the same retraining, the same noisy test and the same cost model, so their ratios are the
 * search's gain. The found design compared is stage 4's first retrained design (the most robust winner).
 */
import type { BaselineResult, FinalModelResult } from '../contracts';

export interface BaselineComparison {
  /** The retrained found design compared (stage 4's first final). */
  searchedKey: string;
  /** Baseline EDAP / found design's EDAP: above 1, the found chip is that many times better. */
  edapRatio: number;
  /** Found design's noisy test mean − the baseline's (fractions; above 0, the found design is better). */
  noisyAccuracyDifference: number;
  /** The same for digital test accuracy. */
  digitalAccuracyDifference: number;
}

/** results.json's `baselines` entry: the baseline's own results and, when there is a final, the comparison. */
export interface ResultsBaseline extends BaselineResult {
  versus: BaselineComparison | null;
}

export function compareWithBaseline(
  finals: readonly FinalModelResult[],
  baseline: BaselineResult,
): BaselineComparison | null {
  const searched = finals[0];
  if (!searched) return null;
  return {
    searchedKey: searched.key,
    edapRatio: baseline.hardware.edap / searched.hardware.edap,
    noisyAccuracyDifference: searched.testAccuracyMean - baseline.testAccuracyMean,
    digitalAccuracyDifference: searched.testAccuracyDigital - baseline.testAccuracyDigital,
  };
}

export function resultsBaselines(
  finals: readonly FinalModelResult[],
  baselines: readonly BaselineResult[],
): ResultsBaseline[] {
  return baselines.map((baseline) => ({ ...baseline, versus: compareWithBaseline(finals, baseline) }));
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(2)} points`;

/** One line per baseline for the CLI and the demo: its accuracy and chip, and how the found design compares. */
export function describeBaselines(
  finals: readonly FinalModelResult[],
  baselines: readonly BaselineResult[],
): string[] {
  if (baselines.length === 0) return [];
  const lines = ['Hand-designed baselines (same retraining, noisy test and cost model):'];
  for (const baseline of baselines) {
    const versus = compareWithBaseline(finals, baseline);
    lines.push(
      `  ${baseline.description}`,
      `    test accuracy: digital ${pct(baseline.testAccuracyDigital)}; on ${baseline.samples} noisy chips mean ${pct(baseline.testAccuracyMean)} ± ${pct(baseline.testAccuracyStd)}, p5 ${pct(baseline.testAccuracyP5)}; EDAP ${baseline.hardware.edap.toExponential(3)} J·s·mm²`,
      versus
        ? `    found design ${versus.searchedKey}: EDAP ${versus.edapRatio >= 1 ? `${versus.edapRatio.toPrecision(3)}× lower` : `${(1 / versus.edapRatio).toPrecision(3)}× higher`} (baseline / found = ${versus.edapRatio.toPrecision(3)}), noisy mean ${points(versus.noisyAccuracyDifference)}`
        : '    no retrained found design to compare with',
    );
  }
  return lines;
}
