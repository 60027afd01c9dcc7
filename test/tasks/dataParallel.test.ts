/**
 * Data-parallel training steps on real processes and real Fashion-MNIST images: a stage-1 chunk with two
 * gradient shards gives bit-identical checkpoints whether one process or two compute the shards (also
 * across a resume, where the peer loads the leader's checkpoint), and a peer dies with its leader.
 */
import { existsSync, promises as fs, readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { validateConfig } from '../../config/load';
import { readCheckpoint } from '../../storage/checkpoints';
import { Supernet } from '../../models/supernet';
import { SupernetTrainer } from '../../models/supernetTrainer';
import { replicaChecksum, shardsOfProcess, trainingProcesses } from '../../tasks/dataParallel';
import { initTensorEngine } from '../../tensor/backend';
import { tinySpace } from '../models/supernetSupport';
import { run as trainTask, type TrainingRequest } from '../../tasks/supernetTraining';
import { runInChild } from '../../tensor/childProcess';

jest.setTimeout(600_000);

function configWith(processes: number, gradientShards = 2) {
  return validateConfig({
    name: 'data-parallel',
    seed: 4,
    dataset: { trainSubset: 1200, validation: 200 },
    space: {
      network: {
        stem: { channels: 8, stride: 2 },
        stages: [
          { blocks: 1, widths: [8, 12], stride: 2 },
          { blocks: 1, widths: [12, 16], stride: 2 },
        ],
        operators: ['conv3', 'dwsep3', 'mbconv3_e3', 'skip'],
      },
    },
    supernet: {
      epochs: 2,
      batchSize: 16,
      stepsPerEpoch: 3,
      checkpointEverySteps: 2,
      largestPathShare: 0.5,
      gradientShards,
      processes,
    },
    evolution: { bnRecalBatches: 1, validationImages: 100 },
  });
}

let workDir: string;
beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-data-parallel-'));
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

const quiet = { report: () => undefined };

async function tensorsOf(checkpoint: string): Promise<Record<string, number[]>> {
  const { tensors } = await readCheckpoint(checkpoint);
  return Object.fromEntries([...tensors].map(([name, t]) => [name, Array.from(t.data)]));
}

describe('data-parallel supernet training', () => {
  it('splits shards over processes, the leader first, and defaults to one process per retrained design', () => {
    expect(shardsOfProcess(0, 2, 4)).toEqual([0, 1]);
    expect(shardsOfProcess(1, 2, 4)).toEqual([2, 3]);
    expect(shardsOfProcess(0, 2, 3)).toEqual([0, 1]);
    expect(shardsOfProcess(1, 2, 3)).toEqual([2]);
    expect(trainingProcesses({ gradientShards: 4 }, false, 2)).toBe(2);
    expect(trainingProcesses({ gradientShards: 4 }, true, 2)).toBe(1);
    expect(trainingProcesses({ gradientShards: 4, processes: 'auto' }, true, 8)).toBe(4);
    expect(trainingProcesses({}, false, 2)).toBe(1);
  });

  it('checksums what replicas must share: weights and ranges, not the recalibrated running statistics', async () => {
    await initTensorEngine();
    const trainer = new SupernetTrainer(new Supernet(tinySpace(), { seed: 2 }), {
      peak: 0.1,
      totalSteps: 1,
      warmupSteps: 1,
      final: 0,
    });
    const variables = trainer.supernet.variables;
    const before = replicaChecksum(trainer);
    const runningMean = [...variables].find(([name]) => name.includes('/bn/running_mean'))![1];
    tf.tidy(() => runningMean.assign(tf.add(runningMean, 1)));
    expect(replicaChecksum(trainer)).toBe(before);
    const range = [...variables].find(([name]) => name.endsWith('/input_range'))![1];
    tf.tidy(() => range.assign(tf.add(range, 0.5)));
    expect(replicaChecksum(trainer)).not.toBe(before);
    trainer.dispose();
    trainer.supernet.dispose();
  });

  it('gives bit-identical checkpoints with one process and with two, across a resume', async () => {
    const one = path.join(workDir, 'one');
    const single = await trainTask({ dir: one, config: configWith(1), untilEpoch: 2, attempt: 1 }, quiet);

    const two = path.join(workDir, 'two');
    const request: TrainingRequest = { dir: two, config: configWith(2), untilEpoch: 1, attempt: 1 };
    const first = await trainTask(request, quiet);
    expect(first.globalStep).toBe(3);
    // The second chunk resumes from the first one's checkpoint, in the leader and in the peer.
    const parallel = await trainTask({ ...request, untilEpoch: 2 }, quiet);
    expect(parallel.resumedFromStep).toBe(3);
    expect(parallel.globalStep).toBe(single.globalStep);
    expect(parallel.lastLoss).toBe(single.lastLoss);
    expect(parallel.validationAccuracy).toBe(single.validationAccuracy);
    expect(await tensorsOf(parallel.checkpoint)).toEqual(await tensorsOf(single.checkpoint));
  });

  it("forwards the other peers' shards with three processes (4 shards: 2 + 1 + 1)", async () => {
    const request = (dir: string, processes: number): TrainingRequest => ({
      dir: path.join(workDir, dir),
      config: configWith(processes, 4),
      untilEpoch: 1,
      attempt: 1,
    });
    const single = await trainTask(request('four-one', 1), quiet);
    const three = await trainTask(request('four-three', 3), quiet);
    expect(three.lastLoss).toBe(single.lastLoss);
    expect(await tensorsOf(three.checkpoint)).toEqual(await tensorsOf(single.checkpoint));
  });

  it('retrains a design (fixed path, device noise) identically on one process and on two', async () => {
    const retrainConfig = (processes: number) =>
      validateConfig({
        ...configWith(1),
        retrain: { epochs: 1, batchSize: 16, trainImages: 1200, gradientShards: 2, processes },
        baseline: {
          networks: [
            {
              name: 'tiny',
              stem: { channels: 8, stride: 2 },
              stages: [{ blocks: 1, channels: 8, stride: 2 }],
            },
          ],
        },
      });
    const details: Array<Record<string, unknown> | undefined> = [];
    const retrain = (dir: string, processes: number) =>
      trainTask(
        {
          dir: path.join(workDir, dir),
          config: retrainConfig(processes),
          untilEpoch: 1,
          attempt: 1,
          baseline: 'tiny',
        },
        { report: (progress) => progress.details && details.push(progress.details) },
      );
    const single = await retrain('retrain-one', 1);
    const two = await retrain('retrain-two', 2);
    // The epoch-end report of the 2-process chunk says a peer took part in every step.
    expect(details.at(-1)?.dataParallel).toMatchObject({ processes: 2, steps: two.stepsRun });
    expect(details[0]?.dataParallel).toBeUndefined();
    expect(two.stepsRun).toBeGreaterThan(0);
    expect(two.lastLoss).toBe(single.lastLoss);
    expect(await tensorsOf(two.checkpoint)).toEqual(await tensorsOf(single.checkpoint));
  });

  it('a peer exits when its leader is killed with -9', async () => {
    let leaderPid = 0;
    let peers: number[] = [];
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const pending = runInChild({
      modulePath: path.join(__dirname, '..', '..', 'tasks', 'supernetTraining.ts'),
      request: {
        dir: path.join(workDir, 'killed'),
        config: configWith(2),
        untilEpoch: 2,
        attempt: 1,
      } satisfies TrainingRequest,
      onSpawn: (child) => (leaderPid = child.pid!),
      onProgress: (progress) => {
        if (progress.step < 1 || peers.length) return;
        // The leader's children (Linux): the peer it forked.
        const children = readFileSync(`/proc/${leaderPid}/task/${leaderPid}/children`, 'utf8').trim();
        peers = children ? children.split(/\s+/).map(Number) : [];
        process.kill(leaderPid, 'SIGKILL');
      },
    });
    await expect(pending).rejects.toThrow();
    expect(peers).toHaveLength(1);
    // No time limit asserted: the peer must go on its own (jest's timeout is the bound).
    while (peers.some(alive)) await new Promise((resolve) => setTimeout(resolve, 50));
    // The orphaned peer removed the shard files' directory its killed leader could not.
    if (existsSync('/dev/shm'))
      expect(readdirSync('/dev/shm').filter((name) => name.startsWith('imcnas-data-parallel-'))).toEqual([]);
  });
});
