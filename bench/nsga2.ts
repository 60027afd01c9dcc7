/**
 * `npm run bench -- nsga2`: imcnas's NSGA-II with each parent-selection tournament against pymoo 0.6's NSGA-II
 * (the reference implementation, run by bench/peers/pymoo/nsga2.py), in one invocation, on the same problems
 * and budgets, scored by the same code.
 *
 * - Variants: `dom` = imcnas with tournament 'dominance-crowding' (pymoo's comparison over permutations),
 *   `rank` = imcnas with 'rank-crowding' (Deb et al. 2002's crowded comparison, draws with replacement),
 *   `pymoo` = pymoo.algorithms.moo.nsga2.NSGA2 with eliminate_duplicates=True. SBX η_c = 20 for all three
 *   (pymoo's own default is 15; 20 is Deb et al. 2002's setting and imcnas's default, so operators match).
 *   Everything else is each implementation's default: SBX p_c = 0.9 with per-variable probability 0.5,
 *   polynomial mutation η_m = 20 at a per-variable rate of 1/n in imcnas and 0.9 · 1/n in pymoo (PM
 *   mutates an individual with prob = 0.9, then each variable with 1/n: pymoo/core/mutation.py).
 * - Problems: ZDT1, ZDT2, ZDT3 (30 variables), DTLZ2 (3 objectives, 12 variables), OSY (6 variables, 6
 *   constraints). Population 100, 20,000 evaluations (200 generations) each. Seeds 1..100 on ZDT3 (the
 *   issue's claim is about 100 seeds there), 1..30 elsewhere to keep the run near 10 min on 2 cores;
 *   IMCNAS_NSGA2_SEEDS=<n> runs n seeds everywhere (a quick look), IMCNAS_NSGA2_PROBLEMS=zdt3,osy only those
 *   problems, IMCNAS_NSGA2_ETA_C=<η> another SBX η_c for all three variants (e.g. 15, pymoo's default).
 * - Score: hypervolume of the final population's feasible first front. ZDT: raw objectives, reference
 *   (1.1, 1.1); DTLZ2: reference (1.1, 1.1, 1.1); OSY: normalized by its true front's ideal (−274, 4) and
 *   nadir (−42, 76), reference 1.1 per objective. Figures per problem and variant: hv_mean, hv_median,
 *   hv_min, hv_std; `<problem>_true_hv` is the true front's value (exact for ZDT1 and DTLZ2, else of a
 *   dense sample of it).
 * - ZDT3 coverage: a seed "misses" a piece of the disconnected front when no point of its final first front
 *   has f1 within that piece's range ± 0.01 (`zdt3PiecesReached`); `zdt3_<variant>_missing_last_piece` counts
 *   seeds that miss the last piece (f1 ∈ [0.8233, 0.8518]), `_missing_any_piece` seeds that miss any.
 *
 * pymoo is found as $PYMOO_PYTHON, else bench/peers/pymoo/.venv/bin/python, else python3; when none imports
 * pymoo 0.6 the imcnas variants still run and `pymoo_status` says how to provision it (one command).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BenchFigures } from './run';
import { Nsga2 } from '../search/nsga2';
import type { TournamentScheme } from '../search/nsga2Operators';
import { hypervolume, normalizedHypervolume } from '../search/hypervolume';
import type { Goal } from '../search/optimizer';
import { runToBudget } from '../search/optimizer';
import { ZDT1_TRUE_HYPERVOLUME, zdt1, zdt2, zdt3, zdt3PiecesReached } from '../search/problems/zdt';
import type { TestProblem } from '../search/problems/zdt';
import { dtlz2 } from '../search/problems/dtlz';
import { OSY_BOUNDS, osy } from '../search/problems/osy';

const POPULATION = 100;
const EVALUATIONS = 20_000;
/** SBX η_c of every variant: Deb et al. 2002's 20 unless IMCNAS_NSGA2_ETA_C says otherwise. */
const DEFAULT_ETA_C = 20;
const PEER = path.join(__dirname, 'peers', 'pymoo', 'nsga2.py');
const PROVISION =
  'python3 -m venv bench/peers/pymoo/.venv && bench/peers/pymoo/.venv/bin/pip install -r bench/peers/pymoo/requirements.txt';

