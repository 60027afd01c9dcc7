/**
 * Entry point of a data-parallel peer (tasks/dataParallel.ts): builds the leader's replica, then every
 * step computes its gradient shards, sends them, applies the step's shards the leader sends back, and
 * exits after the chunk's last step. It holds no checkpoint of its own: the leader writes them.
 */
import { rmSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { readCheckpoint } from '../storage/checkpoints';
import type { SupernetTrainerState } from '../models/supernetTrainer';
import { batchAt } from './shared';
import { prepareTraining } from './supernetTraining';
import {
  applyAllShards,
  computeShards,
  replicaChecksum,
  ShardFiles,
  toWire,
  type LeaderToPeer,
  type PeerToLeader,
  type WireShard,
} from './dataParallel';

// A peer must not outlive its leader (a cancelled activity, a kill -9'd worker): the IPC channel closing
// ends it, and so does its parent id changing, checked between steps and by a timer (tensor/childEntry.ts).
// An orphan also removes the shard files' directory, which a killed leader cannot.
const parentPid = process.ppid;
let exchangeDir: string | null = null;
function exitOrphaned(): never {
  if (exchangeDir) rmSync(exchangeDir, { recursive: true, force: true });
  process.exit(2);
}
function exitIfOrphaned(): void {
  if (process.ppid !== parentPid) exitOrphaned();
}
process.on('disconnect', exitOrphaned);
setInterval(exitIfOrphaned, 250).unref();

function send(message: PeerToLeader): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

const inbox: LeaderToPeer[] = [];
let waiting: ((message: LeaderToPeer) => void) | null = null;
process.on('message', (message: LeaderToPeer) => {
  if (waiting) {
    const resolve = waiting;
    waiting = null;
    resolve(message);
  } else inbox.push(message);
});
function next(): Promise<LeaderToPeer> {
  const queued = inbox.shift();
  return queued ? Promise.resolve(queued) : new Promise((resolve) => (waiting = resolve));
}

async function main(): Promise<void> {
  const init = await next();
  if (init.type !== 'init') throw new Error(`expected init, got ${init.type}`);
  const { splits, settings, seed, perEpoch, supernet, trainer } = await prepareTraining(init.request);
  if (init.checkpoint) trainer.restore(await readCheckpoint<SupernetTrainerState>(init.checkpoint));
  await send({ type: 'ready', step: trainer.step });
  const { height, width, channels } = splits.train;
  exchangeDir = init.exchangeDir;
  const files = new ShardFiles(init.exchangeDir, init.shards[0]!);
  let started = performance.now();
  let cpuAtStart = process.cpuUsage();
  while (trainer.step < init.untilStep) {
    exitIfOrphaned();
    const step = trainer.step;
    const batch = batchAt(splits.train, settings.batchSize, seed, step, perEpoch);
    const images = tf.tensor4d(batch.x, [batch.count, height, width, channels]);
    const labels = tf.tensor1d(batch.y, 'int32');
    const own = computeShards(trainer, images, labels, init.shards);
    tf.dispose([images, labels]);
    try {
      const payload = files.write(
        step,
        [...own].map(([index, shard]) => toWire(index, shard)),
      );
      const computeSeconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuAtStart);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      await send({ type: 'shards', step, payload, computeSeconds, cpuSeconds });
      const received: WireShard[] = [];
      let verify = false;
      while (own.size + received.length < trainer.gradientShards) {
        const message = await next();
        if (message.type !== 'shards' || message.step !== step)
          throw new Error(`expected shards of step ${step}, got ${message.type}`);
        for (const payload of message.payloads) received.push(...ShardFiles.read(payload));
        verify ||= message.verify;
      }
      started = performance.now();
      cpuAtStart = process.cpuUsage();
      applyAllShards(trainer, own, received);
      if (verify) await send({ type: 'checksum', step: trainer.step, checksum: replicaChecksum(trainer) });
    } finally {
      for (const shard of own.values()) tf.dispose([...shard.gradients.values()]);
    }
  }
  trainer.dispose();
  supernet.dispose();
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    const err = error instanceof Error ? error : new Error(String(error));
    await send({ type: 'error', message: err.message, stack: err.stack });
    process.exit(1);
  },
);
