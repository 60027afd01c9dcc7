/**
 * `npm run bench -- sandwichCost` (or `nice -n 10 npx tsx bench/run.ts sandwichCost`): what a supernet
 * training step costs on the demo's space (examples/quick.yaml: its space, batch size, largest-path
 * share, weight noise) under three recipes, measured in one process, interleaved so that the machine's
 * load falls on all three alike:
 * - `one_path`: one path per step (inPlaceDistillation off);
 * - `distillation`: the demo's default, in-place distillation (largest path + sampled path);
 * - `sandwich_smallest`: distillation with the smallest path too (SupernetOptions.sandwichSmallestPath).
 * Each recipe runs IMCNAS_BENCH_SANDWICH_ROUNDS (4) rounds of IMCNAS_BENCH_SANDWICH_STEPS (10) steps, after
 * 3 unmeasured warm-up steps; the figures are ms per step (mean over all measured steps) and the ratio to
 * `distillation`. The steps are the same batches for every recipe.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadConfigFile } from '../config/load';
import { loadSplits } from '../data/dataset';
import { Supernet } from '../models/supernet';
import { SupernetTrainer, batchForStep } from '../models/supernetTrainer';
import { describeCandidate } from '../search/space/keys';
import { stageSpace, weightNoiseFor } from '../tasks/shared';
import { initTensorEngine } from '../tensor/backend';
import type { BenchFigures } from './run';
import { positiveIntegerFromEnv } from './supernet';

const RECIPES = {
  one_path: { inPlaceDistillation: false, sandwichSmallestPath: false },
  distillation: { inPlaceDistillation: true, sandwichSmallestPath: false },
  sandwich_smallest: { inPlaceDistillation: true, sandwichSmallestPath: true },
} as const;
type Recipe = keyof typeof RECIPES;

export async function run(): Promise<BenchFigures> {
  const rounds = positiveIntegerFromEnv('IMCNAS_BENCH_SANDWICH_ROUNDS', 4);
  const stepsPerRound = positiveIntegerFromEnv('IMCNAS_BENCH_SANDWICH_STEPS', 10);
  const warmupSteps = 3;
  const configFile = path.join(__dirname, '..', 'examples', 'quick.yaml');
  const config = await loadConfigFile(configFile);
  await initTensorEngine({ backend: 'wasm' });
  const space = stageSpace(config);
  const { batchSize, largestPathShare, noiseAware, noiseSigma, learningRate } = config.supernet;
  const totalSteps = warmupSteps + rounds * stepsPerRound;
  // Enough images for every step's batch to be distinct; the cost of a step does not depend on which.
  const splits = await loadSplits(
    { ...config.dataset, trainSubset: batchSize * totalSteps, validation: 100 },
    config.seed,
  );
  const { height, width, channels } = splits.train;

  const setups = Object.entries(RECIPES).map(([name, recipe]) => {
    const supernet = new Supernet(space, {
      seed: config.seed,
      weightNoise: weightNoiseFor(noiseAware, noiseSigma, config.seed),
      largestPathShare,
      ...recipe,
    });
    const trainer = new SupernetTrainer(supernet, {
      peak: learningRate,
      totalSteps,
      warmupSteps: 1,
      final: 0,
    });
    return { name: name as Recipe, supernet, trainer, measuredMs: 0, measuredSteps: 0 };
  });
  const step = (setup: (typeof setups)[number], measured: boolean) => {
    const batch = batchForStep(splits.train, batchSize, config.seed, setup.trainer.step);
    const images = tf.tensor4d(batch.x, [batch.y.length, height, width, channels]);
    const labels = tf.tensor1d(batch.y, 'int32');
    const started = performance.now();
    setup.trainer.trainStep(images, labels);
    const elapsed = performance.now() - started;
    tf.dispose([images, labels]);
    if (measured) {
      setup.measuredMs += elapsed;
      setup.measuredSteps++;
    }
  };
  for (const setup of setups) for (let i = 0; i < warmupSteps; i++) step(setup, false);
  for (let round = 0; round < rounds; round++) {
    for (const setup of setups) for (let i = 0; i < stepsPerRound; i++) step(setup, true);
  }
  const msPerStep = Object.fromEntries(
    setups.map((setup) => [setup.name, setup.measuredMs / setup.measuredSteps]),
  ) as Record<Recipe, number>;
  const smallest = describeCandidate(setups[0]!.supernet.smallestPath()).split(' | ')[0]!;
  for (const setup of setups) {
    setup.trainer.dispose();
    setup.supernet.dispose();
  }
  const round = (value: number, digits = 1) => Number(value.toFixed(digits));
  return {
    ms_per_step_one_path: round(msPerStep.one_path),
    ms_per_step_distillation: round(msPerStep.distillation),
    ms_per_step_sandwich_smallest: round(msPerStep.sandwich_smallest),
    sandwich_smallest_over_distillation: round(msPerStep.sandwich_smallest / msPerStep.distillation, 3),
    distillation_over_one_path: round(msPerStep.distillation / msPerStep.one_path, 3),
    smallest_path: smallest,
    measured_steps_per_recipe: rounds * stepsPerRound,
    batch_size: batchSize,
    largest_path_share: largestPathShare,
    weight_noise: noiseAware ? noiseSigma : 0,
    config_file: 'examples/quick.yaml',
    backend: 'wasm',
  };
}
