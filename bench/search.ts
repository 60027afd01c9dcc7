/**
 * `npm run bench -- search`: the search engine's figures.
 * - zdt1_hv: NSGA-II on ZDT1 (30 real variables, population 100 × 200 generations), hypervolume of the final
 *   population's first front w.r.t. (1.1, 1.1), mean over seeds (true front: 0.876667).
 * - hv_nsga2_mean / hv_random_mean: the real-objective comparison on the hardware problem of
 *   search/problems/hardwareProxy.ts (accuracy proxy × energy × area, latency budget) with the project's
 *   cost model (hardware/cost.ts; `hv_cost_model` names it),
 *   equal budgets, ten seeds, normalized hypervolume (energy and area on a log10 scale) with bounds from the
 *   problem's exact Pareto front found by enumeration, reference point 1.1 per objective. The hv_proxy_*
 *   figures are the same comparison with the stand-in cost model.
 * - proposals_per_s: optimizer throughput, proposals per second of time spent inside propose() and tell()
 *   (evaluation excluded), on ZDT1 and on the hardware genome.
 * - state_json_bytes_*: checkpoint sizes.
 */
import type { BenchFigures } from './run';
import { Nsga2 } from '../search/nsga2';
import { hypervolume, logScaleObjectives, boundsOf, normalizedHypervolume } from '../search/hypervolume';
import type { AskTellOptimizer, Evaluation, GeneSpec, Genome } from '../search/optimizer';
import { ZDT1_TRUE_HYPERVOLUME, zdt1 } from '../search/problems/zdt';
import { hardwareProblem } from '../search/problems/hardwareProxy';
import type { HardwareCostModel, HardwareProblem } from '../search/problems/hardwareProxy';
import { compareWithRandomSearch, exhaustiveParetoFront } from '../search/problems/comparison';
import type { ComparisonResult } from '../search/problems/comparison';
import { evaluateNetwork } from '../hardware/cost';
import { costMetrics } from '../search/evolution';

/** Runs to budget, timing only the optimizer's own work. */
function timedRun(
  optimizer: AskTellOptimizer,
  evaluate: (genome: Genome) => Evaluation,
  budget: number,
  batch: number,
): { proposals: number; optimizerSeconds: number } {
  let proposals = 0;
  let optimizerNs = 0n;
  while (optimizer.evaluations < budget) {
    let started = process.hrtime.bigint();
    const genomes = optimizer.propose(Math.min(batch, budget - optimizer.evaluations));
    optimizerNs += process.hrtime.bigint() - started;
    if (genomes.length === 0) break;
    proposals += genomes.length;
    const results = genomes.map((genome) => ({ genome, ...evaluate(genome) }));
    started = process.hrtime.bigint();
    optimizer.tell(results);
    optimizerNs += process.hrtime.bigint() - started;
  }
  return { proposals, optimizerSeconds: Number(optimizerNs) / 1e9 };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
function std(values: number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, values.length - 1));
}
const round = (value: number, digits = 5): number => Number(value.toFixed(digits));

/** NSGA-II vs random search on a hardware problem, normalized by its exact (enumerated) Pareto front. */
function compareOnHardware(
  problem: HardwareProblem,
  seeds: number[],
): ComparisonResult & { trueFrontHypervolume: number } {
  const goals = problem.objectives.map((objective) => objective.goal);
  const logScaled = [false, true, true];
  const trueFront = logScaleObjectives(
    exhaustiveParetoFront(problem).map((candidate) => candidate.objectives),
    logScaled,
  );
  const bounds = boundsOf(trueFront, goals);
  const result = compareWithRandomSearch(problem, {
    seeds,
    populationSize: 20,
    generations: 20,
    crossover: 'block',
    logScaled,
    bounds,
  });
  return { ...result, trueFrontHypervolume: normalizedHypervolume(trueFront, goals, bounds) };
}

/** The project's cost model (`evaluateNetwork` in hardware/cost.ts) as the problem's `HardwareCostModel`. */
const projectCostModel: HardwareCostModel = {
  evaluate: (layers, hardware) => costMetrics(evaluateNetwork(layers, hardware)),
};

