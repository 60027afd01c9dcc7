/**
 * Training loop pieces for the supernet: one optimizer step per sampled path, a learning-rate schedule,
 * deterministic batches, and checkpoints in storage/checkpoints.ts format (weights, BatchNorm and
 * activation-range state, optimizer slots, step).
 *
 * Everything random is a pure function of (seed, step): the path (pathSampler.ts), the weight noise
 * (weightNoise.ts) and the batch (`batchForStep`), so the step counter is the whole RNG state and a run
 * resumed from a checkpoint continues exactly as the uninterrupted run would have.
 */
import * as tf from '@tensorflow/tfjs-core';
import { epochBatches, gatherBatch, type Split } from '../data/dataset';
import {
  loadLatestCheckpoint,
  saveCheckpoint,
  type LoadedCheckpoint,
  type NamedTensor,
} from '../storage/checkpoints';
import { NamedMomentumSgd, type MomentumSgdOptions } from './namedMomentum';
import type { ObservedRanges, Supernet } from './supernet';
import { restoreVariables, snapshotVariables } from './trainable';

/** Linear warm-up to `peak`, then cosine decay to `final` at `totalSteps` (Loshchilov & Hutter 2017). */
export interface LearningRateSchedule {
  peak: number;
  totalSteps: number;
  warmupSteps: number;
  final: number;
}

export function learningRateAt(schedule: LearningRateSchedule, step: number): number {
  const { peak, totalSteps, warmupSteps, final } = schedule;
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / span);
  return final + 0.5 * (peak - final) * (1 + Math.cos(Math.PI * progress));
}

export interface SupernetTrainerState {
  format: 'imcnas-supernet-trainer-v1';
  /** Steps completed; the next step is `step`. */
  step: number;
  seed: number;
  /** The supernet's options (initialization, quantization, largest-path share), for the record. */
  supernet: Supernet['options'];
  schedule: LearningRateSchedule;
  optimizer: Omit<MomentumSgdOptions, 'decays'>;
  lastLoss: number | null;
  skippedSteps: number;
  /** The caller's own small JSON (epoch, validation accuracy, …). */
  extra: unknown;
}

const MODEL_PREFIX = 'model/';
const OPTIMIZER_PREFIX = 'optimizer/';
export const SUPERNET_CHECKPOINT_PREFIX = 'supernet';

export interface SupernetTrainerOptions {
  optimizer?: Partial<MomentumSgdOptions>;
  /**
   * Rescale the step's gradients when their global L2 norm exceeds this (Pascanu et al. 2013); null =
   * never. A sampled path at 2–4 bits can produce a rare huge straight-through gradient, and one such step
   * can blow up weights every other path shares.
   */
  maxGradientNorm?: number | null;
  /**
   * Gradient shards per step (default 1: the whole batch at once). With S > 1 a step splits its batch into
   * S equal contiguous micro-batches, computes each one's gradients on its own (BatchNorm on each
   * micro-batch's statistics: ghost batch norm, Hoffer et al. 2017), averages them in shard order and
   * applies one update. The shards may run in one process one after another or in S processes at once
   * (tasks/dataParallel.ts): the weights come out bit-identical either way (docs/dataParallel.md).
   */
  gradientShards?: number;
}

/** One gradient shard's result: what a peer process sends the others (tasks/dataParallel.ts). */
export interface ShardGradients {
  loss: number;
  /** Gradients by stable variable name (only the step's path has any). */
  gradients: Map<string, tf.Tensor>;
  observedRanges: ObservedRanges;
}

/** Default gradient-norm bound: a few times the norms of healthy steps (≈ 1–3 on the default space). */
export const DEFAULT_MAX_GRADIENT_NORM = 10;

export class SupernetTrainer {
  /** Steps completed. */
  step = 0;
  lastLoss: number | null = null;
  /** Steps whose loss or gradients were not finite: counted and skipped (no update), never applied. */
  skippedSteps = 0;
  readonly optimizer: NamedMomentumSgd;
  readonly maxGradientNorm: number | null;
  readonly gradientShards: number;

