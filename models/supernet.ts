/**
 * The weight-sharing supernet of single-path one-shot NAS (SPOS: Guo et al., "Single Path One-Shot Neural
 * Architecture Search with Uniform Sampling", ECCV 2020), quantization-aware (Jacob et al. 2018) and
 * optionally noise-aware.
 *
 * Structure: a fixed stem conv, one choice block per searchable slot of the search space, an optional head
 * 1×1 conv and the classifier. A choice block holds separate weights for every operator the slot can take
 * (SPOS's choice blocks); widths share weights by slicing: each weight layer is allocated at the widest
 * input and output its slot can see, and a path of width c uses the leading c channels (the channel-search
 * choice block of SPOS §3.3, as Once-for-All and BigNAS also slice). BatchNorm parameters and running
 * statistics are per weight layer, sliced the same way.
 *
 * Training: one path per step, drawn uniformly (pathSampler.ts), BatchNorm on the batch's own statistics.
 * Three options speed up a few-epoch supernet without changing what a path is: same-family operators of a
 * slot start as the same function (`alignedInitialization`, on by default), the largest path can take
 * a share of the steps (`largestPathShare`; 0 = pure SPOS by default), and every step can train the
 * largest path on the labels and the sampled path on its predictions (`inPlaceDistillation`, the sandwich
 * rule with in-place distillation).
 * The running statistics are not tracked during training — with shared weights they would blend every
 * path's statistics into numbers that fit none — but recalibrated for one path before it is evaluated, as
 * SPOS does (§3.4): `recalibrateBatchNorm(path, batches)` sets them to the exact statistics of the path on
 * those training batches.
 *
 * Quantization-aware training: every weight layer fake-quantizes its input activations and its weights at
 * the path's bit widths with straight-through gradients (models/quantization.ts). Activation ranges are
 * running-max calibrated, not learned: each weight layer keeps an exponential moving average of the max of
 * its input (|input| for signed inputs), updated on every training step that uses it (Jacob et al. 2018
 * §3.1). They are non-trainable variables, saved with the weights. A learned clip (PACT) would also work,
 * but an EMA needs no extra gradient and no per-path tuning, and stays meaningful when a layer is shared by
 * paths of different bit widths.
 *
 * Deployment: `extractSubnet(path)` folds each BatchNorm into its weight layer (kernel·γ/σ on the weight
 * grid, bias β − γμ/σ) and returns the FoldedNetwork the chip runs (models/folded.ts). Evaluation mode of
 * `forwardPath` runs exactly that folded network, so what the search measures is what the chip receives.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, deriveSeed } from '../common/rng';
import { largestNetworkGenome } from '../search/space/adapters';
import { decode, type Candidate } from '../search/space/codec';
import { buildLayout } from '../search/space/layout';
import type { SearchSpace } from '../search/space/schema';
import { OPERATORS, layerShapes, macsPerImage } from '../search/architecture';
import { batchNormTraining } from '../tensor/batchNorm';
import type { FoldedLayer } from '../hardware/folded';
import type { FoldedNetwork } from './folded';
import { forwardFolded } from './inference';
import { describePath, executePath, type LayerRole, type PathLayer } from './pathTopology';
import { PathSampler } from './pathSampler';
import {
  MIN_QUANTIZATION_RANGE,
  activationLevels,
  fakeQuantizeActivation,
  fakeQuantizeWeights,
  quantizeToGrid,
  stopGradient,
} from './quantization';
import type { TrainableModel } from './trainable';
import type { WeightNoiseHook } from './weightNoise';

import {
  allocateSlots,
  calibrationKey,
  crossEntropy,
  kernelSliceSize,
  linear,
  foldWeightLayer,
  pathFitProblems,
  pathKey,
  writeLeading,
  type LayerKind,
  type WeightLayerParams,
  type PathSpec,
  type SlotAllocation,
} from './supernetParts';

export { allocateSlots, pathKey, type PathSpec, type SlotAllocation };

export interface SupernetOptions {
  /** Seeds the weight initialization and the path sampler. */
  seed: number;
  /** BatchNorm ε (PyTorch's default; the folded bias and scale use the same value). */
  batchNormEpsilon?: number;
  /** Smoothing of the activation-range moving average (Jacob et al. 2018 use a value close to 1). */
  rangeMomentum?: number;
  /** Perturbs the weights of every training step (noise-aware training); none by default. */
  weightNoise?: WeightNoiseHook | null;
  /** Fake quantization during training (default on); off trains a float supernet. */
  quantize?: boolean;
  /** Start same-family operators of a slot as the same function (default on; see initialKernel). */
  alignedInitialization?: boolean;
  /**
   * Share of training steps that train the largest path instead of a uniformly sampled one (default 0:
   * pure SPOS). The sandwich rule of slimmable networks and BigNAS (Yu & Huang, ICCV 2019; Yu et al.,
   * ECCV 2020) trains the largest child on every step so that it — and, through the shared weights, every
   * child — converges faster; a share between 0 and 1 is the same idea at a chosen cost. Which steps is a
   * function of (seed, step), like the path itself.
   */
  largestPathShare?: number;
  /**
   * In-place distillation (default off; Yu & Huang, "Universally Slimmable Networks and Improved Training
   * Techniques", ICCV 2019 §3.3; BigNAS, Yu et al., ECCV 2020 §3.1): every step trains the largest path on
   * the labels and the step's sampled path on the largest path's predictions (soft targets, no gradient
   * into the teacher), the loss being the sum. Measured on the benchmark's space (docs/supernet.md): with
   * one path per step, the layers after a slot fit the operator the largest path puts there, and a path
   * with another operator in one slot (an inverted residual for a 5×5 conv) falls from 74 % to 7–27 %,
   * unquantized as well; trained towards the largest path's outputs, every path learns to feed the shared
   * layers what they expect. A step costs about two single-path steps. A fixed path (standalone training)
   * and a step that draws the largest path itself train on the labels alone.
   */
  inPlaceDistillation?: boolean;
  /**
   * With `inPlaceDistillation`, every distillation step also trains the smallest path (`smallestPath()`:
   * narrowest widths, fewest bits, the cheapest operator of every slot) on the largest path's predictions:
   * the full sandwich rule — largest, smallest and a sampled path each step (Yu & Huang, ICCV 2019 §3.2;
   * BigNAS, Yu et al., ECCV 2020 §3.1). Default off. The low end of the space (2-bit activations, narrow
   * widths) then trains on every step rather than on the few steps that happen to sample it
   * (docs/supernet.md measures what it buys and costs). A fixed path trains on the labels alone, as before.
   */
  sandwichSmallestPath?: boolean;
  /**
   * Activation ranges of the supernet's lowest-bit grids (at most LOW_BIT_ACTIVATION_BITS bits: 4 unsigned
   * levels, or the ternary signed grid) clipped for least squared error instead of set by the running max
   * (default off). A 2-bit grid spanning the max rounds most of a ReLU output to 0 and, signed, everything
   * below half the max: a fixed path trained at those bits learns to live with it, shared weights trained
   * mostly at higher bits cannot, and the supernet under-ranks such paths (docs/supernet.md). Each
   * training step that quantizes such an input observes the clip in CLIP_FRACTIONS·max with the smallest
   * squared quantization error on the batch (the MSE-optimal clipping of Banner et al., "Post training
   * 4-bit quantization of convolutional networks for rapid-deployment", NeurIPS 2019, searched rather than
   * derived from a fitted distribution), averaged like the max in a range variable of its own, so the
   * higher-bit paths' ranges are untouched. Evaluation and folding use that range for those grids.
   */
  lowBitRangeClipping?: boolean;
}