export async function run(): Promise<BenchFigures> {
  // ZDT1 acceptance figure.
  const zdt = zdt1(30);
  const zdtSeeds = [1, 2, 3, 4, 5];
  const zdtValues: number[] = [];
  const zdtArchive: number[] = [];
  let zdtProposals = 0;
  let zdtSeconds = 0;
  let zdtStateBytes = 0;
  for (const seed of zdtSeeds) {
    const optimizer = new Nsga2({ genes: zdt.genes, objectives: zdt.objectives, populationSize: 100, seed });
    const timing = timedRun(optimizer, (genome) => zdt.evaluate(genome), 100 * 200, 100);
    zdtProposals += timing.proposals;
    zdtSeconds += timing.optimizerSeconds;
    const firstFront = optimizer
      .population()
      .filter((member) => member.rank === 0)
      .map((member) => member.objectives);
    zdtValues.push(hypervolume(firstFront, [1.1, 1.1]));
    zdtArchive.push(
      hypervolume(
        optimizer.paretoFront().map((candidate) => candidate.objectives),
        [1.1, 1.1],
      ),
    );
    zdtStateBytes = JSON.stringify(optimizer.toJSON()).length;
  }

  // The real-objective comparison, normalized by the exact front: with the project's cost model, and with
  // the stand-in proxy.
  const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
  const proxy = compareOnHardware(hardwareProblem(), seeds);
  const primary = compareOnHardware(hardwareProblem({ costModel: projectCostModel }), seeds);
  const problem = hardwareProblem();

  // Optimizer throughput on the hardware genome, and its checkpoint size.
  const hardwareOptimizer = new Nsga2(
    {
      genes: problem.genes,
      objectives: problem.objectives,
      populationSize: 50,
      seed: 1,
      blocks: problem.blocks,
      crossover: 'block',
    },
    { repair: problem.repair },
  );
  const hardwareTiming = timedRun(hardwareOptimizer, (genome) => problem.evaluate(genome), 50 * 40, 50);

  // Checkpoint size of a realistic joint genome: 40 categorical genes, population 100 × 50 generations.
  const jointGenes: GeneSpec[] = Array.from({ length: 40 }, (_, i) => ({
    kind: 'categorical',
    cardinality: 2 + (i % 7),
  }));
  const joint = new Nsga2({
    genes: jointGenes,
    objectives: [
      { name: 'accuracy', goal: 'max' },
      { name: 'edap', goal: 'min' },
    ],
    populationSize: 100,
    seed: 1,
  });
  const jointTiming = timedRun(
    joint,
    (genome) => {
      const total = genome.reduce((a, b) => a + b, 0);
      return {
        objectives: [total / 160 + genome[0] * 0.013, 1e-9 * (1 + total) * (1 + genome[1] + genome[2])],
        constraintViolation: 0,
      };
    },
    100 * 50,
    100,
  );

  return {
    zdt1_hv: round(mean(zdtValues)),
    zdt1_hv_min: round(Math.min(...zdtValues)),
    zdt1_hv_std: round(std(zdtValues)),
    zdt1_hv_archive: round(mean(zdtArchive)),
    zdt1_true_hv: round(ZDT1_TRUE_HYPERVOLUME),
    zdt1_seeds: zdtSeeds.length,
    zdt1_evaluations: 100 * 200,
    hv_cost_model: 'hardware/cost.ts evaluateNetwork',
    hv_nsga2_mean: round(primary.nsga2Mean),
    hv_nsga2_std: round(primary.nsga2Std),
    hv_random_mean: round(primary.randomMean),
    hv_random_std: round(primary.randomStd),
    hv_true_front: round(primary.trueFrontHypervolume),
    hv_nsga2_wins: primary.nsga2Wins,
    hv_seeds: seeds.length,
    hv_budget: primary.budget,
    hv_problem:
      'VGG-like on hardware genes: accuracy proxy (max), energy (min, log10), area (min, log10); latency <= 200 us; pop 20 x 20 gen',
    hv_proxy_nsga2_mean: round(proxy.nsga2Mean),
    hv_proxy_nsga2_std: round(proxy.nsga2Std),
    hv_proxy_random_mean: round(proxy.randomMean),
    hv_proxy_random_std: round(proxy.randomStd),
    hv_proxy_true_front: round(proxy.trueFrontHypervolume),
    hv_proxy_nsga2_wins: proxy.nsga2Wins,
    proposals_per_s: Math.round(zdtProposals / zdtSeconds),
    proposals_per_s_hardware: Math.round(hardwareTiming.proposals / hardwareTiming.optimizerSeconds),
    proposals_per_s_joint40: Math.round(jointTiming.proposals / jointTiming.optimizerSeconds),
    state_json_bytes_joint40_pop100_gen50: JSON.stringify(joint.toJSON()).length,
    state_json_bytes_zdt1_20000: zdtStateBytes,
  };
}
