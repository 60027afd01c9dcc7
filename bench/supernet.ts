/**
 * `npm run bench -- supernet` (or `nice -n 10 npx tsx bench/run.ts supernet`): how well the SPOS supernet
 * ranks architectures on Fashion-MNIST, over several seeds.
 *
 * For each seed (IMCNAS_BENCH_SUPERNET_SEEDS, default 2: seeds 7, 8), in a child process of its own
 * (bench/supernetSeed.ts), two at a time:
 * - trains a supernet with that seed (SPOS uniform single-path sampling, quantization-aware, aligned
 *   initialization of same-family operators, in-place distillation: every step trains the largest path on
 *   the labels and the sampled path on the largest path's predictions, SupernetOptions.inPlaceDistillation)
 *   for IMCNAS_BENCH_SUPERNET_EPOCHS epochs of the training split;
 * - draws its own IMCNAS_BENCH_SUPERNET_PATHS (default 20) paths uniformly over the space, as the search
 *   proposes them (whole genomes through sampleGenome/decode), and evaluates each with inherited weights,
 *   BatchNorm recalibrated, folded (the deployed arithmetic) on the validation split.
 * Then every path of every seed is trained standalone from scratch (models/pathTrainingTask.ts, the same
 * recipe, the same validation images) for IMCNAS_BENCH_SUPERNET_STANDALONE_EPOCHS (default 1) full passes
 * over the very training split the supernet trained on, two child processes at a time.
 *
 * `kendall_tau` is the mean over seeds of Kendall's τ-b between inherited and standalone accuracies
 * (`kendall_tau_seed_<seed>` each; `kendall_tau_pooled` over all paths together): the ranking quality a
 * weight-sharing search rests on (Guo et al. 2020 §4; Yu et al., "Evaluating the Search Phase of Neural
 * Architecture Search", ICLR 2020). The split sizes (IMCNAS_BENCH_SUPERNET_TRAIN_IMAGES, default 5,000;
 * IMCNAS_BENCH_SUPERNET_VALIDATION_IMAGES, default 2,000) keep 40 standalone epochs affordable on two shared
 * cores. The configuration is stated in the results (`config`).
 *
 * Comparing supernet recipes: IMCNAS_BENCH_SUPERNET_DISTILLATION (default 1; 0 = one path per step, as
 * before), IMCNAS_BENCH_SUPERNET_SMALLEST_PATH (default 0; 1 = the smallest path in every step's sandwich,
 * SupernetOptions.sandwichSmallestPath), IMCNAS_BENCH_SUPERNET_LOW_BIT_CLIPPING (default 0; 1 = clipped
 * ranges for 2-bit activation grids, SupernetOptions.lowBitRangeClipping, in the supernet and in the
 * standalone trainings alike: the range rule is part of the network a path is) and
 * IMCNAS_BENCH_SUPERNET_LARGEST_PATH_SHARE (default 0; the runs without distillation used 0.6) set the
 * recipe, and IMCNAS_BENCH_SUPERNET_STANDALONE_FROM=<a previous results file> reuses that run's
 * standalone accuracies instead of training the same paths again (they depend on the path, its seed and
 * the standalone recipe only; the file must match all three, else an error says what differs).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { BenchFigures } from './run';
import { deriveSeed } from '../common/rng';
import { loadSplits, type DatasetSpec } from '../data/dataset';
import type { Candidate } from '../search/space/codec';
import { describeCandidate } from '../search/space/keys';
import type { SearchSpaceInput } from '../search/space/schema';
import { runInChild } from '../tensor/childProcess';
import { stepsPerEpoch } from '../models/supernetTrainer';
import type { PathTrainingRequest, PathTrainingResult } from '../models/pathTrainingTask';
import type { SupernetSeedRequest, SupernetSeedResult } from './supernetSeed';

/**
 * A positive integer from the environment variable `name`, or `fallback` when it is unset; anything else
 * is an error naming the variable, raised before any training starts.
 */
export function positiveIntegerFromEnv(name: string, fallback: number, env = process.env): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `${name} must be a positive integer, got ${JSON.stringify(text)}; unset it for ${fallback}`,
    );
  }
  return value;
}

/** A number in [0, 1] from the environment variable `name`, or `fallback` when it is unset. */
export function unitIntervalFromEnv(name: string, fallback: number, env = process.env): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) {
    throw new RangeError(
      `${name} must be a number in [0, 1], got ${JSON.stringify(text)}; unset it for ${fallback}`,
    );
  }
  return value;
}

/** A boolean from the environment variable `name` ('1'/'true' or '0'/'false'), or `fallback` when unset. */
export function booleanFromEnv(name: string, fallback: boolean, env = process.env): boolean {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw new RangeError(
    `${name} must be 1 or 0 (true or false), got ${JSON.stringify(text)}; unset it for ${fallback ? 1 : 0}`,
  );
}