/** Activation grids this narrow (bits) get their own, clipped, ranges with `lowBitRangeClipping`. */
export const LOW_BIT_ACTIVATION_BITS = 2;
/** The clips searched, as fractions of the batch max (geometric, about √2 apart). */
const CLIP_FRACTIONS = [1, 0.7, 0.5, 0.35, 0.25, 0.18, 0.125];

/**
 * How an evaluation-mode forward normalizes:
 * - 'folded' (default): the deployed arithmetic, BatchNorm folded with the recalibrated statistics —
 *   exactly what extractSubnet + forwardFolded compute;
 * - 'running': unfolded BatchNorm with the recalibrated statistics (the textbook form; for checks);
 * - 'batch': BatchNorm with the batch's own statistics (needs no recalibration; not deployable).
 */
export type EvaluationMode = 'folded' | 'running' | 'batch';

export interface ForwardOptions {
  /** Training mode: batch statistics, activation-range updates, weight noise, gradients. */
  training: boolean;
  /** Training step (seeds the weight noise). Required with a noise hook. */
  step?: number;
  /** Evaluation only; see EvaluationMode. */
  evaluation?: EvaluationMode;
  /** Fake quantization; defaults to the supernet's `quantize` option. Not allowed off with 'folded'. */
  quantize?: boolean;
  /** Evaluate a path whose BatchNorm statistics were not recalibrated for it (normally an error). */
  allowUncalibrated?: boolean;
}

/** A path evaluated with running statistics that were not recalibrated for it. */
export class UncalibratedPathError extends Error {
  override name = 'UncalibratedPathError';
}

/** A path the supernet has no weights for (an operator a slot lacks, a width beyond the widest, …). */
export class PathMismatchError extends Error {
  override name = 'PathMismatchError';
}

type ForwardMode =
  | { kind: 'train'; step: number | undefined }
  | { kind: 'batch' }
  | { kind: 'running' }
  | {
      kind: 'calibrate';
      record: (key: string, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number) => void;
    };