interface BenchProblem {
  problem: TestProblem;
  seeds: number;
  /** The true front's hypervolume on this problem's scale. */
  trueHypervolume: number;
  /** Hypervolume of a front of raw minimization objectives, on this problem's stated scale. */
  score(front: readonly (readonly number[])[]): number;
}

function problems(seedOverride: number | undefined): BenchProblem[] {
  const raw = (reference: number[]) => (front: readonly (readonly number[])[]) =>
    hypervolume(front, reference);
  const goals: Goal[] = ['min', 'min'];
  const seeds = (n: number): number => seedOverride ?? n;
  const problem = (made: TestProblem, n: number, score: BenchProblem['score']): BenchProblem => ({
    problem: made,
    seeds: seeds(n),
    score,
    trueHypervolume: score(made.trueFront(2000)),
  });
  return [
    { ...problem(zdt1(30), 30, raw([1.1, 1.1])), trueHypervolume: ZDT1_TRUE_HYPERVOLUME },
    problem(zdt2(30), 30, raw([1.1, 1.1])),
    problem(zdt3(30), 100, raw([1.1, 1.1])),
    // The front is the unit sphere's positive octant: the box minus the octant's volume π/6.
    { ...problem(dtlz2(3, 12), 30, raw([1.1, 1.1, 1.1])), trueHypervolume: 1.1 ** 3 - Math.PI / 6 },
    problem(osy(), 30, (front) => normalizedHypervolume(front, goals, OSY_BOUNDS)),
  ];
}

/** Final population's feasible first front of one imcnas run. */
function runImcnas(
  problem: TestProblem,
  tournament: TournamentScheme,
  seed: number,
  crossoverEta: number,
): number[][] {
  const optimizer = new Nsga2({
    genes: problem.genes,
    objectives: problem.objectives,
    populationSize: POPULATION,
    seed,
    tournament,
    crossoverEta,
  });
  runToBudget(optimizer, (genome) => problem.evaluate(genome), EVALUATIONS, POPULATION);
  return optimizer
    .population()
    .filter((member) => member.rank === 0 && member.constraintViolation === 0)
    .map((member) => member.objectives);
}

interface Pymoo {
  python: string;
  version: string;
}

/** The first Python that imports pymoo 0.6, or why none does. */
function findPymoo(): Pymoo | string {
  const candidates = [
    process.env.PYMOO_PYTHON,
    path.join(__dirname, 'peers', 'pymoo', '.venv', 'bin', 'python'),
    'python3',
  ].filter((candidate): candidate is string => Boolean(candidate));
  const tried: string[] = [];
  for (const python of candidates) {
    if (python.includes(path.sep) && !fs.existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import pymoo; print(pymoo.__version__)'], { encoding: 'utf8' });
    const version = probe.status === 0 ? probe.stdout.trim() : '';
    if (version.startsWith('0.6.')) return { python, version };
    tried.push(`${python}: ${version ? `pymoo ${version}` : 'no pymoo'}`);
  }
  return `pymoo 0.6 not found (${tried.join('; ') || 'no python'}); provision with: ${PROVISION}`;
}

/** Final first fronts of pymoo runs on seeds 1..seeds, from the peer's JSON lines. */
function runPymoo(pymoo: Pymoo, problem: TestProblem, seeds: number, etaC: number): number[][][] {
  const args = [PEER, '--problem', problem.name, '--seeds', '1', String(seeds)];
  args.push('--pop', String(POPULATION), '--evals', String(EVALUATIONS), '--eta-c', String(etaC));
  const child = spawnSync(pymoo.python, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (child.status !== 0) {
    throw new Error(`pymoo peer failed on ${problem.name} (exit ${child.status}): ${child.stderr}`);
  }
  const runs = child.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { seed: number; evaluations: number; front: number[][] });
  for (const run of runs) {
    if (run.evaluations !== EVALUATIONS) {
      throw new Error(`pymoo peer: ${problem.name} seed ${run.seed} ran ${run.evaluations} evaluations`);
    }
  }
  return runs.map((run) => run.front);
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
function std(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, values.length - 1));
}
const round = (value: number, digits = 6): number => Number(value.toFixed(digits));