/**
 * The standalone accuracies of a previous run (`file`, a bench/results/supernet.json) for the same paths:
 * standalone training depends only on the path, its seed and the standalone recipe, not on the supernet,
 * so supernet recipes can be compared on one set of standalone trainings. Anything that would make them
 * other trainings (another split, recipe, or path sample) is an error naming what differs.
 */
export async function standaloneFromFile(
  file: string,
  config: ReturnType<typeof benchConfig>,
  seeds: ReadonlyArray<{ seed: number; sampled: Candidate[] }>,
): Promise<number[][]> {
  const fix = 'unset IMCNAS_BENCH_SUPERNET_STANDALONE_FROM to train the standalone paths';
  const previous = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  const before = JSON.parse(String(previous.config)) as Record<string, unknown>;
  // Files from before the option trained their standalone paths with the running max.
  before.lowBitRangeClipping ??= false;
  for (const key of [
    'lowBitRangeClipping',
    'datasetSeed',
    'dataset',
    'batchSize',
    'learningRate',
    'warmupFraction',
    'calibrationBatches',
    'standaloneEpochs',
  ] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(config[key])) {
      throw new Error(
        `IMCNAS_BENCH_SUPERNET_STANDALONE_FROM: ${file} has ${key} ${JSON.stringify(before[key])}, this run ${JSON.stringify(config[key])}; ${fix}`,
      );
    }
  }
  return seeds.map(({ seed, sampled }) => {
    const pairs = previous[`pairs_inherited_standalone_seed_${seed}`];
    if (typeof pairs !== 'string')
      throw new Error(`IMCNAS_BENCH_SUPERNET_STANDALONE_FROM: ${file} has no seed ${seed}; ${fix}`);
    const rows = JSON.parse(pairs) as Array<[string, number, number]>;
    return sampled.map((candidate, index) => {
      const name = describeCandidate(candidate).split(' | ')[0];
      if (rows[index]?.[0] !== name) {
        throw new Error(
          `IMCNAS_BENCH_SUPERNET_STANDALONE_FROM: ${file}'s seed ${seed} path ${index} is ${JSON.stringify(rows[index]?.[0])}, this run's ${JSON.stringify(name)}; ${fix}`,
        );
      }
      return rows[index]![2];
    });
  });
}

/**
 * The benchmark's search space: the default space (stem 16, stages [16, 24, 32] and [32, 48, 64] of two
 * blocks, conv3 / conv5 / mbconv3_e3 / mbconv5_e3 / skip, weight and activation bits {2, 4, 6, 8} per
 * stage) with one change for the budget of two shared cores: a stride-2 stem (14×14 feature maps, ~4×
 * fewer MACs than 28×28).
 */
export const SPACE: SearchSpaceInput = { network: { stem: { stride: 2 } } };

/** The configuration; the IMCNAS_BENCH_SUPERNET_* variables override the budgets (header). */
export function benchConfig(env = process.env) {
  const seeds = positiveIntegerFromEnv('IMCNAS_BENCH_SUPERNET_SEEDS', 2, env);
  return {
    datasetSeed: 7,
    supernetSeeds: Array.from({ length: seeds }, (_, i) => 7 + i),
    dataset: {
      name: 'fashion-mnist',
      trainSubset: positiveIntegerFromEnv('IMCNAS_BENCH_SUPERNET_TRAIN_IMAGES', DEFAULT_TRAIN_IMAGES, env),
      validation: positiveIntegerFromEnv(
        'IMCNAS_BENCH_SUPERNET_VALIDATION_IMAGES',
        DEFAULT_VALIDATION_IMAGES,
        env,
      ),
    } as DatasetSpec,
    batchSize: 32,
    epochs: positiveIntegerFromEnv('IMCNAS_BENCH_SUPERNET_EPOCHS', DEFAULT_EPOCHS, env),
    learningRate: 0.1,
    largestPathShare: unitIntervalFromEnv('IMCNAS_BENCH_SUPERNET_LARGEST_PATH_SHARE', 0, env),
    inPlaceDistillation: booleanFromEnv('IMCNAS_BENCH_SUPERNET_DISTILLATION', true, env),
    sandwichSmallestPath: booleanFromEnv('IMCNAS_BENCH_SUPERNET_SMALLEST_PATH', false, env),
    lowBitRangeClipping: booleanFromEnv('IMCNAS_BENCH_SUPERNET_LOW_BIT_CLIPPING', false, env),
    /** A previous results file whose standalone accuracies of the same paths are reused (header). */
    standaloneFrom: env.IMCNAS_BENCH_SUPERNET_STANDALONE_FROM || null,
    warmupFraction: 0.03,
    calibrationBatches: 10,
    calibrationBatchSize: 128,
    sampledPaths: positiveIntegerFromEnv('IMCNAS_BENCH_SUPERNET_PATHS', 20, env),
    standaloneEpochs: positiveIntegerFromEnv('IMCNAS_BENCH_SUPERNET_STANDALONE_EPOCHS', 1, env),
    concurrency: 2,
  };
}
const DEFAULT_TRAIN_IMAGES = 5000;
const DEFAULT_VALIDATION_IMAGES = 2000;
const DEFAULT_EPOCHS = 8;