  constructor(
    readonly supernet: Supernet,
    readonly schedule: LearningRateSchedule,
    options: SupernetTrainerOptions = {},
  ) {
    this.optimizer = new NamedMomentumSgd(options.optimizer);
    this.maxGradientNorm =
      options.maxGradientNorm === undefined ? DEFAULT_MAX_GRADIENT_NORM : options.maxGradientNorm;
    this.gradientShards = options.gradientShards ?? 1;
    if (!Number.isInteger(this.gradientShards) || this.gradientShards < 1)
      throw new RangeError(`gradientShards must be a whole number ≥ 1, got ${this.gradientShards}`);
  }

  /**
   * One optimizer step on the path of the current step; returns the batch loss before the update. A step
   * whose loss or gradient norm is not finite changes no weight (it is counted in `skippedSteps`). With
   * `gradientShards` > 1 the shards run here one after another (see SupernetTrainerOptions).
   */
  trainStep(images: tf.Tensor4D, labels: tf.Tensor1D): number {
    if (this.gradientShards > 1) {
      const shards: ShardGradients[] = [];
      try {
        for (let shard = 0; shard < this.gradientShards; shard++) {
          const { images: x, labels: y } = shardOf(images, labels, shard, this.gradientShards);
          try {
            shards.push(this.shardGradients(x, y));
          } finally {
            tf.dispose([x, y]);
          }
        }
        return this.applyShards(shards);
      } finally {
        for (const shard of shards) tf.dispose([...shard.gradients.values()]);
      }
    }
    const step = this.step;
    const { value, grads } = tf.variableGrads(
      () => this.supernet.loss(images, labels, step),
      this.supernet.trainableVariables(),
    );
    const named = this.namedGradients(grads);
    const loss = value.dataSync()[0]!;
    this.applyGradients(named, loss, step);
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  }

  /**
   * The gradients of one shard (micro-batch) of the current step, the weights and activation ranges left
   * unchanged; the caller disposes the gradients. A pure function of (weights, ranges, step, micro-batch):
   * any replica computes the same numbers.
   */
  shardGradients(images: tf.Tensor4D, labels: tf.Tensor1D): ShardGradients {
    const step = this.step;
    const { result, observed } = this.supernet.recordingRanges(() =>
      tf.variableGrads(() => this.supernet.loss(images, labels, step), this.supernet.trainableVariables()),
    );
    const gradients = this.namedGradients(result.grads);
    const loss = result.value.dataSync()[0]!;
    const kept = new Set<tf.Tensor>(gradients.values());
    tf.dispose([result.value, ...Object.values(result.grads).filter((g) => !kept.has(g))]);
    return { loss, gradients, observedRanges: observed };
  }

  /**
   * Completes a sharded step: averages the shards' gradients in shard order (a fixed summation order, so
   * the same shards give the same bits wherever they were computed), applies the activation-range
   * observations (max over shards), clips and applies one update. Returns the mean shard loss. The shards'
   * gradients are not disposed here.
   */
  applyShards(shards: readonly ShardGradients[]): number {
    if (shards.length !== this.gradientShards)
      throw new Error(`applyShards: ${shards.length} shards given, the trainer uses ${this.gradientShards}`);
    const step = this.step;
    const names = [...shards[0]!.gradients.keys()];
    for (const [index, shard] of shards.entries()) {
      if (shard.gradients.size !== names.length || names.some((name) => !shard.gradients.has(name)))
        throw new Error(`applyShards: shard ${index} has gradients for other variables than shard 0`);
    }
    const averaged = new Map<string, tf.Tensor>();
    for (const name of names) {
      averaged.set(
        name,
        tf.tidy(() => {
          let sum = shards[0]!.gradients.get(name)!;
          for (let index = 1; index < shards.length; index++)
            sum = tf.add(sum, shards[index]!.gradients.get(name)!);
          return tf.div(sum, shards.length);
        }),
      );
    }
    let lossSum = 0;
    for (const shard of shards) lossSum += shard.loss;
    const loss = lossSum / shards.length;
    this.supernet.applyObservedRanges(shards.map((shard) => shard.observedRanges));
    try {
      this.applyGradients(averaged, loss, step);
    } finally {
      tf.dispose([...averaged.values()]);
    }
    return loss;
  }