export async function run(): Promise<BenchFigures> {
  const override = process.env.IMCNAS_NSGA2_SEEDS ? Number(process.env.IMCNAS_NSGA2_SEEDS) : undefined;
  if (override !== undefined && !(Number.isInteger(override) && override >= 1)) {
    throw new RangeError(
      `IMCNAS_NSGA2_SEEDS must be a positive integer, got ${process.env.IMCNAS_NSGA2_SEEDS}`,
    );
  }
  const etaC = process.env.IMCNAS_NSGA2_ETA_C ? Number(process.env.IMCNAS_NSGA2_ETA_C) : DEFAULT_ETA_C;
  if (!(etaC >= 0))
    throw new RangeError(`IMCNAS_NSGA2_ETA_C must be ≥ 0, got ${process.env.IMCNAS_NSGA2_ETA_C}`);
  const only = process.env.IMCNAS_NSGA2_PROBLEMS?.split(',').map((name) => name.trim());
  const selected = problems(override).filter(({ problem }) => !only || only.includes(problem.name));
  if (selected.length === 0)
    throw new RangeError(`IMCNAS_NSGA2_PROBLEMS names no problem: ${only?.join(',')}`);
  const pymoo = findPymoo();
  if (typeof pymoo === 'string') console.error(`[bench] nsga2: ${pymoo}`);
  const figures: BenchFigures = {
    population: POPULATION,
    evaluations: EVALUATIONS,
    pymoo_version: typeof pymoo === 'string' ? null : pymoo.version,
    pymoo_status: typeof pymoo === 'string' ? pymoo : 'ran',
    eta_c: etaC,
    problems: selected.map(({ problem }) => problem.name).join(','),
  };
  const seconds: Record<string, number> = { dom: 0, rank: 0, pymoo: 0 };
  for (const { problem, seeds, score, trueHypervolume } of selected) {
    const fronts: Record<string, number[][][]> = {};
    const timed = <T>(variant: string, work: () => T): T => {
      const started = Date.now();
      const result = work();
      seconds[variant] += (Date.now() - started) / 1000;
      return result;
    };
    const seedList = Array.from({ length: seeds }, (_, i) => i + 1);
    fronts.dom = timed('dom', () =>
      seedList.map((seed) => runImcnas(problem, 'dominance-crowding', seed, etaC)),
    );
    fronts.rank = timed('rank', () =>
      seedList.map((seed) => runImcnas(problem, 'rank-crowding', seed, etaC)),
    );
    if (typeof pymoo !== 'string') fronts.pymoo = timed('pymoo', () => runPymoo(pymoo, problem, seeds, etaC));
    figures[`${problem.name}_seeds`] = seeds;
    figures[`${problem.name}_true_hv`] = round(trueHypervolume);
    for (const [variant, runs] of Object.entries(fronts)) {
      const values = runs.map((front) => score(front));
      const prefix = `${problem.name}_${variant}`;
      figures[`${prefix}_hv_mean`] = round(mean(values));
      figures[`${prefix}_hv_median`] = round(median(values));
      figures[`${prefix}_hv_min`] = round(Math.min(...values));
      figures[`${prefix}_hv_std`] = round(std(values));
      if (problem.name === 'zdt3') {
        const reached = runs.map((front) => zdt3PiecesReached(front));
        figures[`${prefix}_missing_last_piece`] = reached.filter(
          (pieces) => !pieces[pieces.length - 1],
        ).length;
        figures[`${prefix}_missing_any_piece`] = reached.filter((pieces) => pieces.includes(false)).length;
      }
    }
    console.error(
      `[bench] nsga2: ${problem.name} (${seeds} seeds) hv mean ${Object.keys(fronts)
        .map((variant) => `${variant} ${figures[`${problem.name}_${variant}_hv_mean`]}`)
        .join(', ')}`,
    );
  }
  for (const [variant, value] of Object.entries(seconds)) figures[`wall_s_${variant}`] = round(value, 1);
  return figures;
}
