/**
 * `npm run bench -- scaling`: how stage 2's candidate evaluation scales with processes on one machine
 * (issue #16: "candidates/s with 1 and 2 evaluation worker processes on one search").
 *
 * What runs: examples/quick.yaml's space and evaluation settings; a supernet trained once as stage 1 runs
 * it (tasks/supernetTraining.ts; IMCNAS_BENCH_SCALING_TRAIN_IMAGES, default 2,000 images, 1 epoch: the
 * cost of evaluating a candidate does not depend on how well the supernet is trained); one generation of
 * IMCNAS_BENCH_SCALING_CANDIDATES (default 16) candidates proposed by the search (generation 0); then that
 * same set evaluated as a worker evaluates it — tasks/candidateEvaluation.ts in child processes, the set
 * split into chunks of candidatesPerActivity — with 1 and with 2 child processes at once (what a worker's
 * `--evaluation-slots 1` and `2`, or one and two single-slot worker processes, run), each into a fresh
 * directory, alternately 1, 2, 2, 1 so that a drift in the machine's load falls on both sides alike.
 *
 * Figures: `candidates_per_s_1_process`, `candidates_per_s_2_processes` (each the total over its two
 * rounds), `scaling_2_workers` (their ratio; 2 is perfect on 2 cores), `results_identical` (every round
 * gave every candidate the same metrics: evaluation is deterministic whatever runs beside it), and the
 * stage-1 figure `supernet_img_s_1_process`. Supernet training in two processes (data-parallel, gradient
 * averaging) is not built: there is no 2-process supernet figure.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { proposeGeneration } from '../activities/evolution';
import type { CandidateResult, ProposedCandidate } from '../contracts';
import { loadConfigFile, validateConfig } from '../config/load';
import type { CandidateEvaluationRequest } from '../tasks/candidateEvaluation';
import * as supernetTraining from '../tasks/supernetTraining';
import { supernetDir } from '../tasks/shared';
import { runInChild } from '../tensor/childProcess';
import { positiveIntegerFromEnv } from './supernet';
import type { BenchFigures } from './run';

const TASK = path.join(__dirname, '..', 'tasks', `candidateEvaluation${path.extname(__filename)}`);

/** Evaluates `candidates` in chunks with `processes` child processes at once; the results in order. */
async function evaluate(
  candidates: ProposedCandidate[],
  chunkSize: number,
  processes: number,
  request: Omit<CandidateEvaluationRequest, 'candidates' | 'dir'>,
  dir: string,
): Promise<{ seconds: number; results: CandidateResult[] }> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const chunks: ProposedCandidate[][] = [];
  for (let i = 0; i < candidates.length; i += chunkSize) chunks.push(candidates.slice(i, i + chunkSize));
  const results: CandidateResult[][] = new Array(chunks.length);
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < chunks.length) {
      const index = next++;
      results[index] = await runInChild<CandidateEvaluationRequest, CandidateResult[]>({
        modulePath: TASK,
        request: { ...request, dir, candidates: chunks[index]! },
      });
    }
  };
  await Promise.all(Array.from({ length: processes }, worker));
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, results: results.flat() };
}

export async function run(): Promise<BenchFigures> {
  const quick = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const candidates = positiveIntegerFromEnv('IMCNAS_BENCH_SCALING_CANDIDATES', 16);
  const trainImages = positiveIntegerFromEnv('IMCNAS_BENCH_SCALING_TRAIN_IMAGES', 2000);
  const config = validateConfig({
    ...quick,
    dataset: { ...quick.dataset, trainSubset: trainImages },
    supernet: { ...quick.supernet, epochs: 1 },
    evolution: { ...quick.evolution, population: candidates },
  });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-bench-scaling-'));
  try {
    const trained = path.join(root, 'trained');
    const trainStarted = process.hrtime.bigint();
    await supernetTraining.run(
      { dir: supernetDir(trained), config, untilEpoch: 1, attempt: 1 },
      { report: () => undefined },
    );
    const trainSeconds = Number(process.hrtime.bigint() - trainStarted) / 1e9;

    const runDir = path.join(root, 'search');
    await fs.mkdir(runDir, { recursive: true });
    const proposal = await proposeGeneration({ runDir, generation: 0, config });
    // Chunks small enough that two processes always have work: at least four per set.
    const chunkSize = Math.max(
      1,
      Math.min(config.evolution.candidatesPerActivity, Math.floor(candidates / 4)),
    );
    const request = { runDir: trained, generation: 0, config };
    const seconds: Record<1 | 2, number> = { 1: 0, 2: 0 };
    const outcomes: string[] = [];
    for (const [round, processes] of ([1, 2, 2, 1] as const).entries()) {
      const outcome = await evaluate(
        proposal.candidates,
        chunkSize,
        processes,
        request,
        path.join(root, `evaluations-${round}`),
      );
      seconds[processes] += outcome.seconds;
      outcomes.push(JSON.stringify(outcome.results));
      console.error(
        `[scaling] round ${round + 1}: ${proposal.candidates.length} candidates, ${processes} process(es), ${outcome.seconds.toFixed(1)} s`,
      );
    }
    const perSecond = (processes: 1 | 2) => (2 * proposal.candidates.length) / seconds[processes];
    return {
      candidates_per_s_1_process: Number(perSecond(1).toPrecision(4)),
      candidates_per_s_2_processes: Number(perSecond(2).toPrecision(4)),
      scaling_2_workers: Number((perSecond(2) / perSecond(1)).toPrecision(3)),
      results_identical: outcomes.every((outcome) => outcome === outcomes[0]),
      candidates: proposal.candidates.length,
      candidates_per_process_call: chunkSize,
      supernet_img_s_1_process: Number((trainImages / trainSeconds).toPrecision(4)),
      supernet_img_s_2_processes: null,
      supernet_train_images: trainImages,
      cpus: os.cpus().length,
      load_average_at_end: Number(os.loadavg()[0]!.toFixed(2)),
    };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