/** Kendall's τ-b (ties in either list counted as neither concordant nor discordant). */
export function kendallTauB(a: readonly number[], b: readonly number[]): number {
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i]! - a[j]!);
      const db = Math.sign(b[i]! - b[j]!);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denominator === 0 ? 0 : (concordant - discordant) / denominator;
}

/** Runs `tasks` with at most `limit` in flight; results in task order. */
export async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

const round = (value: number, digits = 4) => Number(value.toFixed(digits));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const standaloneSeed = (supernetSeed: number, index: number) => deriveSeed(supernetSeed, 'standalone', index);

export async function run(): Promise<BenchFigures> {
  const started = Date.now();
  const config = benchConfig();
  const splits = await loadSplits(config.dataset, config.datasetSeed);
  const trainImages = splits.train.count;
  const validationImages = splits.validation.count;
  // One standalone epoch is one pass over the very training split the supernet trained on.
  const standaloneSteps = stepsPerEpoch(splits.train, config.batchSize) * config.standaloneEpochs;
  const stallTimeoutMs = 900_000;
  const log = (message: string) => console.error(`[bench supernet] ${message}`);

  // Each seed's supernet, trained and its paths evaluated in a child of its own, two at a time.
  const supernetStarted = Date.now();
  const seedModule = path.join(__dirname, 'supernetSeed.ts');
  const seeds = await pool(
    config.supernetSeeds.map((seed) => () => {
      const request: SupernetSeedRequest = {
        space: SPACE,
        seed,
        dataset: config.dataset,
        datasetSeed: config.datasetSeed,
        epochs: config.epochs,
        batchSize: config.batchSize,
        learningRate: config.learningRate,
        largestPathShare: config.largestPathShare,
        inPlaceDistillation: config.inPlaceDistillation,
        sandwichSmallestPath: config.sandwichSmallestPath,
        lowBitRangeClipping: config.lowBitRangeClipping,
        warmupFraction: config.warmupFraction,
        calibrationBatches: config.calibrationBatches,
        calibrationBatchSize: config.calibrationBatchSize,
        sampledPaths: config.sampledPaths,
        backend: 'wasm',
      };
      return runInChild<SupernetSeedRequest, SupernetSeedResult>({
        modulePath: seedModule,
        request,
        stallTimeoutMs,
        onProgress: (progress) => {
          if (progress.step % 100 === 0)
            log(`${progress.message} step ${progress.step}/${progress.total ?? '?'}`);
        },
      });
    }),
    config.concurrency,
  );
  const supernetSeconds = (Date.now() - supernetStarted) / 1000;
  for (const result of seeds) {
    log(`seed ${result.seed}: largest ${result.largestAccuracy}, inherited ${result.inherited.join(' ')}`);
  }

  // Standalone training of every seed's paths, from scratch, one epoch each, two child processes at a time.
  const standaloneStarted = Date.now();
  const pathModule = path.join(__dirname, '..', 'models', 'pathTrainingTask.ts');
  const jobs = seeds.flatMap((result) =>
    result.sampled.map((candidate, index) => ({ seed: result.seed, index, candidate })),
  );
  let finished = 0;
  const reused = config.standaloneFrom
    ? await standaloneFromFile(config.standaloneFrom, config, seeds)
    : null;
  const standaloneFlat: PathTrainingResult[] = reused
    ? reused.flat().map((validationAccuracy) => ({
        validationAccuracy,
        steps: standaloneSteps,
        trainSeconds: Number.NaN,
        imagesPerSecond: Number.NaN,
        lastLoss: null,
        skippedSteps: Number.NaN,
      }))
    : await pool(
        jobs.map(({ seed, index, candidate }) => async () => {
          const request: PathTrainingRequest = {
            space: SPACE,
            path: { architecture: candidate.architecture, quantization: candidate.quantization },
            seed: standaloneSeed(seed, index),
            dataset: config.dataset,
            datasetSeed: config.datasetSeed,
            steps: standaloneSteps,
            batchSize: config.batchSize,
            learningRate: config.learningRate,
            warmupSteps: Math.round(standaloneSteps * config.warmupFraction),
            calibrationBatches: config.calibrationBatches,
            validationImages,
            // The range rule of a 2-bit grid is part of the network the path is: the same for both sides.
            lowBitRangeClipping: config.lowBitRangeClipping,
            backend: 'wasm',
          };
          const result = await runInChild<PathTrainingRequest, PathTrainingResult>({
            modulePath: pathModule,
            request,
            stallTimeoutMs,
          });
          finished++;
          log(
            `standalone ${finished}/${jobs.length} (seed ${seed} path ${index}): ${result.validationAccuracy}`,
          );
          return result;
        }),
        config.concurrency,
      );
  const standaloneSeconds = (Date.now() - standaloneStarted) / 1000;

  const figures: BenchFigures = {};
  const taus: number[] = [];
  const allInherited: number[] = [];
  const allStandalone: number[] = [];
  let offset = 0;
  for (const result of seeds) {
    const standalone = standaloneFlat
      .slice(offset, offset + result.sampled.length)
      .map((entry) => entry.validationAccuracy);
    offset += result.sampled.length;
    const tau = kendallTauB(result.inherited, standalone);
    taus.push(tau);
    allInherited.push(...result.inherited);
    allStandalone.push(...standalone);
    const n = result.seed;
    figures[`kendall_tau_seed_${n}`] = round(tau);
    figures[`largest_path_val_acc_seed_${n}`] = round(result.largestAccuracy);
    figures[`random_paths_val_acc_mean_seed_${n}`] = round(mean(result.inherited));
    figures[`standalone_val_acc_mean_seed_${n}`] = round(mean(standalone));
    figures[`supernet_train_s_seed_${n}`] = round(result.trainSeconds, 1);
    figures[`supernet_skipped_steps_seed_${n}`] = result.skippedSteps;
    figures[`pairs_inherited_standalone_seed_${n}`] = JSON.stringify(
      result.sampled.map((candidate, i) => [
        describeCandidate(candidate).split(' | ')[0],
        round(result.inherited[i]!),
        round(standalone[i]!),
      ]),
    );
  }
  const largest = seeds[0]!;
  const supernetImages = seeds.reduce((sum, result) => sum + result.steps * config.batchSize, 0);
  const standaloneImages = standaloneFlat.length * standaloneSteps * config.batchSize;

  return {
    kendall_tau: round(mean(taus)),
    ...Object.fromEntries(Object.entries(figures).filter(([key]) => key.startsWith('kendall_tau_seed_'))),
    kendall_tau_min: round(Math.min(...taus)),
    kendall_tau_pooled: round(kendallTauB(allInherited, allStandalone)),
    kendall_paths: config.sampledPaths,
    standalone_reused_from: config.standaloneFrom,
    kendall_seeds: seeds.length,
    largest_path: describeCandidate(largest.largestPath).split(' | ')[0]!,
    largest_path_val_acc: round(mean(seeds.map((result) => result.largestAccuracy))),
    random_paths_val_acc_mean: round(mean(allInherited)),
    random_paths_val_acc_min: round(Math.min(...allInherited)),
    random_paths_val_acc_max: round(Math.max(...allInherited)),
    standalone_val_acc_mean: round(mean(allStandalone)),
    standalone_val_acc_min: round(Math.min(...allStandalone)),
    standalone_val_acc_max: round(Math.max(...allStandalone)),
    ...figures,
    train_images: trainImages,
    validation_images: validationImages,
    supernet_epochs: config.epochs,
    supernet_steps: largest.steps,
    largest_path_share: config.largestPathShare,
    in_place_distillation: config.inPlaceDistillation,
    sandwich_smallest_path: config.sandwichSmallestPath,
    low_bit_range_clipping: config.lowBitRangeClipping,
    supernet_parameters: largest.parameters,
    standalone_epochs: config.standaloneEpochs,
    standalone_steps: standaloneSteps,
    standalone_skipped_steps: standaloneFlat.reduce((sum, result) => sum + result.skippedSteps, 0),
    standalone_img_s_mean: round(mean(standaloneFlat.map((result) => result.imagesPerSecond)), 1),
    // Both phases run two children at once, so these are the throughput of the two cores together.
    supernet_phase_img_s: round(supernetImages / supernetSeconds, 1),
    standalone_phase_img_s: round(standaloneImages / standaloneSeconds, 1),
    supernet_phase_s: round(supernetSeconds, 1),
    standalone_phase_s: round(standaloneSeconds, 1),
    total_s: round((Date.now() - started) / 1000, 1),
    backend: 'wasm',
    config: JSON.stringify({ ...config, space: SPACE }),
  };
}