/** Key suffix of a weight layer's clipped low-bit range in ObservedRanges (lowBitRangeClipping). */
const LOW_BIT_RANGE_KEY_SUFFIX = '#low-bit';

/**
 * Observed activation ranges of one gradient shard: weight layer → observations in order (the batch max,
 * or under `#low-bit` the least-squared-error clip of a clipped 2-bit range; shards combine by max).
 */
export type ObservedRanges = Map<string, number[]>;

let instanceCounter = 0;

export class Supernet implements TrainableModel {
  /** Every variable under a stable name (checkpoints): weights, BatchNorm, running stats, activation ranges. */
  readonly variables = new Map<string, tf.Variable>();
  readonly sampler: PathSampler;
  readonly slots: SlotAllocation[];
  readonly options: Required<Omit<SupernetOptions, 'weightNoise'>>;
  /** Path used by `logits` (the trainer's validation accuracy); the largest path unless set. */
  evaluationPath: PathSpec;
  /** Train this one path on every step instead of sampling (standalone training of one architecture). */
  fixedPath: PathSpec | null = null;
  weightNoise: WeightNoiseHook | null;

  private readonly layers = new Map<string, WeightLayerParams>();
  private readonly stableNames = new Map<string, string>();
  private readonly prefix: string;
  private calibratedKey: string | null = null;
  /** Set while a gradient shard runs (recordingRanges): activation ranges are recorded, not assigned. */
  private rangeRecording: { observed: ObservedRanges; pending: Map<string, tf.Scalar> } | null = null;
  private readonly largest: Candidate;
  private readonly smallest: Candidate;

  constructor(
    readonly space: SearchSpace,
    options: SupernetOptions,
  ) {
    this.options = {
      seed: options.seed,
      batchNormEpsilon: options.batchNormEpsilon ?? 1e-5,
      rangeMomentum: options.rangeMomentum ?? 0.98,
      quantize: options.quantize ?? true,
      alignedInitialization: options.alignedInitialization ?? true,
      largestPathShare: options.largestPathShare ?? 0,
      inPlaceDistillation: options.inPlaceDistillation ?? false,
      sandwichSmallestPath: options.sandwichSmallestPath ?? false,
      lowBitRangeClipping: options.lowBitRangeClipping ?? false,
    };
    if (this.options.sandwichSmallestPath && !this.options.inPlaceDistillation) {
      throw new RangeError(
        "sandwichSmallestPath trains the smallest path on the largest path's predictions: it needs inPlaceDistillation on (set both, or neither)",
      );
    }
    if (!(this.options.largestPathShare >= 0 && this.options.largestPathShare <= 1)) {
      throw new RangeError(`largestPathShare must be in [0, 1], got ${this.options.largestPathShare}`);
    }
    this.weightNoise = options.weightNoise ?? null;
    this.prefix = `supernet${instanceCounter++}`;
    this.sampler = new PathSampler(space, options.seed);
    this.slots = allocateSlots(space);
    this.build();
    this.largest = this.largestPath();
    this.smallest = this.smallestPath();
    this.evaluationPath = this.largest;
  }

  // -------------------------------------------------------------------------------------------------
  // Construction
  // -------------------------------------------------------------------------------------------------

  private build(): void {
    const { network } = this.space;
    const inputChannels = network.inputShape[2];
    this.addLayer('stem', 'conv', network.stem.kernel, inputChannels, network.stem.channels);
    for (const slot of this.slots) {
      const prefix = `stage${slot.stage}.block${slot.indexInStage}`;
      for (const operator of slot.operators) {
        const op = OPERATORS[operator];
        const key = (role: LayerRole) => `${prefix}/${operator}/${role}`;
        // Same family and expansion, same initial stream (see initialKernel).
        const seed = (role: LayerRole) => `${prefix}/${op.family}_e${op.expansion}/${role}`;
        const { maxInChannels: cin, maxOutChannels: cout } = slot;
        switch (op.family) {
          case 'skip':
            break;
          case 'conv':
            this.addLayer(key('conv'), 'conv', op.kernel, cin, cout, seed('conv'));
            break;
          case 'dwsep':
            this.addLayer(key('depthwise'), 'depthwise', op.kernel, cin, cin, seed('depthwise'));
            this.addLayer(key('pointwise'), 'conv', 1, cin, cout, seed('pointwise'));
            break;
          case 'mbconv': {
            const hidden = cin * op.expansion;
            if (op.expansion > 1) this.addLayer(key('expand'), 'conv', 1, cin, hidden, seed('expand'));
            this.addLayer(key('depthwise'), 'depthwise', op.kernel, hidden, hidden, seed('depthwise'));
            this.addLayer(key('project'), 'conv', 1, hidden, cout, seed('project'));
            break;
          }
        }
      }
    }
    const lastWidth = this.slots.length
      ? this.slots[this.slots.length - 1]!.maxOutChannels
      : network.stem.channels;
    let features = lastWidth;
    if (network.head.channels !== undefined) {
      this.addLayer('head.conv', 'conv', 1, features, network.head.channels);
      features = network.head.channels;
    }
    this.addLayer('head.classifier', 'dense', 1, features, network.numClasses);
  }

