/**
 * `npm run bench -- searchReal`: NSGA-II against random search on the real joint problem (issue #15's
 * `search-real`). On examples/quick.yaml's space, data, objectives ([accuracy, edap]) and stage-1 settings:
 *
 * 1. stage 1 once, as the workflow runs it (tasks/supernetTraining.ts), timed;
 * 2. for every seed, stage 2 with `evolution.algorithm` nsga2 and with random, as the workflow runs it —
 *    proposeGeneration → the real candidate evaluation (tasks/candidateEvaluation.ts in child
 *    processes, candidatesPerActivity per child, maxParallelEvaluations children at once) →
 *    tellGeneration — on the same trained supernet, with the same population and generations (an equal
 *    candidate budget). Only the optimizer's seed differs between runs: candidates are evaluated with the
 *    base config (quick.yaml's seed), so the data split, the BatchNorm recalibration images and hence each
 *    genome's metrics are the same in every run;
 * 3. the hypervolume of each run's evaluated set under ONE normalization shared by all runs
 *    (search/problems/comparison.ts `scoreUnderOneNormalization`: EDAP on a log10 scale, ideal and nadir
 *    from the union of all runs' non-dominated sets, reference point 1.1).
 *
 * Evaluations are cached by genome key across runs: every run's evaluation requests write to one shared
 * directory, and a genome already evaluated there (by any run) is read back instead of evaluated again.
 * That is exact, not an approximation: a genome's evaluation on one supernet with one recalibration seed
 * is deterministic. `new_evaluations` counts the genomes actually evaluated.
 *
 * Environment (defaults are quick.yaml's):
 *   IMCNAS_BENCH_TRAIN_IMAGES (20000), IMCNAS_BENCH_EPOCHS (4) scale stage 1;
 *   IMCNAS_BENCH_POPULATION (16), IMCNAS_BENCH_GENERATIONS (4) set the budget of every run;
 *   IMCNAS_BENCH_SEEDS (5): seeds 1..N, each run once with each algorithm;
 *   IMCNAS_BENCH_DIR: keep the trained supernet and the evaluation cache there and reuse them on the next
 *   run (refused when the stage-1 or evaluation settings differ); default a temporary directory.
 *
 * With the defaults (5 seeds × 2 algorithms × 16 × 4 = 640 evaluations, none shared between runs) it took
 * 1,722 s under `nice -n 10` on the shared 2-core machine at a load average of 12–18: stage 1 316 s, each
 * search 112–176 s (`npm run bench -- searchReal`, 2026-12-02). Seeds 6–10 then took 1,191 s more
 * (`IMCNAS_BENCH_SEEDS=10` with IMCNAS_BENCH_DIR holding seeds 1–5). A run that reads everything back
 * reports `new_evaluations` 0 and its seconds are then only the bookkeeping's.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { proposeGeneration, tellGeneration } from '../activities/evolution';
import { searchDir } from '../storage/runLayout';
import type { CandidateResult, ProposedCandidate } from '../contracts';
import { loadConfigFile, validateConfig } from '../config/load';
import type { RunConfig } from '../config/schema';
import type { CandidateEvaluationRequest, StoredEvaluation } from '../tasks/candidateEvaluation';
import { evaluationFile } from '../tasks/candidateEvaluation';
import * as supernetTraining from '../tasks/supernetTraining';
import { supernetDir } from '../tasks/shared';
import { objectiveSpecs, restoreOptimizer, type OptimizerState } from '../search/evolution';
import type { Nsga2 } from '../search/nsga2';
import type { RandomSearch } from '../search/randomSearch';
import { normalizedHypervolume, logScaleObjectives } from '../search/hypervolume';
import { scoreUnderOneNormalization, type ScoredRun } from '../search/problems/comparison';
import { genomeKey } from '../search/space/keys';
import { resolveSearchSpace } from '../search/space/parse';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';
import { runInChild } from '../tensor/childProcess';
import type { BenchFigures } from './run';

const TASK = path.join(__dirname, '..', 'tasks', `candidateEvaluation${path.extname(__filename)}`);
const round = (value: number, digits = 4) => Number(value.toFixed(digits));
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got "${raw}"; unset it for ${fallback}`);
  return value;
}

/** The settings a cached supernet or evaluation depends on: reuse is refused when any differs. */
function evaluationFingerprint(config: RunConfig): string {
  return JSON.stringify({
    seed: config.seed,
    dataset: config.dataset,
    space: config.space,
    supernet: config.supernet,
    bnRecalBatches: config.evolution.bnRecalBatches,
    validationImages: config.evolution.validationImages,
  });
}