  private namedGradients(grads: tf.NamedTensorMap): Map<string, tf.Tensor> {
    const named = new Map<string, tf.Tensor>();
    for (const [registeredName, gradient] of Object.entries(grads)) {
      if (!gradient) continue;
      const name = this.supernet.stableNameOf(registeredName);
      if (!name)
        throw new Error(`SupernetTrainer: gradient for a variable outside the supernet (${registeredName})`);
      named.set(name, gradient);
    }
    return named;
  }

  /** Clips and applies the step's gradients (or skips a non-finite step); advances the step counter. */
  private applyGradients(named: Map<string, tf.Tensor>, loss: number, step: number): void {
    const norm = globalNorm([...named.values()]);
    if (Number.isFinite(loss) && Number.isFinite(norm)) {
      const scale =
        this.maxGradientNorm !== null && norm > this.maxGradientNorm ? this.maxGradientNorm / norm : 1;
      const scaled = scale === 1 ? named : new Map([...named].map(([name, g]) => [name, tf.mul(g, scale)]));
      this.optimizer.apply(this.supernet.variables, scaled, learningRateAt(this.schedule, step));
      if (scaled !== named) tf.dispose([...scaled.values()]);
    } else {
      this.skippedSteps++;
    }
    this.step = step + 1;
    this.lastLoss = loss;
  }

  /** Weights, state variables and optimizer slots as named tensors, and the JSON state. */
  snapshot(extra: unknown = null): { tensors: Map<string, NamedTensor>; state: SupernetTrainerState } {
    const tensors = new Map<string, NamedTensor>();
    for (const [name, tensor] of snapshotVariables(this.supernet.variables))
      tensors.set(MODEL_PREFIX + name, tensor);
    for (const [name, tensor] of this.optimizer.snapshot()) tensors.set(OPTIMIZER_PREFIX + name, tensor);
    const { decays: _decays, ...optimizer } = this.optimizer.options;
    return {
      tensors,
      state: {
        format: 'imcnas-supernet-trainer-v1',
        step: this.step,
        seed: this.supernet.options.seed,
        supernet: { ...this.supernet.options },
        schedule: { ...this.schedule },
        optimizer,
        lastLoss: this.lastLoss,
        skippedSteps: this.skippedSteps,
        extra,
      },
    };
  }

  /** Restores a snapshot taken from a trainer of the same supernet configuration. */
  restore(saved: { tensors: ReadonlyMap<string, NamedTensor>; state: SupernetTrainerState }): void {
    const { state } = saved;
    if (state.format !== 'imcnas-supernet-trainer-v1') {
      throw new Error(`not a supernet trainer checkpoint (format ${JSON.stringify(state.format)})`);
    }
    if (state.seed !== this.supernet.options.seed) {
      throw new Error(
        `checkpoint was trained with seed ${state.seed}, this supernet has seed ${this.supernet.options.seed}`,
      );
    }
    const model = new Map<string, NamedTensor>();
    const slots = new Map<string, NamedTensor>();
    for (const [name, tensor] of saved.tensors) {
      if (name.startsWith(MODEL_PREFIX)) model.set(name.slice(MODEL_PREFIX.length), tensor);
      else if (name.startsWith(OPTIMIZER_PREFIX)) slots.set(name.slice(OPTIMIZER_PREFIX.length), tensor);
      else throw new Error(`unexpected tensor ${name} in a supernet checkpoint`);
    }
    restoreVariables(this.supernet.variables, model);
    this.supernet.invalidateCalibration();
    this.optimizer.restore(slots);
    this.step = state.step;
    this.lastLoss = state.lastLoss;
    this.skippedSteps = state.skippedSteps;
  }

  /** Writes an atomic, verified checkpoint `<dir>/supernet-<step>/`; returns its directory. */
  async save(dir: string, extra: unknown = null): Promise<string> {
    const { tensors, state } = this.snapshot(extra);
    return saveCheckpoint(dir, SUPERNET_CHECKPOINT_PREFIX, this.step, tensors, state);
  }