  private addVariable(name: string, initial: tf.Tensor, trainable: boolean): tf.Variable {
    const variable = tf.tidy(() => tf.variable(initial, trainable, `${this.prefix}/${name}`));
    initial.dispose();
    this.variables.set(name, variable);
    this.stableNames.set(variable.name, name);
    return variable;
  }

  /**
   * He-normal (He et al. 2015) at the allocated (widest) fan-in. With `alignedInitialization`, a kernel
   * is drawn from a stream named by its slot, family, expansion and role — not by its kernel size — and a
   * k×k kernel with k > 3 gets the 3×3 core of that stream at its centre and zeros around it. So conv3
   * and conv5 of one slot (and mbconv3_e3 and mbconv5_e3) start out as the same function, and the layers
   * after them see the same features whichever was sampled: with independently drawn choices, every
   * choice starts with its own random channel semantics, and a few-epoch supernet spends most of its
   * budget making them agree. Each operator still owns and trains its own weights (SPOS choice blocks).
   */
  private initialKernel(key: string, seedName: string, shape: number[], kind: LayerKind): tf.Tensor {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (kind === 'dense') {
      const rng = new Rng(deriveSeed(this.options.seed, 'init', seedName));
      const std = Math.sqrt(2 / shape[0]!);
      for (let i = 0; i < values.length; i++) values[i] = rng.normal() * std;
      return tf.tensor(values, shape);
    }
    const [k, , cin, cout] = shape as [number, number, number, number];
    const core = this.options.alignedInitialization ? Math.min(k, 3) : k;
    const fanIn = kind === 'conv' ? core * core * cin : core * core;
    const std = Math.sqrt(2 / fanIn);
    const rng = new Rng(
      deriveSeed(this.options.seed, 'init', this.options.alignedInitialization ? seedName : key),
    );
    const offset = (k - core) / 2;
    for (let i = 0; i < core; i++) {
      for (let j = 0; j < core; j++) {
        const base = ((i + offset) * k + (j + offset)) * cin * cout;
        for (let c = 0; c < cin * cout; c++) values[base + c] = rng.normal() * std;
      }
    }
    return tf.tensor(values, shape);
  }

  private addLayer(
    key: string,
    kind: LayerKind,
    kernel: number,
    cin: number,
    cout: number,
    seedName = key,
  ): void {
    const shape =
      kind === 'conv'
        ? [kernel, kernel, cin, cout]
        : kind === 'depthwise'
          ? [kernel, kernel, cin, 1]
          : [cin, cout];
    const params: WeightLayerParams = {
      key,
      kind,
      kernel: this.addVariable(
        `${key}/kernel`,
        this.initialKernel(`${key}/kernel`, `${seedName}/kernel`, shape, kind),
        true,
      ),
      batchNorm: null,
      bias: null,
      inputRange: this.addVariable(`${key}/input_range`, tf.scalar(0), false),
      // Only with the option, so checkpoints of supernets trained without it keep their variable names.
      lowBitInputRange: this.options.lowBitRangeClipping
        ? this.addVariable(`${key}/input_range_low_bits`, tf.scalar(0), false)
        : null,
    };
    if (kind === 'dense') {
      params.bias = this.addVariable(`${key}/bias`, tf.zeros([cout]), true);
    } else {
      params.batchNorm = {
        gamma: this.addVariable(`${key}/bn/gamma`, tf.ones([cout]), true),
        beta: this.addVariable(`${key}/bn/beta`, tf.zeros([cout]), true),
        runningMean: this.addVariable(`${key}/bn/running_mean`, tf.zeros([cout]), false),
        runningVariance: this.addVariable(`${key}/bn/running_variance`, tf.ones([cout]), false),
      };
    }
    this.layers.set(key, params);
  }

  // -------------------------------------------------------------------------------------------------
  // Paths
  // -------------------------------------------------------------------------------------------------

  /** The stable name (a key of `variables`) of a tf.Variable's registered name. */
  stableNameOf(registeredName: string): string | undefined {
    return this.stableNames.get(registeredName);
  }

  /** The variables the optimizer trains (weights, BatchNorm scale and shift, classifier bias). */
  trainableVariables(): tf.Variable[] {
    return [...this.variables.values()].filter((variable) => variable.trainable);
  }

  /** Parameter count of the whole supernet (every operator at its widest), trainable only. */
  parameterCount(): number {
    return this.trainableVariables().reduce((sum, variable) => sum + variable.size, 0);
  }