async function prepareRoot(base: RunConfig): Promise<{ root: string; keep: boolean }> {
  const requested = process.env.IMCNAS_BENCH_DIR;
  if (!requested)
    return { root: await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-bench-search-real-')), keep: false };
  const root = path.resolve(requested);
  await fs.mkdir(root, { recursive: true });
  const file = path.join(root, 'fingerprint.json');
  const stored = await readJsonIfExists<{ fingerprint: string }>(file);
  const fingerprint = evaluationFingerprint(base);
  if (stored && stored.fingerprint !== fingerprint) {
    throw new Error(
      `IMCNAS_BENCH_DIR ${root} holds a supernet and evaluations made with other stage-1 or evaluation settings; point it at an empty directory or unset it`,
    );
  }
  if (!stored) await writeJsonAtomic(file, { fingerprint });
  return { root, keep: true };
}

interface RunOutcome {
  algorithm: 'nsga2' | 'random';
  seed: number;
  seconds: number;
  newEvaluations: number;
  /** Every evaluated candidate with the generation that proposed it. */
  evaluated: { accuracy: number; edap: number; violation: number; generation: number }[];
}

/** One stage-2 search: propose → evaluate (cached by genome key in `evaluations`) → tell, per generation. */
async function search(
  base: RunConfig,
  algorithm: 'nsga2' | 'random',
  seed: number,
  trainedRunDir: string,
  evaluations: string,
  runDir: string,
): Promise<RunOutcome> {
  // The optimizer's seed is the config's seed; evaluation keeps the base config (see the header).
  const config = validateConfig({ ...base, seed, evolution: { ...base.evolution, algorithm } });
  await fs.rm(runDir, { recursive: true, force: true });
  await fs.mkdir(runDir, { recursive: true });
  const started = Date.now();
  let newEvaluations = 0;
  const generationOf = new Map<string, number>();
  const generations = config.evolution.generations;
  for (let generation = 0; generation < generations; generation++) {
    const proposal = await proposeGeneration({ runDir, generation, config });
    for (const candidate of proposal.candidates) generationOf.set(candidate.key, generation);
    const cached = new Map<string, CandidateResult>();
    const pending: ProposedCandidate[] = [];
    for (const candidate of proposal.candidates) {
      const stored = await readJsonIfExists<StoredEvaluation>(evaluationFile(evaluations, candidate.key));
      if (stored) cached.set(candidate.key, { key: stored.key, metrics: stored.metrics });
      else pending.push(candidate);
    }
    const size = base.evolution.candidatesPerActivity;
    const chunks: ProposedCandidate[][] = [];
    for (let i = 0; i < pending.length; i += size) chunks.push(pending.slice(i, i + size));
    const evaluated: CandidateResult[][] = new Array(chunks.length);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const index = next++;
        evaluated[index] = await runInChild<CandidateEvaluationRequest, CandidateResult[]>({
          modulePath: TASK,
          request: {
            dir: evaluations,
            runDir: trainedRunDir,
            generation,
            config: base,
            candidates: chunks[index]!,
          },
        });
      }
    };
    await Promise.all(Array.from({ length: base.evolution.maxParallelEvaluations }, worker));
    newEvaluations += pending.length;
    const results = [...cached.values(), ...evaluated.flat()];
    await tellGeneration({ runDir, generation, config, results });
  }
  const state = await readJsonIfExists<OptimizerState>(
    path.join(searchDir(runDir), `state-after-gen-${String(generations - 1).padStart(4, '0')}.json`),
  );
  if (!state) throw new Error(`${algorithm} seed ${seed}: no optimizer state after the last generation`);
  // Both optimizers keep every evaluated candidate (their genome caches).
  const optimizer = restoreOptimizer(resolveSearchSpace(config.space), state) as Nsga2 | RandomSearch;
  const names = objectiveSpecs(config.objectives).map((objective) => objective.name);
  const accuracyIndex = names.indexOf('accuracy');
  const edapIndex = names.indexOf('edap');
  return {
    algorithm,
    seed,
    seconds: (Date.now() - started) / 1000,
    newEvaluations,
    evaluated: optimizer.allEvaluated().map((candidate) => ({
      accuracy: candidate.objectives[accuracyIndex]!,
      edap: candidate.objectives[edapIndex]!,
      violation: candidate.constraintViolation,
      generation: generationOf.get(genomeKey(candidate.genome)) ?? -1,
    })),
  };
}

