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
 * stage-1 figure `supernet_train_img_s` (the whole 1-epoch chunk above, unsharded, in this process).
 *
 * Stage 1 on both cores (tasks/dataParallel.ts): quick.yaml's space, batch size and training settings with
 * supernet.gradientShards 2, one chunk of IMCNAS_BENCH_SCALING_SUPERNET_STEPS steps (default 40) with 1
 * and with 2 processes, and the unsharded step in 1 process, alternately (1 shard, 2 shards × 1 process,
 * 2 × 2, 2 × 2, 2 × 1, 1 shard). Throughput is timed between the progress reports of the chunk's second
 * and its second-to-last step: steps only, without process start-up, data loading, the epoch-end
 * validation or checkpoint (`supernet_chunk_s_*` include all of it). Figures: `supernet_img_s_1_process`,
 * `supernet_img_s_2_processes` (both at 2 shards), `supernet_scaling_2` (their ratio),
 * `supernet_step_ms_*` per step, `supernet_ghost_batch_cost` (2 shards ÷ 1 shard in one process: what
 * the smaller micro-batches cost), `supernet_weights_identical` (every 2-shard round wrote the same
 * checkpoint tensors, bit for bit), and where the 2-process leader's step goes: `supernet_leader_ms_compute`
 * (its own shard), `_wait` (for the peer's shard beyond that), `_apply` (exchange and update), and
 * `supernet_peer_ms_compute` (the peer's update, batch and shard). `supernet_cpu_ms_*` are CPU times per
 * step, and `supernet_idle_projection_scaling_2` what they project for an idle machine (labelled as such:
 * on a machine other jobs load, the wall-clock figures above are what it gave).
 *
 * IMCNAS_BENCH_SCALING_PART=supernet runs only the supernet part (about 3 minutes instead of about 6) and
 * keeps the candidate figures of the previous bench/results/scaling.json (`candidate_figures_date` says
 * from when); =candidates only the candidate part likewise; unset runs both.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { proposeGeneration } from '../activities/evolution';
import type { CandidateResult, ProposedCandidate } from '../contracts';
import { loadConfigFile, validateConfig } from '../config/load';
import type { RunConfig } from '../config/schema';
import { readCheckpoint } from '../storage/checkpoints';
import type { CandidateEvaluationRequest } from '../tasks/candidateEvaluation';
import * as supernetTraining from '../tasks/supernetTraining';
import type { DataParallelTimings } from '../tasks/dataParallel';
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

type SupernetRound = { shards: 1 | 2; processes: 1 | 2 };

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** One stage-1 chunk of `steps` steps; seconds between the 2nd and the (steps−1)th step reports. */
async function supernetRound(
  config: RunConfig,
  round: SupernetRound,
  dir: string,
): Promise<{
  stepSeconds: number;
  timedSteps: number;
  /** CPU time of this process over the timed steps (the only process of a 1-process round). */
  cpuSeconds: number;
  chunkSeconds: number;
  tensors: string;
  dataParallel: DataParallelTimings | undefined;
}> {
  const configured = validateConfig({
    ...config,
    supernet: { ...config.supernet, gradientShards: round.shards, processes: round.processes },
  });
  const steps = configured.supernet.stepsPerEpoch!;
  const reportedAt = new Map<number, bigint>();
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let cpuSeconds = 0;
  let dataParallel: DataParallelTimings | undefined;
  const started = process.hrtime.bigint();
  const result = await supernetTraining.run(
    { dir, config: configured, untilEpoch: 1, attempt: 1 },
    {
      report: (progress) => {
        if (!reportedAt.has(progress.step)) reportedAt.set(progress.step, process.hrtime.bigint());
        if (progress.step === 2) cpuAtFirst = process.cpuUsage();
        if (progress.step === steps - 1 && cpuAtFirst) cpuSeconds = cpuSecondsSince(cpuAtFirst);
        const timings = progress.details?.dataParallel as DataParallelTimings | undefined;
        if (timings) dataParallel = timings;
      },
    },
  );
  const chunkSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const first = reportedAt.get(2)!;
  const last = reportedAt.get(steps - 1)!;
  const { tensors } = await readCheckpoint(result.checkpoint);
  const digest = createHash('sha256');
  for (const [name, tensor] of tensors) {
    if (name.includes('/bn/running_')) continue;
    digest
      .update(name)
      .update(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  }
  return {
    stepSeconds: Number(last - first) / 1e9,
    timedSteps: steps - 3,
    cpuSeconds,
    chunkSeconds,
    tensors: digest.digest('hex'),
    dataParallel,
  };
}

/** Stage 1 with 1 and 2 processes at 2 gradient shards, and unsharded (see the file comment). */
async function supernetPart(quick: RunConfig, root: string): Promise<BenchFigures> {
  const steps = positiveIntegerFromEnv('IMCNAS_BENCH_SCALING_SUPERNET_STEPS', 40);
  if (steps < 4) throw new RangeError('IMCNAS_BENCH_SCALING_SUPERNET_STEPS must be at least 4');
  const config = validateConfig({
    ...quick,
    supernet: { ...quick.supernet, epochs: 1, stepsPerEpoch: steps, checkpointEverySteps: 10_000 },
  });
  const batch = config.supernet.batchSize;
  const order: SupernetRound[] = [
    { shards: 1, processes: 1 },
    { shards: 2, processes: 1 },
    { shards: 2, processes: 2 },
    { shards: 2, processes: 2 },
    { shards: 2, processes: 1 },
    { shards: 1, processes: 1 },
  ];
  const totals = new Map<string, { seconds: number; steps: number; chunk: number; cpu: number }>();
  const digests: string[] = [];
  const leader = { steps: 0, compute: 0, wait: 0, apply: 0, peer: 0, leaderCpu: 0, peerCpu: 0 };
  for (const [index, round] of order.entries()) {
    const outcome = await supernetRound(config, round, path.join(root, `supernet-${index}`));
    const key = `${round.shards}x${round.processes}`;
    const total = totals.get(key) ?? { seconds: 0, steps: 0, chunk: 0, cpu: 0 };
    totals.set(key, {
      cpu: total.cpu + outcome.cpuSeconds,
      seconds: total.seconds + outcome.stepSeconds,
      steps: total.steps + outcome.timedSteps,
      chunk: total.chunk + outcome.chunkSeconds,
    });
    if (round.shards === 2) digests.push(outcome.tensors);
    if (outcome.dataParallel) {
      const {
        steps: n,
        computeSeconds,
        waitSeconds,
        applySeconds,
        peerComputeSeconds,
      } = outcome.dataParallel;
      leader.peer += peerComputeSeconds;
      leader.leaderCpu += outcome.dataParallel.leaderCpuSeconds;
      leader.peerCpu += outcome.dataParallel.peerCpuSeconds;
      leader.steps += n;
      leader.compute += computeSeconds;
      leader.wait += waitSeconds;
      leader.apply += applySeconds;
    }
    console.error(
      `[scaling] supernet round ${index + 1}: ${round.shards} shard(s), ${round.processes} process(es), ${((1000 * outcome.stepSeconds) / outcome.timedSteps).toFixed(0)} ms/step, chunk ${outcome.chunkSeconds.toFixed(1)} s`,
    );
  }
  const cpuMs = (key: string) => (1000 * totals.get(key)!.cpu) / totals.get(key)!.steps;
  const leaderCpuMs = (1000 * leader.leaderCpu) / leader.steps;
  const peerCpuMs = (1000 * leader.peerCpu) / leader.steps;
  const stepMs = (key: string) => (1000 * totals.get(key)!.seconds) / totals.get(key)!.steps;
  const imagesPerSecond = (key: string) => (1000 * batch) / stepMs(key);
  const chunkSeconds = (key: string) => totals.get(key)!.chunk / 2;
  return {
    supernet_img_s_1_process: Number(imagesPerSecond('2x1').toPrecision(4)),
    supernet_img_s_2_processes: Number(imagesPerSecond('2x2').toPrecision(4)),
    supernet_scaling_2: Number((imagesPerSecond('2x2') / imagesPerSecond('2x1')).toPrecision(3)),
    supernet_img_s_unsharded: Number(imagesPerSecond('1x1').toPrecision(4)),
    supernet_step_ms_1_shard: Number(stepMs('1x1').toPrecision(4)),
    supernet_step_ms_2_shards_1_process: Number(stepMs('2x1').toPrecision(4)),
    supernet_step_ms_2_shards_2_processes: Number(stepMs('2x2').toPrecision(4)),
    supernet_ghost_batch_cost: Number((stepMs('2x1') / stepMs('1x1')).toPrecision(3)),
    supernet_speedup_vs_unsharded: Number((stepMs('1x1') / stepMs('2x2')).toPrecision(3)),
    supernet_chunk_s_1_shard: Number(chunkSeconds('1x1').toFixed(2)),
    supernet_chunk_s_2_shards_1_process: Number(chunkSeconds('2x1').toFixed(2)),
    supernet_chunk_s_2_shards_2_processes: Number(chunkSeconds('2x2').toFixed(2)),
    supernet_weights_identical: digests.every((digest) => digest === digests[0]),
    // The 2-process leader's step: its own shard, waiting for the peer's, exchanging and applying.
    supernet_leader_ms_compute: Number(((1000 * leader.compute) / leader.steps).toPrecision(4)),
    supernet_leader_ms_wait: Number(((1000 * leader.wait) / leader.steps).toPrecision(4)),
    supernet_leader_ms_apply: Number(((1000 * leader.apply) / leader.steps).toPrecision(4)),
    supernet_peer_ms_compute: Number(((1000 * leader.peer) / leader.steps).toPrecision(4)),
    // CPU time per step, which the machine's other load changes far less than wall time: one process
    // at 1 and 2 shards, and the 2-process leader's and peer's. On an idle machine a 2-process step
    // takes about the larger of the two: the projection below (not a wall-clock measurement).
    supernet_cpu_ms_1_shard: Number(cpuMs('1x1').toPrecision(4)),
    supernet_cpu_ms_2_shards_1_process: Number(cpuMs('2x1').toPrecision(4)),
    supernet_cpu_ms_2_processes_leader: Number(leaderCpuMs.toPrecision(4)),
    supernet_cpu_ms_2_processes_peer: Number(peerCpuMs.toPrecision(4)),
    supernet_idle_projection_scaling_2: Number(
      (cpuMs('2x1') / Math.max(leaderCpuMs, peerCpuMs)).toPrecision(3),
    ),
    supernet_steps_per_round: steps,
    supernet_batch_size: batch,
  };
}

export async function run(): Promise<BenchFigures> {
  const part = process.env.IMCNAS_BENCH_SCALING_PART ?? 'all';
  if (!['all', 'supernet', 'candidates'].includes(part))
    throw new RangeError(
      `IMCNAS_BENCH_SCALING_PART must be supernet, candidates or unset (both), got ${JSON.stringify(part)}`,
    );
  const quick = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-bench-scaling-'));
  try {
    const previous = await readPrevious();
    const candidates =
      part === 'supernet' ? previous.candidates : await candidatePart(quick, path.join(root, 'c'));
    const supernet = part === 'candidates' ? previous.supernet : await supernetPart(quick, root);
    return {
      ...candidates,
      ...supernet,
      ...(part === 'all' ? {} : { part_run: part, other_part_date: previous.date }),
      cpus: os.cpus().length,
      load_average_at_end: Number(os.loadavg()[0]!.toFixed(2)),
    };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** The figures of the last bench/results/scaling.json, split by part (to keep the part not rerun). */
async function readPrevious(): Promise<{
  candidates: BenchFigures;
  supernet: BenchFigures;
  date: string | null;
}> {
  const file = path.join(__dirname, 'results', 'scaling.json');
  const saved = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  const candidates: BenchFigures = {};
  const supernet: BenchFigures = {};
  for (const [key, value] of Object.entries(saved)) {
    if (
      [
        'machine',
        'date',
        'bench_wall_s',
        'cpus',
        'load_average_at_end',
        'part_run',
        'other_part_date',
      ].includes(key)
    )
      continue;
    const target =
      key.startsWith('supernet_') && key !== 'supernet_train_img_s' && key !== 'supernet_train_images'
        ? supernet
        : candidates;
    target[key] = value as BenchFigures[string];
  }
  return { candidates, supernet, date: typeof saved.date === 'string' ? saved.date : null };
}

async function candidatePart(quick: RunConfig, root: string): Promise<BenchFigures> {
  const candidates = positiveIntegerFromEnv('IMCNAS_BENCH_SCALING_CANDIDATES', 16);
  const trainImages = positiveIntegerFromEnv('IMCNAS_BENCH_SCALING_TRAIN_IMAGES', 2000);
  await fs.mkdir(root, { recursive: true });
  const config = validateConfig({
    ...quick,
    dataset: { ...quick.dataset, trainSubset: trainImages },
    supernet: { ...quick.supernet, epochs: 1 },
    evolution: { ...quick.evolution, population: candidates },
  });
  {
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
      supernet_train_img_s: Number((trainImages / trainSeconds).toPrecision(4)),
      supernet_train_images: trainImages,
    };
  }
}