  /**
   * The path of training step `step`: the fixed path when one is set, else the largest path on a
   * `largestPathShare` of the steps, else the uniformly sampled path of the step (SPOS).
   */
  pathForStep(step: number): PathSpec {
    if (this.fixedPath) return this.fixedPath;
    const share = this.options.largestPathShare;
    if (share > 0 && new Rng(deriveSeed(this.options.seed, 'largest-path', step)).next() < share)
      return this.largest;
    return this.sampler.pathForStep(step);
  }

  /**
   * The largest path: the search's largest network (search/space/adapters.ts largestNetworkGenome: widest widths,
   * most bits, in every slot the operator with the most multiply-accumulates per image). It must be the
   * same network: the sandwich rule trains it on `largestPathShare` of the steps, the trainer validates
   * it, and the search opens its first generation with it. Counting MACs per output pixel instead (as
   * this did) ignores that an inverted residual's expansion runs before its stride, picks conv3 over
   * mbconv3_e3 in a strided slot, and trains a path the search never proposes.
   */
  largestPath(): Candidate {
    const layout = buildLayout(this.space);
    return decode(this.space, largestNetworkGenome(this.space, new Array<number>(layout.length).fill(0)));
  }

  /**
   * The smallest path, the other end of the sandwich: every bit width, width and (where numeric) every
   * network gene at its lowest value, and in every slot the operator with the fewest multiply-accumulates
   * per image (as largestPath, counted on the whole network; ties keep the first choice).
   */
  smallestPath(): Candidate {
    const layout = buildLayout(this.space);
    const genome = new Array<number>(layout.length).fill(0);
    for (const slot of layout.blockSlots) {
      let best = 0;
      let bestMacs = Number.POSITIVE_INFINITY;
      for (let choice = 0; choice < layout.genes[slot.operatorGene]!.cardinality; choice++) {
        genome[slot.operatorGene] = choice;
        const { architecture, quantization } = decode(this.space, genome);
        const macs = macsPerImage(layerShapes(architecture, quantization));
        if (macs < bestMacs) [best, bestMacs] = [choice, macs];
      }
      genome[slot.operatorGene] = best;
    }
    return decode(this.space, genome);
  }

  /** Throws PathMismatchError naming every way `path` does not fit this supernet. */
  checkPath(path: PathSpec): void {
    const problems = pathFitProblems(path, this.space, this.slots);
    if (problems.length > 0)
      throw new PathMismatchError(`path does not fit the supernet: ${problems.join('; ')}`);
  }

  private paramsOf(layer: PathLayer): WeightLayerParams {
    const key =
      layer.slot === null
        ? layer.name
        : `${layer.name.slice(0, layer.name.lastIndexOf('.'))}/${layer.operator}/${layer.role}`;
    const params = this.layers.get(key);
    if (!params) throw new PathMismatchError(`the supernet has no weights ${key} for layer ${layer.name}`);
    return params;
  }

  // -------------------------------------------------------------------------------------------------
  // Forward
  // -------------------------------------------------------------------------------------------------

  /**
   * Logits [n, numClasses] of one path. Training mode: batch-statistics BatchNorm, fake quantization with
   * straight-through gradients, activation-range updates and the weight-noise hook. Evaluation mode: see
   * EvaluationMode; 'folded' and 'running' need recalibrateBatchNorm(path) first.
   */
  forwardPath(images: tf.Tensor4D, path: PathSpec, options: ForwardOptions): tf.Tensor2D {
    this.checkPath(path);
    if (options.training) {
      if (this.weightNoise && options.step === undefined) {
        throw new Error('forwardPath: training with a weight-noise hook needs options.step');
      }
      const quantize = options.quantize ?? this.options.quantize;
      return this.run(images, path, { kind: 'train', step: options.step }, quantize);
    }
    const evaluation = options.evaluation ?? 'folded';
    // Evaluation is quantized unless asked otherwise, whatever the training did: what counts is the chip.
    const quantize = options.quantize ?? true;
    if (evaluation === 'folded' && !quantize) {
      throw new Error("forwardPath: 'folded' evaluation is always quantized (it is what the chip runs)");
    }
    if (
      evaluation !== 'batch' &&
      !options.allowUncalibrated &&
      this.calibratedKey !== calibrationKey(path, quantize)
    ) {
      throw new UncalibratedPathError(
        `the BatchNorm statistics were not recalibrated for this path${quantize ? '' : ' without quantization'} since the weights last changed: call recalibrateBatchNorm(path, batches${quantize ? '' : ', { quantize: false }'}) first (SPOS §3.4)`,
      );
    }
    if (evaluation === 'folded') {
      return forwardFolded(this.extractSubnet(path, { allowUncalibrated: true }), images);
    }
    return this.run(images, path, { kind: evaluation }, quantize);
  }

  private run(images: tf.Tensor4D, path: PathSpec, mode: ForwardMode, quantize: boolean): tf.Tensor2D {
    const layers = describePath(path.architecture, path.quantization);
    return tf.tidy(() =>
      executePath(path.architecture, layers, images, (layer, input) =>
        this.runLayer(layer, input, mode, quantize),
      ),
    );
  }

