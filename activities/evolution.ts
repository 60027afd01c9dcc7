/**
 * Stage 2 bookkeeping on the orchestration queue: propose a generation, then tell it its results. The
 * optimizer's state lives in the run directory (search/), never in workflow history; each step is
 * idempotent, so a retried or replayed activity returns what the first one stored.
 */
import { generationDir, generationFiles, generationLabel, optimizerStateFile } from '../storage/runLayout';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';
import { timeStage } from '../storage/stageTiming';
import {
  createOptimizer,
  judge,
  restoreOptimizer,
  saveOptimizer,
  type CandidateMetrics,
  type OptimizerState,
} from '../search/evolution';
import { isAccuracyMetric } from '../search/optimizer';
import { decode } from '../search/space/codec';
import { genomeKey } from '../search/space/keys';
import { resolveSearchSpace } from '../search/space/parse';
import { describeDesign } from '../search/describe';
import type { RunConfig } from '../config/schema';
import type { GenerationSummary, ProposeInput, ProposedGeneration, TellInput } from '../contracts';

interface StoredProposal extends ProposedGeneration {
  state: OptimizerState;
}

function space(config: RunConfig) {
  return resolveSearchSpace(config.space);
}

export async function proposeGeneration(input: ProposeInput): Promise<ProposedGeneration> {
  const file = generationFiles(generationDir(input.runDir, input.generation)).proposal;
  const stored = await readJsonIfExists<StoredProposal>(file);
  if (stored) return { generation: stored.generation, candidates: stored.candidates };
  return timeStage(input.runDir, 'evolution', `${generationLabel(input.generation)}-propose`, () =>
    propose(input, file),
  );
}

async function propose(input: ProposeInput, file: string): Promise<ProposedGeneration> {
  const searchSpace = space(input.config);
  let optimizer;
  if (input.generation === 0) {
    // A search compared against hand-designed baselines also starts from their chip.
    const baseline = input.config.baseline;
    optimizer = createOptimizer(
      searchSpace,
      input.config.objectives,
      input.config.evolution,
      input.config.seed,
      undefined,
      baseline && baseline.networks.length > 0 ? [baseline.chip] : [],
    );
  } else {
    const previous = await readJsonIfExists<OptimizerState>(
      optimizerStateFile(input.runDir, input.generation - 1),
    );
    if (!previous)
      throw new Error(`generation ${input.generation - 1} has no stored optimizer state; tell it first`);
    optimizer = restoreOptimizer(searchSpace, previous);
  }
  const genomes = optimizer.propose(input.config.evolution.population);
  const proposal: StoredProposal = {
    generation: input.generation,
    candidates: genomes.map((genome) => ({ key: genomeKey(genome), genome })),
    state: saveOptimizer(optimizer),
  };
  await writeJsonAtomic(file, proposal);
  return { generation: proposal.generation, candidates: proposal.candidates };
}

export async function tellGeneration(input: TellInput): Promise<GenerationSummary> {
  const summaryFile = generationFiles(generationDir(input.runDir, input.generation)).summary;
  const stored = await readJsonIfExists<GenerationSummary>(summaryFile);
  if (stored) return stored;
  return timeStage(input.runDir, 'evolution', `${generationLabel(input.generation)}-tell`, () =>
    tell(input, summaryFile),
  );
}

async function tell(input: TellInput, summaryFile: string): Promise<GenerationSummary> {
  const proposal = await readJsonIfExists<StoredProposal>(
    generationFiles(generationDir(input.runDir, input.generation)).proposal,
  );
  if (!proposal) throw new Error(`generation ${input.generation} was never proposed`);
  const { config } = input;
  const searchSpace = space(config);
  const optimizer = restoreOptimizer(searchSpace, proposal.state);
  const byKey = new Map(input.results.map((result) => [result.key, result.metrics]));
  optimizer.tell(
    proposal.candidates.map(({ key, genome }) => {
      const metrics = byKey.get(key);
      // A candidate whose evaluation failed for good is told back infeasible, so it is never re-proposed.
      if (!metrics) return { genome, objectives: config.objectives.map(() => NaN), constraintViolation: 1e6 };
      return { genome, ...judge(metrics, config.objectives, config.constraints) };
    }),
  );
  const front = optimizer.paretoFront().map((candidate) => ({
    key: genomeKey(candidate.genome),
    genome: candidate.genome,
    objectives: candidate.objectives,
    description: describeDesign(decode(searchSpace, candidate.genome)),
  }));
  // The digital accuracy when it is an objective, else the first accuracy the search optimizes (e.g. the
  // demo's chipAccuracy), so progress and the ImcnasBestAccuracy attribute are not left empty.
  const digitalIndex = config.objectives.findIndex((objective) => objective.metric === 'accuracy');
  const accuracyIndex =
    digitalIndex >= 0
      ? digitalIndex
      : config.objectives.findIndex((objective) => isAccuracyMetric(objective.metric));
  const edapIndex = config.objectives.findIndex((objective) => objective.metric === 'edap');
  const best = (index: number, pick: (values: number[]) => number) =>
    index < 0 || front.length === 0 ? null : pick(front.map((candidate) => candidate.objectives[index]));
  const summary: GenerationSummary = {
    generation: input.generation,
    evaluations: optimizer.evaluations,
    failed: proposal.candidates.filter(({ key }) => !byKey.has(key)).length,
    front,
    bestAccuracy: best(accuracyIndex, (values) => Math.max(...values)),
    bestEdap: best(edapIndex, (values) => Math.min(...values)),
  };
  await writeJsonAtomic(optimizerStateFile(input.runDir, input.generation), saveOptimizer(optimizer));
  await writeJsonAtomic(summaryFile, summary);
  return summary;
}

export type { CandidateMetrics };
