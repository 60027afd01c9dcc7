/**
 * Does stage 2's chipAccuracy (one noise-free simulated chip on a few hundred validation images,
 * tasks/searchRobustness.ts) rank designs as the chip does, and what does it cost? On a finished run
 * (its trained supernet, its configuration and its stage-2 evaluations), for the IMCNAS_CHIP_BENCH_DESIGNS
 * (default 24) front-like designs of its search — the evaluated designs dominated by the fewest others in
 * (digital accuracy, EDAP), so the cheap end of the front and its neighbours, not random genomes:
 *
 * 1. the digital accuracy as stage 2 measures it (BatchNorm recalibrated, evolution.validationImages), timed;
 * 2. chipAccuracy as stage 2 measures it (evolution.chipImages images, ADC calibrated on 128 training
 *    images), timed, and again timed at 100 images; and the same noise-free chip on the first 100, 250, 500 and 1,000 validation images
 *    (one pass over 1,000, read as prefixes: the noise-free chip is deterministic image by image);
 * 3. the references: the noise-free chip on 1,000 images, and the noisy chip (the device models of
 *    stage 3, robustness.noise, 5 chips of stage 3's seeds, 500 images each, at stage 2's drift time),
 *    timed.
 *
 * Kendall τ-b of each signal against both references, and the cost of chipAccuracy per evaluation
 * relative to the digital accuracy alone (`stage2_ratio_per_evaluation`).
 *
 *   IMCNAS_CHIP_BENCH_RUN_DIR=runs/<searchId> npm run bench -- chipAccuracy
 */
import { generationFiles, runFiles, searchDir } from '../storage/runLayout';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadConfigFile } from '../config/load';
import { searchDriftSeconds } from '../config/schema';
import { SimulatorEvaluator, imagesTensor } from '../evaluator/simulator';
import { forwardFolded } from '../models/inference';
import { describeDesign } from '../search/describe';
import { decode } from '../search/space/codec';
import type { StoredEvaluation } from '../tasks/candidateEvaluation';
import { chipSeed } from '../tasks/chipEvaluation';
import { firstImages } from '../tasks/evaluationImages';
import {
  noiseFreeSearchChip,
  SEARCH_ADC_CALIBRATION_IMAGES,
  searchChipAccuracy,
} from '../tasks/searchRobustness';
import { loadTrainedSupernet, pathAccuracy, recalibrationSeed, stageData, stageSpace } from '../tasks/shared';
import type { BenchFigures } from './run';
import { kendallTauB } from './supernet';

const round = (value: number, digits = 4) => Number(value.toFixed(digits));
const PREFIXES = [100, 250, 500, 1000] as const;
const NOISY_CHIPS = 5;
const NOISY_IMAGES = 500;

async function stage2Evaluations(runDir: string): Promise<StoredEvaluation[]> {
  const search = searchDir(runDir);
  const evaluations = new Map<string, StoredEvaluation>();
  for (const generation of (await fs.readdir(search)).filter((name) => name.startsWith('gen-')).sort()) {
    const dir = generationFiles(path.join(search, generation)).evaluations;
    for (const file of (await fs.readdir(dir)).filter((name) => name.endsWith('.json')).sort()) {
      const stored = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as StoredEvaluation;
      if (!evaluations.has(stored.key)) evaluations.set(stored.key, stored);
    }
  }
  return [...evaluations.values()];
}

/** The `count` designs dominated by the fewest others in (digital accuracy ↑, EDAP ↓); ties: cheaper first. */
function frontLike(evaluations: StoredEvaluation[], count: number): StoredEvaluation[] {
  const dominatedBy = (a: StoredEvaluation) =>
    evaluations.filter(
      (b) =>
        b.metrics.accuracy >= a.metrics.accuracy &&
        b.metrics.edap <= a.metrics.edap &&
        (b.metrics.accuracy > a.metrics.accuracy || b.metrics.edap < a.metrics.edap),
    ).length;
  return evaluations
    .map((evaluation) => ({ evaluation, rank: dominatedBy(evaluation) }))
    .sort((a, b) => a.rank - b.rank || a.evaluation.metrics.edap - b.evaluation.metrics.edap)
    .slice(0, count)
    .map(({ evaluation }) => evaluation);
}