  /** The activation-range EMA after one observation: seeded by the first, then momentum-smoothed. */
  private rangeUpdate(range: tf.Tensor, observed: tf.Tensor): tf.Scalar {
    const momentum = this.options.rangeMomentum;
    return tf.where(
      tf.greater(range, 0),
      tf.add(tf.mul(range, momentum), tf.mul(observed, 1 - momentum)),
      observed,
    ) as tf.Scalar;
  }

  /**
   * Calls `compute` with the activation-range updates of its training forwards recorded instead of
   * assigned: every weight layer's observed maxima, in the order the forwards observed them (a step with
   * in-place distillation observes a shared layer twice: teacher, then student). This is how a gradient
   * shard runs: its result must not depend on which process computed it or on the shards before it.
   */
  recordingRanges<T>(compute: () => T): { result: T; observed: ObservedRanges } {
    if (this.rangeRecording) throw new Error('recordingRanges: already recording');
    const recording = { observed: new Map<string, number[]>(), pending: new Map<string, tf.Scalar>() };
    this.rangeRecording = recording;
    try {
      return { result: compute(), observed: recording.observed };
    } finally {
      this.rangeRecording = null;
      tf.dispose([...recording.pending.values()]);
    }
  }

  /**
   * Applies recorded observations as the unsharded step would have: per layer and per observation index,
   * the maximum over the shards (the maximum of the whole batch), then the EMA update in order. Every
   * replica calling this with the same shards gets bit-identical ranges.
   */
  applyObservedRanges(shards: readonly ObservedRanges[]): void {
    const first = shards[0];
    if (!first) return;
    for (const [key, observations] of first) {
      const clipped = key.endsWith(LOW_BIT_RANGE_KEY_SUFFIX);
      const layerKey = clipped ? key.slice(0, -LOW_BIT_RANGE_KEY_SUFFIX.length) : key;
      const params = this.layers.get(layerKey);
      if (!params) throw new Error(`applyObservedRanges: no weight layer ${layerKey}`);
      const range = clipped ? params.lowBitInputRange : params.inputRange;
      if (!range) throw new Error(`applyObservedRanges: layer ${layerKey} has no clipped range`);
      observations.forEach((_, index) => {
        let maximum = -Infinity;
        for (const shard of shards) {
          const value = shard.get(key)?.[index];
          if (value === undefined)
            throw new Error(`applyObservedRanges: a shard lacks observation ${index} of layer ${key}`);
          maximum = Math.max(maximum, value);
        }
        tf.tidy(() => range.assign(this.rangeUpdate(range, tf.scalar(maximum))));
      });
    }
    this.calibratedKey = null;
  }