export async function run(): Promise<BenchFigures> {
  const quick = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const base = validateConfig({
    ...quick,
    dataset: { ...quick.dataset, trainSubset: positiveIntFromEnv('IMCNAS_BENCH_TRAIN_IMAGES', 20000) },
    supernet: { ...quick.supernet, epochs: positiveIntFromEnv('IMCNAS_BENCH_EPOCHS', 4) },
    evolution: {
      ...quick.evolution,
      population: positiveIntFromEnv('IMCNAS_BENCH_POPULATION', quick.evolution.population),
      generations: positiveIntFromEnv('IMCNAS_BENCH_GENERATIONS', quick.evolution.generations),
    },
  });
  const objectives = base.objectives.map((objective) => objective.metric).join(',');
  if (objectives !== 'accuracy,edap')
    throw new Error(`searchReal scores objectives accuracy and edap; examples/quick.yaml has ${objectives}`);
  const seeds = Array.from({ length: positiveIntFromEnv('IMCNAS_BENCH_SEEDS', 5) }, (_, i) => i + 1);
  const { root, keep } = await prepareRoot(base);
  try {
    const trained = path.join(root, 'trained');
    const evaluations = path.join(root, 'evaluations');
    await fs.mkdir(evaluations, { recursive: true });
    const trainStarted = Date.now();
    const training = await supernetTraining.run(
      { dir: supernetDir(trained), config: base, untilEpoch: base.supernet.epochs, attempt: 1 },
      { report: () => undefined },
    );
    const stage1 = (Date.now() - trainStarted) / 1000;

    const outcomes: RunOutcome[] = [];
    for (const seed of seeds) {
      for (const algorithm of ['nsga2', 'random'] as const) {
        const outcome = await search(
          base,
          algorithm,
          seed,
          trained,
          evaluations,
          path.join(root, 'runs', `${algorithm}-${seed}`),
        );
        console.error(
          `[searchReal] ${algorithm} seed ${seed}: ${outcome.evaluated.length} evaluated (${outcome.newEvaluations} new) in ${outcome.seconds.toFixed(0)} s`,
        );
        outcomes.push(outcome);
      }
    }

    const budget = base.evolution.population * base.evolution.generations;
    const feasible = (outcome: RunOutcome) =>
      outcome.evaluated.filter((candidate) => candidate.violation === 0);
    const runs: ScoredRun[] = outcomes.map((outcome) => ({
      algorithm: outcome.algorithm,
      seed: outcome.seed,
      objectives: feasible(outcome).map((candidate) => [candidate.accuracy, candidate.edap]),
    }));
    const score = scoreUnderOneNormalization(runs, ['max', 'min'], [false, true], budget);
    const of = (algorithm: 'nsga2' | 'random') =>
      outcomes.filter((outcome) => outcome.algorithm === algorithm);
    const perAlgorithm = (algorithm: 'nsga2' | 'random') => {
      const mine = of(algorithm);
      const bestAccuracy = mine.map((outcome) => Math.max(...feasible(outcome).map((c) => c.accuracy)));
      const bestEdap = mine.map((outcome) => Math.min(...feasible(outcome).map((c) => c.edap)));
      const medianAccuracy = mine.map((outcome) => {
        const sorted = feasible(outcome)
          .map((c) => c.accuracy)
          .sort((a, b) => a - b);
        return sorted[Math.floor(sorted.length / 2)]!;
      });
      // The hypervolume after each generation, under the final normalization: where each algorithm gains.
      const afterGeneration = (outcome: RunOutcome, generation: number) =>
        normalizedHypervolume(
          logScaleObjectives(
            feasible(outcome)
              .filter((candidate) => candidate.generation <= generation)
              .map((candidate) => [candidate.accuracy, candidate.edap]),
            [false, true],
          ),
          ['max', 'min'],
          score.bounds,
        );
      const byGeneration = Array.from({ length: base.evolution.generations }, (_, generation) =>
        mean(mine.map((outcome) => afterGeneration(outcome, generation))),
      );
      return {
        [`hv_${algorithm}_by_generation`]: byGeneration.map((value) => round(value, 3)).join(' '),
        [`hv_${algorithm}_first_generation_per_seed`]: mine
          .map((outcome) => round(afterGeneration(outcome, 0), 3))
          .join(' '),
        [`${algorithm}_best_accuracy_mean`]: round(mean(bestAccuracy)),
        [`${algorithm}_best_edap_mean`]: Number(mean(bestEdap).toPrecision(4)),
        [`${algorithm}_log10_best_edap_mean`]: round(mean(bestEdap.map(Math.log10)), 3),
        [`${algorithm}_median_accuracy_mean`]: round(mean(medianAccuracy)),
        [`${algorithm}_evaluated_mean`]: round(mean(mine.map((outcome) => outcome.evaluated.length)), 1),
        [`${algorithm}_infeasible_total`]: mine.reduce(
          (sum, outcome) => sum + outcome.evaluated.length - feasible(outcome).length,
          0,
        ),
        [`${algorithm}_s_total`]: round(
          mine.reduce((sum, outcome) => sum + outcome.seconds, 0),
          1,
        ),
      };
    };
    return {
      hv_nsga2_mean: round(score.nsga2Mean),
      hv_random_mean: round(score.randomMean),
      hv_nsga2_std: round(score.nsga2Std),
      hv_random_std: round(score.randomStd),
      nsga2_wins: score.nsga2Wins,
      seeds: seeds.length,
      budget,
      population: base.evolution.population,
      generations: base.evolution.generations,
      hv_nsga2_per_seed: score.nsga2.map((value) => round(value)).join(' '),
      hv_random_per_seed: score.random.map((value) => round(value)).join(' '),
      bounds_accuracy: `${round(score.bounds.nadir[0]!)}..${round(score.bounds.ideal[0]!)}`,
      bounds_log10_edap: `${round(score.bounds.ideal[1]!, 3)}..${round(score.bounds.nadir[1]!, 3)}`,
      ...perAlgorithm('nsga2'),
      ...perAlgorithm('random'),
      new_evaluations: outcomes.reduce((sum, outcome) => sum + outcome.newEvaluations, 0),
      train_images: base.dataset.trainSubset ?? null,
      supernet_epochs: base.supernet.epochs,
      supernet_largest_path_accuracy: training.validationAccuracy,
      validation_images: base.evolution.validationImages,
      stage1_s: round(stage1, 1),
    };
  } finally {
    if (!keep) await fs.rm(root, { recursive: true, force: true });
  }
}
