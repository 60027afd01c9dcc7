/**
 * Gradient shards (SupernetTrainerOptions.gradientShards): one shard through the sharded machinery is
 * today's step bit for bit, and S shards give bit-identical weights whether one trainer runs them in
 * sequence or S replicas run one each and exchange their gradients as plain arrays (what the
 * data-parallel peers of tasks/dataParallel.ts send each other).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initTensorEngine } from '../../tensor/backend';
import { Supernet } from '../../models/supernet';
import {
  SupernetTrainer,
  shardOf,
  type LearningRateSchedule,
  type ShardGradients,
} from '../../models/supernetTrainer';
import { gaussianWeightNoise } from '../../models/weightNoise';
import { randomBatch, tinySpace } from './supernetSupport';

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm' });
});

const SCHEDULE: LearningRateSchedule = { peak: 0.1, totalSteps: 6, warmupSteps: 1, final: 0 };
const STEPS = 4;
const BATCH = 8;

/** Sandwich rule, in-place distillation and weight noise on: every range and noise path is exercised. */
function makeTrainer(gradientShards = 1, lowBitRangeClipping = false): SupernetTrainer {
  const supernet = new Supernet(tinySpace(), {
    seed: 5,
    weightNoise: gaussianWeightNoise({ relativeSigma: 0.05, seed: 5 }),
    largestPathShare: 0.5,
    inPlaceDistillation: true,
    // With it, the smallest path each step: 2-bit grids whose clipped ranges the shards record apart.
    sandwichSmallestPath: lowBitRangeClipping,
    lowBitRangeClipping,
  });
  return new SupernetTrainer(supernet, SCHEDULE, { gradientShards });
}

function batchOf(step: number) {
  return randomBatch(BATCH, 300 + step);
}

function weights(trainer: SupernetTrainer): Record<string, number[]> {
  return Object.fromEntries(
    [...trainer.supernet.variables].map(([name, v]) => [name, Array.from(v.dataSync())]),
  );
}

function slots(trainer: SupernetTrainer): Record<string, number[]> {
  return Object.fromEntries([...trainer.optimizer.snapshot()].map(([n, t]) => [n, Array.from(t.data)]));
}

function dispose(...trainers: SupernetTrainer[]): void {
  for (const trainer of trainers) {
    trainer.dispose();
    trainer.supernet.dispose();
  }
}

/** A shard as it arrives from another process: plain arrays turned back into tensors. */
function overTheWire(shard: ShardGradients): ShardGradients {
  const gradients = new Map<string, tf.Tensor>();
  for (const [name, gradient] of shard.gradients)
    gradients.set(name, tf.tensor(Float32Array.from(gradient.dataSync()), gradient.shape));
  return {
    loss: shard.loss,
    gradients,
    observedRanges: new Map([...shard.observedRanges].map(([k, v]) => [k, [...v]])),
  };
}

describe('gradient shards', () => {
  it('one shard through shardGradients/applyShards is exactly the unsharded step', () => {
    const plain = makeTrainer();
    const sharded = makeTrainer();
    for (let step = 0; step < STEPS; step++) {
      const { images, labels } = batchOf(step);
      const expectedLoss = plain.trainStep(images, labels);
      const shard = sharded.shardGradients(images, labels);
      const loss = sharded.applyShards([shard]);
      tf.dispose([images, labels, ...shard.gradients.values()]);
      expect(loss).toBe(expectedLoss);
    }
    expect(weights(sharded)).toEqual(weights(plain));
    expect(slots(sharded)).toEqual(slots(plain));
    expect(sharded.lastLoss).toBe(plain.lastLoss);
    dispose(plain, sharded);
  });

  it.each([
    ['running-max ranges', false],
    ['clipped 2-bit ranges and the smallest path', true],
  ])('two shards in one process and in two replicas give bit-identical weights (%s)', (_name, clipping) => {
    const sequential = makeTrainer(2, clipping);
    const replicas = [makeTrainer(2, clipping), makeTrainer(2, clipping)];
    let clippedSeen = false;
    const before = tf.memory().numTensors;
    for (let step = 0; step < STEPS; step++) {
      const { images, labels } = batchOf(step);
      const expectedLoss = sequential.trainStep(images, labels);
      // Each replica computes its own shard; the others arrive as arrays; each applies all of them.
      const own = replicas.map((replica, index) => {
        const { images: x, labels: y } = shardOf(images, labels, index, 2);
        const shard = replica.shardGradients(x, y);
        tf.dispose([x, y]);
        return shard;
      });
      for (const shard of own)
        for (const key of shard.observedRanges.keys()) if (key.endsWith('#low-bit')) clippedSeen = true;
      const received = own.map(overTheWire);
      for (const [index, replica] of replicas.entries()) {
        const shards = own.map((shard, from) => (from === index ? shard : received[from]!));
        expect(replica.applyShards(shards)).toBe(expectedLoss);
      }
      for (const shard of [...own, ...received]) tf.dispose([...shard.gradients.values()]);
      tf.dispose([images, labels]);
    }
    // Only the three trainers' optimizer slots are new (no per-step leak).
    const after = tf.memory().numTensors;
    const expected = weights(sequential);
    for (const replica of replicas) {
      expect(weights(replica)).toEqual(expected);
      expect(slots(replica)).toEqual(slots(sequential));
      expect(replica.step).toBe(STEPS);
    }
    expect(after - before).toBe(3 * sequential.optimizer.slotCount);
    // The clipped ranges went through the shards' records (a key of their own), not around them.
    expect(clippedSeen).toBe(clipping);
    dispose(sequential, ...replicas);
  });

  it('differs from the unsharded step (ghost batch norm) and updates the activation ranges', () => {
    const plain = makeTrainer(1);
    const sharded = makeTrainer(2);
    const { images, labels } = batchOf(0);
    plain.trainStep(images, labels);
    sharded.trainStep(images, labels);
    tf.dispose([images, labels]);
    const ranges = (trainer: SupernetTrainer) =>
      [...trainer.supernet.variables]
        .filter(([name]) => name.endsWith('/input_range'))
        .map(([, v]) => v.dataSync()[0]!);
    expect(ranges(sharded).some((r) => r > 0)).toBe(true);
    // The first step seeds each range with the batch maximum: the max over shards is the batch max.
    expect(ranges(sharded)[0]).toBe(ranges(plain)[0]);
    expect(weights(sharded)).not.toEqual(weights(plain));
    dispose(plain, sharded);
  });

  it('names the fix when the batch does not split into equal shards', () => {
    const trainer = makeTrainer(3);
    const { images, labels } = batchOf(0);
    expect(() => trainer.trainStep(images, labels)).toThrow(/multiple of gradientShards/);
    expect(() => makeTrainer(0)).toThrow(/gradientShards/);
    tf.dispose([images, labels]);
    dispose(trainer);
  });
});
