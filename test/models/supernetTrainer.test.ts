/**
 * Supernet training state: checkpoints continue training bit for bit (also after a corrupt newest
 * checkpoint), the optimizer keys its slots by name, and training steps leak no tensors.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initTensorEngine } from '../../tensor/backend';
import { forwardFolded } from '../../models/inference';
import { NamedMomentumSgd } from '../../models/namedMomentum';
import { Supernet } from '../../models/supernet';
import {
  SupernetTrainer,
  learningRateAt,
  splitAccuracy,
  type LearningRateSchedule,
} from '../../models/supernetTrainer';
import { gaussianWeightNoise } from '../../models/weightNoise';
import { randomBatch, tinySpace } from './supernetSupport';

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm' });
});

const SCHEDULE: LearningRateSchedule = { peak: 0.05, totalSteps: 8, warmupSteps: 2, final: 0 };

function makeTrainer(): SupernetTrainer {
  const supernet = new Supernet(tinySpace(), {
    seed: 12,
    weightNoise: gaussianWeightNoise({ relativeSigma: 0.05, seed: 12 }),
  });
  return new SupernetTrainer(supernet, SCHEDULE);
}

/** Trains until `trainer.step` reaches `until`; the batch of a step depends on the step only. */
function trainUntil(trainer: SupernetTrainer, until: number): void {
  while (trainer.step < until) {
    const { images, labels } = randomBatch(6, 1000 + trainer.step);
    trainer.trainStep(images, labels);
    tf.dispose([images, labels]);
  }
}

function weights(trainer: SupernetTrainer): Map<string, number[]> {
  return new Map([...trainer.supernet.variables].map(([name, v]) => [name, Array.from(v.dataSync())]));
}

function dispose(trainer: SupernetTrainer): void {
  trainer.dispose();
  trainer.supernet.dispose();
}

describe('SupernetTrainer checkpoints', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-supernet-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('continues training identically after a save and a restore, and falls back past a corrupt checkpoint', async () => {
    const reference = makeTrainer();
    trainUntil(reference, 3);
    await reference.save(dir, { epoch: 0 });
    trainUntil(reference, 5);
    const corruptDir = await reference.save(dir, { epoch: 0 });
    trainUntil(reference, 8);
    const expected = weights(reference);
    const expectedSlots = reference.optimizer.snapshot();
    dispose(reference);

    // A torn write of the newest checkpoint: its hash no longer matches, so step 3 is the one restored.
    const tensorsFile = path.join(corruptDir, 'tensors.bin');
    const bytes = await fs.readFile(tensorsFile);
    bytes[bytes.length >> 1] ^= 0xff;
    await fs.writeFile(tensorsFile, bytes);

    const resumed = makeTrainer();
    try {
      const loaded = await resumed.resume(dir);
      expect(loaded?.state.step).toBe(3);
      expect(loaded?.state.extra).toEqual({ epoch: 0 });
      expect(loaded?.skipped.map((s) => s.dir)).toEqual([corruptDir]);
      expect(resumed.step).toBe(3);
      trainUntil(resumed, 8);
      expect(weights(resumed)).toEqual(expected);
      const slots = resumed.optimizer.snapshot();
      expect([...slots.keys()].sort()).toEqual([...expectedSlots.keys()].sort());
      for (const [name, slot] of slots)
        expect(Array.from(slot.data)).toEqual(Array.from(expectedSlots.get(name)!.data));
    } finally {
      dispose(resumed);
    }
  });

  it('refuses a checkpoint of another seed', async () => {
    const trainer = makeTrainer();
    trainUntil(trainer, 1);
    await trainer.save(dir);
    const other = new SupernetTrainer(new Supernet(tinySpace(), { seed: 13 }), SCHEDULE);
    try {
      await expect(other.resume(dir)).rejects.toThrow(/seed 12/);
    } finally {
      dispose(trainer);
      dispose(other);
    }
  });
});