  /**
   * Restores the newest checkpoint under `dir` that verifies (corrupt newer ones are skipped and listed
   * in the result); undefined when there is none.
   */
  async resume(dir: string): Promise<LoadedCheckpoint<SupernetTrainerState> | undefined> {
    const loaded = await loadLatestCheckpoint<SupernetTrainerState>(dir, SUPERNET_CHECKPOINT_PREFIX);
    if (loaded) this.restore(loaded);
    return loaded;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Shard `index` of `count` of a batch: its contiguous `1/count` of the images and labels. */
export function shardOf(
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  index: number,
  count: number,
): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const batch = images.shape[0];
  if (batch % count !== 0)
    throw new RangeError(
      `a batch of ${batch} images does not split into ${count} equal gradient shards: make batchSize a multiple of gradientShards`,
    );
  const size = batch / count;
  return {
    images: tf.slice(images, [index * size, 0, 0, 0], [size, -1, -1, -1]),
    labels: tf.slice(labels, [index * size], [size]),
  };
}

/** √(Σ‖g‖²) over all gradients (one host read). */
function globalNorm(gradients: tf.Tensor[]): number {
  if (gradients.length === 0) return 0;
  const squared = tf.tidy(() => tf.addN(gradients.map((g) => tf.sum(tf.square(g)))));
  const value = squared.dataSync()[0]!;
  squared.dispose();
  return Math.sqrt(value);
}

/**
 * The training batch of global step `step`: epochs of whole seeded permutations (data/dataset.ts
 * epochBatches), `stepsPerEpoch` batches each (full batches only, so every step has the same batch size).
 */
export function batchForStep(
  split: Split,
  batchSize: number,
  seed: number,
  step: number,
): { x: Float32Array; y: Int32Array; epoch: number } {
  const perEpoch = stepsPerEpoch(split, batchSize);
  const epoch = Math.floor(step / perEpoch);
  const batches = epochBatches(split.count, batchSize, seed, epoch);
  return { ...gatherBatch(split, batches[step % perEpoch]!), epoch };
}

export function stepsPerEpoch(split: Split, batchSize: number): number {
  const full = Math.floor(split.count / batchSize);
  if (full < 1)
    throw new Error(`a batch of ${batchSize} needs at least that many images, the split has ${split.count}`);
  return full;
}

/** Images of a split as one NHWC tensor per batch (for recalibration and evaluation). */
export function splitImages(split: Split, start: number, count: number): tf.Tensor4D {
  const pixels = split.height * split.width * split.channels;
  return tf.tensor4d(split.x.subarray(start * pixels, (start + count) * pixels), [
    count,
    split.height,
    split.width,
    split.channels,
  ]);
}

/**
 * `count` batches of training images for BatchNorm recalibration: the first batches of a seeded
 * permutation, so every path of one evaluation round sees the same images. The caller disposes them.
 */
export function calibrationBatches(
  split: Split,
  batchSize: number,
  count: number,
  seed: number,
): tf.Tensor4D[] {
  const batches = epochBatches(split.count, batchSize, seed, -1).slice(0, count);
  return batches.map((indices) => {
    const { x } = gatherBatch(split, indices);
    return tf.tensor4d(x, [indices.length, split.height, split.width, split.channels]);
  });
}

/** Top-1 accuracy of a logits function over the first `count` images of a split, in batches. */
export function splitAccuracy(
  split: Split,
  logitsOf: (images: tf.Tensor4D) => tf.Tensor2D,
  count = split.count,
  batchSize = 500,
  /** Called after every batch with the images done so far (progress reports from long evaluations). */
  onBatch?: (done: number, total: number) => void,
): number {
  const total = Math.min(count, split.count);
  let correct = 0;
  for (let start = 0; start < total; start += batchSize) {
    const n = Math.min(batchSize, total - start);
    const predicted = tf.tidy(() => {
      const images = splitImages(split, start, n);
      return tf.argMax(logitsOf(images), 1);
    });
    const labels = predicted.dataSync();
    predicted.dispose();
    for (let i = 0; i < n; i++) if (labels[i] === split.y[start + i]) correct++;
    onBatch?.(start + n, total);
  }
  return total === 0 ? 0 : correct / total;
}