  private runLayer(layer: PathLayer, input: tf.Tensor, mode: ForwardMode, quantize: boolean): tf.Tensor {
    const params = this.paramsOf(layer);
    const { kind, stride, outChannels } = layer.shape;
    const { lowest, highest } = activationLevels(layer.bits.activationBits, layer.inputSigned);
    const clipped = this.clipsRange(params, layer);
    const inputRange = clipped ? params.lowBitInputRange! : params.inputRange;

    // Running max of the input (Jacob et al. 2018 §3.1): an exponential moving average of the batch max,
    // seeded by the first batch, updated on every training step that uses this layer. A clipped range
    // averages the batch's least-squared-error clip instead (SupernetOptions.lowBitRangeClipping).
    const observeRange = (observedInput: tf.Tensor): tf.Scalar => {
      const max = (layer.inputSigned ? tf.max(tf.abs(observedInput)) : tf.max(observedInput)) as tf.Scalar;
      const observed = clipped ? leastErrorClip(observedInput, max, lowest, highest) : max;
      const recording = this.rangeRecording;
      if (recording) {
        // A gradient shard: the EMA this shard's forward quantizes with is its own (a function of its
        // micro-batch alone), and the variable is left as it is; the trainer combines the shards'
        // observations (max over shards) and applies the EMA once (applyObservedRanges). A clipped
        // range is recorded under a key of its own: it updates lowBitInputRange.
        const key = clipped ? params.key + LOW_BIT_RANGE_KEY_SUFFIX : params.key;
        const previous: tf.Tensor = recording.pending.get(key) ?? inputRange;
        const updated = this.rangeUpdate(previous, observed);
        const seen = recording.observed.get(key) ?? [];
        seen.push(observed.dataSync()[0]!);
        recording.observed.set(key, seen);
        recording.pending.get(key)?.dispose();
        recording.pending.set(key, tf.keep(updated.clone()));
        return updated;
      }
      const updated = this.rangeUpdate(inputRange, observed);
      inputRange.assign(updated);
      return updated;
    };
    let x = input;
    if (mode.kind === 'train') {
      // Off the gradient path when not quantizing, the update is a side effect tfjs does not differentiate.
      if (quantize) x = fakeQuantizeActivation(input, observeRange, lowest, highest);
      else observeRange(input);
    } else if (quantize) {
      const step = tf.div(tf.maximum(inputRange, MIN_QUANTIZATION_RANGE), highest) as tf.Scalar;
      x = quantizeToGrid(input, step, lowest, highest);
    }

    let kernel: tf.Tensor = tf.slice(
      params.kernel,
      new Array<number>(params.kernel.rank).fill(0),
      kernelSliceSize(layer),
    );
    if (quantize) kernel = fakeQuantizeWeights(kernel, kind, layer.bits.weightBits);
    if (mode.kind === 'train' && this.weightNoise) {
      kernel = this.weightNoise(layer.name, kernel, { step: mode.step!, kind });
    }
    const z = linear(kind, x, kernel, stride);

    if (params.bias) return tf.add(z, tf.slice(params.bias, [0], [outChannels]));
    const bn = params.batchNorm!;
    const gamma = tf.slice(bn.gamma, [0], [outChannels]) as tf.Tensor1D;
    const beta = tf.slice(bn.beta, [0], [outChannels]) as tf.Tensor1D;
    const epsilon = this.options.batchNormEpsilon;
    switch (mode.kind) {
      case 'train':
        return batchNormTraining(z, gamma, beta, { epsilon });
      case 'batch':
      case 'calibrate': {
        const { mean, variance } = tf.moments(z, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
        if (mode.kind === 'calibrate') mode.record(params.key, mean, variance, z.size / outChannels);
        return tf.batchNorm(z, mean, variance, beta, gamma, epsilon);
      }
      case 'running': {
        const mean = tf.slice(bn.runningMean, [0], [outChannels]) as tf.Tensor1D;
        const variance = tf.slice(bn.runningVariance, [0], [outChannels]) as tf.Tensor1D;
        return tf.batchNorm(z, mean, variance, beta, gamma, epsilon);
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // TrainableModel
  // -------------------------------------------------------------------------------------------------

  /** Mean cross-entropy of the path of training step `step` (see pathForStep). */
  loss(x: tf.Tensor4D, labels: tf.Tensor1D, step: number): tf.Scalar {
    const path = this.pathForStep(step);
    // Training changes the weights: the recalibrated statistics no longer describe them.
    this.calibratedKey = null;
    const isLargest = pathKey(path) === pathKey(this.largest);
    if (
      !this.options.inPlaceDistillation ||
      this.fixedPath ||
      (isLargest && !this.options.sandwichSmallestPath)
    ) {
      return tf.tidy(() => crossEntropy(this.forwardPath(x, path, { training: true, step }), labels));
    }
    return tf.tidy(() => {
      const teacherLogits = this.forwardPath(x, this.largest, { training: true, step });
      const teacher = stopGradient(tf.softmax(teacherLogits));
      // The sampled path (unless it is the teacher itself), and the smallest path with the sandwich rule.
      const students = isLargest ? [] : [path];
      if (this.options.sandwichSmallestPath && pathKey(path) !== pathKey(this.smallest))
        students.push(this.smallest);
      let total = crossEntropy(teacherLogits, labels);
      for (const student of students) {
        const logits = this.forwardPath(x, student, { training: true, step });
        total = tf.add(total, tf.losses.softmaxCrossEntropy(teacher, logits)) as tf.Scalar;
      }
      return total;
    });
  }

  /**
   * Logits of the evaluation path: the deployed (folded) arithmetic when its statistics were recalibrated
   * since the last training step, else BatchNorm on the batch's own statistics (so the trainer's
   * validation accuracy works without a recalibration; with evaluation batches of hundreds of images the
   * two agree closely).
   */
  logits(x: tf.Tensor4D): tf.Tensor2D {
    const path = this.evaluationPath;
    const calibrated = this.calibratedKey === calibrationKey(path, true);
    return this.forwardPath(x, path, { training: false, evaluation: calibrated ? 'folded' : 'batch' });
  }

  // -------------------------------------------------------------------------------------------------
  // BatchNorm recalibration
  // -------------------------------------------------------------------------------------------------

  /**
   * Sets the running statistics of every BatchNorm on `path` to the path's statistics over `batches`
   * (training images, NHWC), computed exactly over all their images: mean = E[x], variance =
   * E[x²] − E[x]², each batch weighted by its size. The forward passes use batch statistics, as in training
   * (SPOS §3.4 recalibrates this way before evaluating a path). Statistics of other paths sharing these
   * layers are overwritten: recalibrate before each evaluation.
   */
  recalibrateBatchNorm(
    path: PathSpec,
    batches: Iterable<tf.Tensor4D>,
    options: { quantize?: boolean } = {},
  ): void {
    const quantize = options.quantize ?? true;
    this.checkPath(path);
    const sums = new Map<string, { mean: tf.Tensor1D; square: tf.Tensor1D; count: number }>();
    const record = (key: string, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number) => {
      const previous = sums.get(key);
      const weightedMean = tf.mul(mean, count) as tf.Tensor1D;
      const weightedSquare = tf.mul(tf.add(variance, tf.square(mean)), count) as tf.Tensor1D;
      const next = {
        mean: tf.keep(previous ? (tf.add(previous.mean, weightedMean) as tf.Tensor1D) : weightedMean),
        square: tf.keep(previous ? (tf.add(previous.square, weightedSquare) as tf.Tensor1D) : weightedSquare),
        count: (previous?.count ?? 0) + count,
      };
      if (previous) tf.dispose([previous.mean, previous.square]);
      sums.set(key, next);
    };
    let batchCount = 0;
    for (const images of batches) {
      tf.dispose(this.run(images, path, { kind: 'calibrate', record }, quantize));
      batchCount++;
    }
    if (batchCount === 0) throw new Error('recalibrateBatchNorm: no batches given');
    for (const [key, sum] of sums) {
      const bn = this.layers.get(key)!.batchNorm!;
      tf.tidy(() => {
        const mean = tf.div(sum.mean, sum.count);
        const variance = tf.relu(tf.sub(tf.div(sum.square, sum.count), tf.square(mean)));
        writeLeading(bn.runningMean, mean as tf.Tensor1D);
        writeLeading(bn.runningVariance, variance as tf.Tensor1D);
      });
      tf.dispose([sum.mean, sum.square]);
    }
    this.calibratedKey = calibrationKey(path, quantize);
  }

  /** Whether `path`'s BatchNorm statistics are recalibrated for the current weights. */
  isCalibrated(path: PathSpec, options: { quantize?: boolean } = {}): boolean {
    return this.calibratedKey === calibrationKey(path, options.quantize ?? true);
  }

  /** Forgets the recalibration (call after changing the weights from outside, e.g. restoreVariables). */
  invalidateCalibration(): void {
    this.calibratedKey = null;
  }

  // -------------------------------------------------------------------------------------------------
  // Subnet extraction
  // -------------------------------------------------------------------------------------------------

  /**
   * The path as the chip receives it: for every weight layer, BatchNorm folded in with the recalibrated
   * running statistics (g = γ/√(σ² + ε): kernel·g, bias β − μ·g), the kernel on its per-output-channel
   * weight grid (levels in [−L, L], weightScale = step·|g|, the sign of g moved into the levels so scales
   * stay positive), the input step from the activation range.
   */
  extractSubnet(path: PathSpec, options: { allowUncalibrated?: boolean } = {}): FoldedNetwork {
    this.checkPath(path);
    if (!options.allowUncalibrated && this.calibratedKey !== calibrationKey(path, true)) {
      throw new UncalibratedPathError(
        'extractSubnet folds the running BatchNorm statistics, which were not recalibrated for this path: call recalibrateBatchNorm(path, batches) first',
      );
    }
    const layers = describePath(path.architecture, path.quantization).map((layer) => this.foldLayer(layer));
    return {
      architecture: structuredClone(path.architecture),
      quantization: structuredClone(path.quantization),
      layers,
    };
  }

  private foldLayer(layer: PathLayer): FoldedLayer {
    const params = this.paramsOf(layer);
    const range = this.clipsRange(params, layer) ? params.lowBitInputRange! : params.inputRange;
    return foldWeightLayer(params, layer, this.options.batchNormEpsilon, range);
  }

  /** Whether `layer`'s input range is the clipped low-bit one (SupernetOptions.lowBitRangeClipping). */
  private clipsRange(params: WeightLayerParams, layer: PathLayer): boolean {
    return params.lowBitInputRange !== null && layer.bits.activationBits <= LOW_BIT_ACTIVATION_BITS;
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
    this.layers.clear();
  }
}

/**
 * The clip among CLIP_FRACTIONS·`max` whose grid [lowest, highest]·clip/highest quantizes `x` with the
 * least squared error (a scalar tensor; no data leaves the backend).
 */
export function leastErrorClip(x: tf.Tensor, max: tf.Scalar, lowest: number, highest: number): tf.Scalar {
  return tf.tidy(() => {
    const clips = tf.mul(tf.tensor1d(CLIP_FRACTIONS), tf.maximum(max, MIN_QUANTIZATION_RANGE));
    const errors = CLIP_FRACTIONS.map((_, i) => {
      const clip = tf.squeeze(tf.slice(clips, [i], [1])) as tf.Scalar;
      const step = tf.div(clip, highest) as tf.Scalar;
      return tf.sum(tf.square(tf.sub(x, quantizeToGrid(x, step, lowest, highest))));
    });
    return tf.squeeze(tf.gather(clips, tf.argMin(tf.stack(errors)))) as tf.Scalar;
  });
}