describe('training steps', () => {
  it('leak no tensors (training, recalibration, extraction, folded inference)', () => {
    const trainer = makeTrainer();
    const supernet = trainer.supernet;
    const calibration = [randomBatch(8, 5).images];
    const { images } = randomBatch(4, 6);
    try {
      trainUntil(trainer, 3);
      // Velocity slots appear as the sampled paths reach new variables; everything else must stay flat.
      const baseline = tf.memory().numTensors - trainer.optimizer.slotCount;
      for (let round = 0; round < 4; round++) {
        trainUntil(trainer, trainer.step + 2);
        const candidate = supernet.pathForStep(trainer.step);
        supernet.recalibrateBatchNorm(candidate, calibration);
        tf.dispose(forwardFolded(supernet.extractSubnet(candidate), images));
        tf.dispose(supernet.forwardPath(images, candidate, { training: false, evaluation: 'running' }));
        tf.dispose(supernet.logits(images));
        expect(tf.memory().numTensors - trainer.optimizer.slotCount).toBe(baseline);
      }
    } finally {
      dispose(trainer);
      tf.dispose([...calibration, images]);
    }
  });

  it('warms the learning rate up linearly, then decays it along a cosine', () => {
    const schedule = { peak: 0.1, totalSteps: 102, warmupSteps: 2, final: 0.001 };
    expect(learningRateAt(schedule, 0)).toBeCloseTo(0.05);
    expect(learningRateAt(schedule, 1)).toBeCloseTo(0.1);
    expect(learningRateAt(schedule, 2)).toBeCloseTo(0.1);
    expect(learningRateAt(schedule, 52)).toBeCloseTo((0.1 + 0.001) / 2);
    expect(learningRateAt(schedule, 102)).toBeCloseTo(0.001);
    expect(learningRateAt(schedule, 500)).toBeCloseTo(0.001);
  });
});

describe('NamedMomentumSgd', () => {
  it('keys momentum by variable name and leaves variables without a gradient alone', () => {
    const a = tf.variable(tf.tensor1d([1, 1]));
    const b = tf.variable(tf.tensor1d([5]));
    const variables = new Map([
      ['a/kernel', a],
      ['b/bias', b],
    ]);
    const optimizer = new NamedMomentumSgd({ momentum: 0.5, nesterov: false, weightDecay: 0.1 });
    const grad = tf.tensor1d([1, 2]);
    const gradB = tf.tensor1d([4]);
    try {
      optimizer.apply(variables, new Map([['a/kernel', grad]]), 0.1);
      // g = [1, 2] + 0.1·[1, 1]; v = g; a = 1 − 0.1·v.
      expect(Array.from(a.dataSync())).toEqual([1 - 0.1 * 1.1, 1 - 0.1 * 2.1].map(Math.fround));
      // b's step must not touch a's velocity (tfjs's own optimizers index slots by position).
      optimizer.apply(variables, new Map([['b/bias', gradB]]), 0.1);
      expect(Array.from(b.dataSync())).toEqual([Math.fround(5 - 0.1 * 4)]);
      expect(Array.from(a.dataSync())).toEqual([1 - 0.1 * 1.1, 1 - 0.1 * 2.1].map(Math.fround));
      const before = Array.from(a.dataSync());
      optimizer.apply(variables, new Map([['a/kernel', grad]]), 0.1);
      const velocity = [1.1, 2.1].map((v, i) => 0.5 * v + 1 + i + 0.1 * before[i]!);
      Array.from(a.dataSync()).forEach((value, i) =>
        expect(value).toBeCloseTo(before[i]! - 0.1 * velocity[i]!, 6),
      );
      expect(optimizer.slotCount).toBe(2);
    } finally {
      optimizer.dispose();
      tf.dispose([a, b, grad, gradB]);
    }
  });
});

describe('splitAccuracy', () => {
  it('reports after every batch (so a long evaluation heartbeats), and counts correct predictions', () => {
    const count = 7;
    const split = {
      x: new Float32Array(count * 4),
      y: Int32Array.from({ length: count }, (_, i) => i % 2),
      count,
      height: 2,
      width: 2,
      channels: 1,
    };
    const progress: Array<[number, number]> = [];
    // Always predicts class 0: correct for the 4 even indices.
    const accuracy = splitAccuracy(
      split as Parameters<typeof splitAccuracy>[0],
      (images) =>
        tf.tidy(() => tf.concat([tf.ones([images.shape[0], 1]), tf.zeros([images.shape[0], 1])], 1)),
      count,
      3,
      (done, total) => progress.push([done, total]),
    );
    expect(accuracy).toBeCloseTo(4 / 7, 12);
    expect(progress).toEqual([
      [3, 7],
      [6, 7],
      [7, 7],
    ]);
  });
});
