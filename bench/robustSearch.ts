/**
 * What a robust objective costs stage 2, and whether the fast noise paths ('weight', 'weight-adc') rank
 * candidates as the chip simulation does. On examples/quick.yaml (its space, data and stage-1 settings; drift time 3,600 s):
 *
 * 1. stage 1 as the workflow runs it (tasks/supernetTraining.ts), timed;
 * 2. stage 2 as the workflow runs it — propose, evaluate in child processes (candidatesPerActivity per
 *    child, maxParallelEvaluations children at once), tell — for objectives [accuracy, edap] ('plain'),
 *    [robustAccuracyMean, edap] with evolution.robustModel 'weight', 'weight-adc' (the weight path plus
 *    the ADC readout model of hardware/analog/readoutError.ts), and the same with 'chip'
 *    (IMCNAS_BENCH_CHIP_GENERATIONS stops it earlier: it is the slow one);
 * 3. Kendall τ-b between each fast model's robustAccuracyMean and the chip's over generation 0's candidates (the same
 *    genomes in every mode: proposals depend on the seed only), between their accuracy drops
 *    (digital − noisy), the part of the signal the digital accuracy does not already carry, and of
 *    each against a reference: the chip on 500 images per chip.
 *
 * `search_ratio_weight` = (stage 1 + stage 2 weight) / (stage 1 + stage 2 plain): the cost of the search
 * with the robust objective relative to one without (stages 3 and 4 are the same for both); likewise
 * `search_ratio_weight_adc`.
 *
 *   IMCNAS_BENCH_TRAIN_IMAGES (default 20000), IMCNAS_BENCH_EPOCHS (default 4) scale stage 1.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { proposeGeneration, tellGeneration } from '../activities/evolution';
import { generationDir } from '../storage/runLayout';
import type { CandidateResult } from '../contracts';
import { loadConfigFile, validateConfig } from '../config/load';
import type { RobustModel, RunConfig } from '../config/schema';
import type { CandidateEvaluationRequest } from '../tasks/candidateEvaluation';
import * as supernetTraining from '../tasks/supernetTraining';
import { supernetDir } from '../tasks/shared';
import { runInChild } from '../tensor/childProcess';
import { kendallTauB } from './supernet';
import type { BenchFigures } from './run';

const TASK = path.join(__dirname, '..', 'tasks', `candidateEvaluation${path.extname(__filename)}`);
const round = (value: number, digits = 4) => Number(value.toFixed(digits));

async function stage2(
  config: RunConfig,
  trainedRunDir: string,
  runDir: string,
  generations: number,
): Promise<{ seconds: number; evaluations: number; generation0: CandidateResult[] }> {
  await fs.rm(runDir, { recursive: true, force: true });
  await fs.mkdir(runDir, { recursive: true });
  await fs.cp(supernetDir(trainedRunDir), supernetDir(runDir), { recursive: true });
  const started = Date.now();
  let evaluations = 0;
  let generation0: CandidateResult[] = [];
  for (let generation = 0; generation < generations; generation++) {
    const proposal = await proposeGeneration({ runDir, generation, config });
    const size = config.evolution.candidatesPerActivity;
    const chunks: (typeof proposal.candidates)[] = [];
    for (let i = 0; i < proposal.candidates.length; i += size)
      chunks.push(proposal.candidates.slice(i, i + size));
    const results: CandidateResult[][] = new Array(chunks.length);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const index = next++;
        results[index] = await runInChild<CandidateEvaluationRequest, CandidateResult[]>({
          modulePath: TASK,
          request: {
            dir: path.join(generationDir(runDir, generation), 'evaluations'),
            runDir,
            generation,
            config,
            candidates: chunks[index]!,
          },
        });
      }
    };
    await Promise.all(Array.from({ length: config.evolution.maxParallelEvaluations }, worker));
    const flat = results.flat();
    if (generation === 0) generation0 = flat;
    evaluations = (await tellGeneration({ runDir, generation, config, results: flat })).evaluations;
  }
  return { seconds: (Date.now() - started) / 1000, evaluations, generation0 };
}

export async function run(): Promise<BenchFigures> {
  const quick = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const base = validateConfig({
    ...quick,
    dataset: { ...quick.dataset, trainSubset: Number(process.env.IMCNAS_BENCH_TRAIN_IMAGES ?? 20000) },
    supernet: { ...quick.supernet, epochs: Number(process.env.IMCNAS_BENCH_EPOCHS ?? 4) },
    robustness: { ...quick.robustness, driftSeconds: [3600] },
  });
  const robust = (model: RobustModel) =>
    validateConfig({
      ...base,
      objectives: [{ metric: 'robustAccuracyMean' }, { metric: 'edap' }],
      evolution: { ...base.evolution, robustModel: model },
    });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-bench-robust-'));
  try {
    const trained = path.join(root, 'trained');
    const trainStarted = Date.now();
    const training = await supernetTraining.run(
      { dir: supernetDir(trained), config: base, untilEpoch: base.supernet.epochs, attempt: 1 },
      { report: () => undefined },
    );
    const stage1 = (Date.now() - trainStarted) / 1000;
    const generations = base.evolution.generations;
    const chipGenerations = Number(process.env.IMCNAS_BENCH_CHIP_GENERATIONS ?? generations);
    const plain = await stage2(base, trained, path.join(root, 'plain'), generations);
    const weight = await stage2(robust('weight'), trained, path.join(root, 'weight'), generations);
    const weightAdc = await stage2(robust('weight-adc'), trained, path.join(root, 'weight-adc'), generations);
    const chip = await stage2(robust('chip'), trained, path.join(root, 'chip'), chipGenerations);
    // The reference: the chip on 500 images per chip (stage 3's budget scale), generation 0 only.
    const reference = await stage2(
      validateConfig({ ...robust('chip'), evolution: { ...robust('chip').evolution, robustImages: 500 } }),
      trained,
      path.join(root, 'reference'),
      1,
    );

    const byKey = (results: CandidateResult[]) => new Map(results.map((r) => [r.key, r.metrics]));
    const weightMetrics = byKey(weight.generation0);
    const weightAdcMetrics = byKey(weightAdc.generation0);
    const keys = chip.generation0
      .map((r) => r.key)
      .filter((key) => weightMetrics.has(key) && weightAdcMetrics.has(key));
    const chipMetrics = byKey(chip.generation0);
    const digital = keys.map((key) => chipMetrics.get(key)!.accuracy);
    const noisyChip = keys.map((key) => chipMetrics.get(key)!.robustAccuracyMean!);
    const noisyWeight = keys.map((key) => weightMetrics.get(key)!.robustAccuracyMean!);
    const noisyWeightAdc = keys.map((key) => weightAdcMetrics.get(key)!.robustAccuracyMean!);
    const referenceMetrics = byKey(reference.generation0);
    const noisyReference = keys.map((key) => referenceMetrics.get(key)!.robustAccuracyMean!);
    const perEvaluation = (run: { seconds: number; evaluations: number }) => run.seconds / run.evaluations;
    return {
      train_images: base.dataset.trainSubset ?? null,
      supernet_epochs: base.supernet.epochs,
      supernet_largest_path_accuracy: training.validationAccuracy,
      robust_samples: base.evolution.robustSamples,
      robust_images: base.evolution.robustImages,
      drift_seconds: 3600,
      stage1_s: round(stage1, 1),
      stage2_plain_s: round(plain.seconds, 1),
      stage2_weight_s: round(weight.seconds, 1),
      stage2_weight_adc_s: round(weightAdc.seconds, 1),
      stage2_generations: generations,
      stage2_evaluations: plain.evaluations,
      stage2_chip_s: round(chip.seconds, 1),
      stage2_chip_generations: chipGenerations,
      per_evaluation_plain_s: round(perEvaluation(plain), 3),
      per_evaluation_weight_s: round(perEvaluation(weight), 3),
      per_evaluation_weight_adc_s: round(perEvaluation(weightAdc), 3),
      per_evaluation_chip_s: round(perEvaluation(chip), 3),
      stage2_ratio_weight: round(weight.seconds / plain.seconds, 2),
      stage2_ratio_weight_adc: round(weightAdc.seconds / plain.seconds, 2),
      stage2_ratio_chip_per_evaluation: round(perEvaluation(chip) / perEvaluation(plain), 2),
      search_ratio_weight: round((stage1 + weight.seconds) / (stage1 + plain.seconds), 3),
      search_ratio_weight_adc: round((stage1 + weightAdc.seconds) / (stage1 + plain.seconds), 3),
      // Measured when the chip run did every generation, else extrapolated from its cost per evaluation.
      search_ratio_chip: round(
        (stage1 + perEvaluation(chip) * plain.evaluations) / (stage1 + plain.seconds),
        3,
      ),
      kendall_candidates: keys.length,
      kendall_tau_weight_chip: round(kendallTauB(noisyWeight, noisyChip)),
      kendall_tau_drop_weight_chip: round(
        kendallTauB(
          digital.map((d, i) => d - noisyWeight[i]!),
          digital.map((d, i) => d - noisyChip[i]!),
        ),
      ),
      kendall_tau_weight_adc_chip: round(kendallTauB(noisyWeightAdc, noisyChip)),
      kendall_tau_drop_weight_adc_chip: round(
        kendallTauB(
          digital.map((d, i) => d - noisyWeightAdc[i]!),
          digital.map((d, i) => d - noisyChip[i]!),
        ),
      ),
      kendall_tau_digital_chip: round(kendallTauB(digital, noisyChip)),
      reference_robust_images: 500,
      per_evaluation_reference_s: round(perEvaluation(reference), 3),
      kendall_tau_chip_reference: round(kendallTauB(noisyChip, noisyReference)),
      kendall_tau_weight_reference: round(kendallTauB(noisyWeight, noisyReference)),
      kendall_tau_weight_adc_reference: round(kendallTauB(noisyWeightAdc, noisyReference)),
      kendall_tau_digital_reference: round(kendallTauB(digital, noisyReference)),
      mean_drop_weight: round(digital.reduce((s, d, i) => s + d - noisyWeight[i]!, 0) / keys.length),
      mean_drop_weight_adc: round(digital.reduce((s, d, i) => s + d - noisyWeightAdc[i]!, 0) / keys.length),
      mean_drop_chip: round(digital.reduce((s, d, i) => s + d - noisyChip[i]!, 0) / keys.length),
    };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