export async function run(): Promise<BenchFigures> {
  const runDirSetting = process.env.IMCNAS_CHIP_BENCH_RUN_DIR;
  if (!runDirSetting) {
    throw new Error(
      'IMCNAS_CHIP_BENCH_RUN_DIR: set it to a finished run directory (runs/<searchId>) with a trained supernet',
    );
  }
  const runDir = path.resolve(runDirSetting);
  const count = Number(process.env.IMCNAS_CHIP_BENCH_DESIGNS ?? 24);
  if (!Number.isInteger(count) || count < 3) {
    throw new Error(
      `IMCNAS_CHIP_BENCH_DESIGNS: must be an integer ≥ 3, got ${process.env.IMCNAS_CHIP_BENCH_DESIGNS}`,
    );
  }
  const config = await loadConfigFile(runFiles(runDir).config);
  const designs = frontLike(await stage2Evaluations(runDir), count);
  const splits = await stageData(config);
  const space = stageSpace(config);
  const supernet = await loadTrainedSupernet(runDir, config);
  const timeS = searchDriftSeconds(config);
  const noiseFreeImages = firstImages(splits.validation, PREFIXES[PREFIXES.length - 1]);
  const seconds = { digital: 0, chip: 0, chip100: 0, noisy: 0 };
  const withChipImages100 = { ...config, evolution: { ...config.evolution, chipImages: 100 } };
  const rows: Array<{
    key: string;
    edap: number;
    digital: number;
    chip: number;
    prefixes: number[];
    noisy: number;
    description: string;
  }> = [];
  try {
    for (const design of designs) {
      const decoded = decode(space, design.genome);
      let started = Date.now();
      const digital = pathAccuracy(supernet, decoded, splits.train, splits.validation, {
        calibrationBatches: config.evolution.bnRecalBatches,
        batchSize: config.supernet.batchSize,
        images: config.evolution.validationImages,
        seed: recalibrationSeed(config),
      });
      seconds.digital += (Date.now() - started) / 1000;
      const subnet = supernet.extractSubnet(decoded);

      started = Date.now();
      const chip = searchChipAccuracy(subnet, decoded.hardware, config, splits).chipAccuracy;
      seconds.chip += (Date.now() - started) / 1000;
      // The same at 100 images: with the time above, the fixed cost (programming, ADC calibration) and
      // the cost per image.
      started = Date.now();
      searchChipAccuracy(subnet, decoded.hardware, withChipImages100, splits);
      seconds.chip100 += (Date.now() - started) / 1000;

      const noiseFree = noiseFreeSearchChip(subnet, decoded.hardware, config, splits);
      const correct: boolean[] = [];
      try {
        for (let start = 0; start < noiseFreeImages.labels.length; start += 500) {
          const n = Math.min(500, noiseFreeImages.labels.length - start);
          const predicted = tf.tidy(() =>
            tf.argMax(forwardFolded(subnet, imagesTensor(noiseFreeImages, start, n), noiseFree.linearOp), 1),
          );
          const labels = predicted.dataSync();
          predicted.dispose();
          for (let i = 0; i < n; i++) correct.push(labels[i] === noiseFreeImages.labels[start + i]);
        }
      } finally {
        noiseFree.dispose();
      }
      const prefixes = PREFIXES.map((n) => correct.slice(0, n).filter(Boolean).length / n);

      started = Date.now();
      const noisy = await new SimulatorEvaluator({ measureNoiseFree: false }).evaluate({
        candidateId: design.key,
        network: subnet,
        hardware: decoded.hardware,
        samples: NOISY_CHIPS,
        seed: chipSeed(config, 'robustness', design.key),
        driftSeconds: [timeS],
        noise: config.robustness.noise,
        data: firstImages(splits.validation, NOISY_IMAGES),
        calibration: firstImages(splits.train, SEARCH_ADC_CALIBRATION_IMAGES),
      });
      seconds.noisy += (Date.now() - started) / 1000;
      const row = {
        key: design.key,
        edap: design.metrics.edap,
        digital,
        chip,
        prefixes,
        noisy: noisy.points[0]!.accuracy.mean,
        description: (({ network, chip: onChip }) => `${network} | ${onChip}`)(describeDesign(decoded)),
      };
      rows.push(row);
      console.error(
        `[chipAccuracy] ${rows.length}/${designs.length} ${row.key}: digital ${row.digital}, chip ${row.chip}, noise-free@1000 ${prefixes[3]}, noisy ${round(row.noisy)}, EDAP ${row.edap.toExponential(2)}`,
      );
    }
  } finally {
    supernet.dispose();
  }

  const noiseFreeReference = rows.map((row) => row.prefixes[PREFIXES.length - 1]!);
  const noisyReference = rows.map((row) => row.noisy);
  const tau = (signal: number[]) => ({
    noiseFree: round(kendallTauB(signal, noiseFreeReference)),
    noisy: round(kendallTauB(signal, noisyReference)),
  });
  const figures: BenchFigures = {
    source: `run directory ${path.relative(process.cwd(), runDir)}`,
    designs: rows.length,
    chip_images: config.evolution.chipImages,
    validation_images: config.evolution.validationImages,
    noisy_chips: NOISY_CHIPS,
    noisy_images: NOISY_IMAGES,
    drift_seconds: timeS,
    per_design_digital_s: round(seconds.digital / rows.length, 3),
    per_design_chip_accuracy_s: round(seconds.chip / rows.length, 3),
    per_design_chip_accuracy_100_images_s: round(seconds.chip100 / rows.length, 3),
    per_design_noisy_reference_s: round(seconds.noisy / rows.length, 3),
    stage2_ratio_per_evaluation: round((seconds.digital + seconds.chip) / seconds.digital, 3),
    stage2_ratio_per_evaluation_100_images: round((seconds.digital + seconds.chip100) / seconds.digital, 3),
    kendall_tau_chip_accuracy_noise_free_1000: tau(rows.map((row) => row.chip)).noiseFree,
    kendall_tau_chip_accuracy_noisy: tau(rows.map((row) => row.chip)).noisy,
    kendall_tau_digital_noise_free_1000: tau(rows.map((row) => row.digital)).noiseFree,
    kendall_tau_digital_noisy: tau(rows.map((row) => row.digital)).noisy,
    kendall_tau_noise_free_1000_noisy: round(kendallTauB(noiseFreeReference, noisyReference)),
    mean_drop_digital_to_noise_free: round(
      rows.reduce((sum, row, i) => sum + row.digital - noiseFreeReference[i]!, 0) / rows.length,
    ),
    mean_drop_digital_to_noisy: round(
      rows.reduce((sum, row, i) => sum + row.digital - noisyReference[i]!, 0) / rows.length,
    ),
  };
  PREFIXES.slice(0, -1).forEach((n, index) => {
    const signal = rows.map((row) => row.prefixes[index]!);
    figures[`kendall_tau_noise_free_${n}_noise_free_1000`] = tau(signal).noiseFree;
    figures[`kendall_tau_noise_free_${n}_noisy`] = tau(signal).noisy;
  });
  for (const row of rows) {
    figures[`design_${row.key}`] =
      `digital ${round(row.digital)}, chipAccuracy ${round(row.chip)}, noise-free@1000 ${round(row.prefixes[3]!)}, noisy ${round(row.noisy)}, EDAP ${row.edap.toExponential(3)}${row.description ? ` | ${row.description}` : ''}`;
  }
  return figures;
}
