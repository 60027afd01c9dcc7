/**
 * The chip simulator as it was before the speed work of issue #16 (hardware/analog/chip.ts at d49010a),
 * kept verbatim apart from its import paths: the reference the product's simulator must reproduce
 * (test/hardware/chipReference.test.ts: seeded outputs equal) and the baseline its speed is measured
 * against in the same run (bench/robustness.ts: speedup_vs_reference). Not used by the product.
 */
/**
 * The simulated analog chip: a FoldedNetwork's weight layers mapped onto crossbars of the candidate's
 * hardware, sampled Monte-Carlo, and exposed as the LinearOp that models/inference runs the network with.
 *
 * Mapping (docs/hardware-model.md §Mapping, hardware/mapping.ts): a conv layer's kernel is a (Cin·K²) ×
 * Cout matrix, rows in (kh, kw, cin) order, split into row chunks of `hw.rows` rows; each chunk is one
 * array's worth of word lines and produces its own partial sums. Column tiling does not change any sum (no wire resistance is
 * modelled), so columns are not split. Dense = conv with K = 1. Depthwise layers are packed block-diagonally
 * as hardware/mapping.ts describes: ⌊rows/K²⌋ channels (limited by columns) share an array, each channel's
 * K² rows feeding only its own columns through programmed cells — the off-diagonal cells sit at level 0 but
 * are real cells, so their programming error, stuck-at faults and read noise leak into the other channels'
 * sums. A kernel taller than the array gets one array per channel, split in row chunks.
 *
 * Computation (the formulation, and why): for every array, every input cycle and every weight slice the
 * chip forms one partial sum per column and the ADC converts it; the digital periphery shift-adds.
 * Simulated literally that is one tiny MVM per (pixel, cycle, slice, array). We compute the same numbers
 * as one dense matrix product per array: the im2col patches of a batch are expanded into their DAC cycles
 * and stacked along the batch axis ([cycles·pixels, rows of the chunk]), the slices of every weight are
 * laid side by side along the column axis ([rows, slices·Cout], one matrix per Monte-Carlo sample, in
 * level units of each slice, noise included), and one tf.matMul gives every (cycle, pixel, slice, column)
 * partial sum at once. A single pass over that product then adds the per-read noise, applies the ADC
 * transfer and shift-adds with weights 2^(input shift)·2^(slice shift). This is exactly the bit-serial,
 * bit-sliced result, not an approximation, at the cost of cycles × slices times the digital MACs.
 * Per-read noise is added per (read, column) from its exact distribution: a sum of independent cell
 * read noises is Gaussian with variance σ²·Σ_rows x², so no per-cell draw is needed (draws come from a
 * per-chip pool of normals, see ReadNoise). Alternatives considered (by their arithmetic, not timed):
 * one product per cycle (the same MACs, cycles× the op dispatches and transfers), and a convolution per row
 * chunk (a chunk rarely aligns with (kh, kw) boundaries, so each would run the whole kernel with zeros
 * outside its rows: rowTiles× the MACs). Measured on the demo network: the products run at ~4–8 GMAC/s on
 * wasm and the per-read JavaScript pass (noise, ADC, shift-add) costs about as much again.
 * When the ADC is ideal and there is no per-read noise the transfer is linear: cycles and slices then fold
 * into one product with the effective weights Σ_s 2^shift_s·W_s (same result, ~cycles·slices× faster).
 *
 * Batching Monte-Carlo samples: a chip built for N seeds takes a batch of N·B images, sample-major (sample
 * n owns rows n·B … n·B + B − 1) and applies sample n's cells to its rows. Where every sample receives the
 * same input (the first layer, when the evaluator replicates the images) the im2col expansion is shared and
 * the N samples' weight matrices are concatenated along the columns: one product serves them all.
 *
 * Units and exactness: cell targets and errors are tracked in level units of each slice (target level +
 * (G − G_target)/(level spacing)), so with zero noise every partial sum is an exact integer and an ideal
 * chip reproduces the digital layer bit for bit before the final float scaling.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../../common/rng';
import type { FoldedLayer, LinearOp } from '../../hardware/folded';
import type { FoldedNetwork } from '../../models/folded';
import type { DeviceParams } from '../../hardware/devices';
import { DEFAULT_LIBRARY, getDevice, type HardwareLibrary } from '../../hardware/library';
import type { HardwareConfig } from '../../hardware/types';
import { sampleConductances } from '../../hardware/noise/models';
import { fillStandardNormal, streamFor } from '../../hardware/noise/random';
import {
  type CellNoiseModel,
  type NoiseSettings,
  resolveCellNoiseForDevice,
} from '../../hardware/noise/settings';
import {
  PartialSumHistogram,
  adcTransfer,
  mseOptimalRange,
  type AdcTransfer,
} from '../../hardware/analog/adc';
import {
  type InputLayout,
  type SliceLayout,
  inputChunk,
  inputLayout,
  inputLevelRange,
  maxInputChunk,
  maxWeightLevel,
  sliceLayout,
  sliceWeight,
} from '../../hardware/analog/encoding';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

/** One array's share of a layer: a contiguous range of im2col rows feeding a contiguous range of outputs. */
export interface ArrayBlock {
  rowStart: number;
  rowCount: number;
  outStart: number;
  outCount: number;
}

interface BlockPlan extends ArrayBlock {
  /** Target levels of the G+ (or offset-code) cells, (row, slice, out) order. */
  levelsPositive: Uint8Array;
  /** Target levels of the G− cells (differential pairs only). */
  levelsNegative: Uint8Array | null;
  /** Offset of this block's cells in the layer's cell vector (positive cells, then negative ones). */
  cellOffset: number;
  /** Weight matrix of the noise-free chip, [rowCount, slices·outCount], level units. */
  idealWeights: Float32Array;
  /** Output channel owning each row (depthwise); null when every row feeds every output (conv, dense). */
  rowOwner: Int32Array | null;
}

export interface LayerPlan {
  index: number;
  layer: FoldedLayer;
  kind: FoldedLayer['shape']['kind'];
  kernelH: number;
  kernelW: number;
  stride: number;
  inChannels: number;
  outChannels: number;
  /** im2col width: Cin·K² (conv), C·K² (depthwise), Cin (dense). */
  rowsTotal: number;
  slices: SliceLayout;
  input: InputLayout;
  blocks: BlockPlan[];
  cellCount: number;
  /** Largest |partial sum| physically possible in any read of this layer. */
  worstCasePartialSum: number;
  /** Signed partial sums (differential pairs or signed inputs) → a bipolar ADC. */
  signedPartialSums: boolean;
  /** Calibrated |partial sum| range (null until calibrateAdc runs). */
  calibratedRange: number | null;
  adc: AdcTransfer;
}

export interface ChipProgramOptions {
  library?: HardwareLibrary;
  /**
   * Upper bound on the floats of one expanded input block ([cycles·pixels, rows]); bounds memory per call.
   * Default 2^22 (16 MB).
   */
  maxBlockFloats?: number;
}

export class AnalogChipError extends Error {
  override name = 'AnalogChipError';
}

/**
 * A network programmed onto a chip design: the mapping, the target cell levels and the ADC ranges. Shared
 * by every Monte-Carlo sample of one candidate (build it once, sample it many times).
 */
export class ChipProgram {
  readonly device: DeviceParams;
  readonly model: CellNoiseModel;
  readonly plans: LayerPlan[];
  private readonly byName = new Map<string, LayerPlan>();
  private readonly byLayer = new Map<FoldedLayer, LayerPlan>();
  readonly maxBlockFloats: number;

  constructor(
    readonly network: FoldedNetwork,
    readonly hw: HardwareConfig,
    readonly noise: NoiseSettings,
    options: ChipProgramOptions = {},
  ) {
    this.device = getDevice(options.library ?? DEFAULT_LIBRARY, hw.device);
    this.model = resolveCellNoiseForDevice(this.device, noise);
    this.maxBlockFloats = options.maxBlockFloats ?? 1 << 22;
    for (const key of ['rows', 'cols', 'adcBits', 'dacBits', 'bitsPerCell'] as const) {
      if (!(Number.isInteger(hw[key]) && hw[key] >= 1))
        throw new AnalogChipError(`hardware.${key}: must be a positive integer, got ${hw[key]}`);
    }
    this.plans = network.layers.map((layer, index) => this.planLayer(layer, index));
    for (const plan of this.plans) {
      this.byName.set(plan.layer.shape.name, plan);
      this.byLayer.set(plan.layer, plan);
    }
  }

  planFor(layer: FoldedLayer): LayerPlan {
    const plan = this.byLayer.get(layer) ?? this.byName.get(layer.shape.name);
    if (!plan) throw new AnalogChipError(`layer "${layer.shape.name}" is not part of the programmed network`);
    return plan;
  }

  /** Cells the chip holds (both cells of every pair, off-diagonal depthwise cells included). */
  get cellCount(): number {
    return this.plans.reduce((sum, plan) => sum + plan.cellCount, 0);
  }

  /**
   * Calibrates every layer's ADC range from noise-free partial sums: `runNetwork` must run the network on
   * the calibration images with the LinearOp it is given (e.g. `op => forwardFolded(net, images, op)`).
   */
  calibrateAdc(runNetwork: (linearOp: LinearOp) => void): void {
    // One histogram per read class (input cycle c, weight slice s) of every layer.
    const histograms = this.plans.map((plan) =>
      Array.from(
        { length: plan.input.widths.length * plan.slices.widths.length },
        () => new PartialSumHistogram(plan.worstCasePartialSum),
      ),
    );
    const chip = new AnalogChip(this, [], 0, { calibration: histograms });
    try {
      runNetwork(chip.linearOp);
    } finally {
      chip.dispose();
    }
    this.plans.forEach((plan, i) => {
      const classes = histograms[i]!;
      if (classes.every((histogram) => histogram.count === 0)) return; // layer never ran: keep its range
      const S = plan.slices.widths.length;
      let range: number;
      if (this.noise.adcRange === 'mse') {
        range = mseOptimalRange(
          classes.map((histogram, k) => ({
            histogram,
            // A read's error reaches the output multiplied by its shift-add weight 2^(input + slice shift).
            weight: 2 ** (plan.input.shifts[math.floor(k / S)]! + plan.slices.shifts[k % S]!),
          })),
          this.hw.adcBits,
          plan.signedPartialSums,
        );
      } else {
        const merged = new PartialSumHistogram(plan.worstCasePartialSum);
        for (const histogram of classes) merged.merge(histogram);
        range = merged.percentile(this.noise.adcRangePercentile);
      }
      plan.calibratedRange = math.max(1, range);
      plan.adc = adcTransfer(
        this.hw.adcBits,
        plan.signedPartialSums,
        plan.calibratedRange,
        this.noise.idealAdc,
      );
    });
  }

  /** ADC ranges as small JSON (to store with results, or to restore with setAdcRanges). */
  adcRanges(): Record<string, number | null> {
    return Object.fromEntries(this.plans.map((plan) => [plan.layer.shape.name, plan.calibratedRange]));
  }

  setAdcRanges(ranges: Record<string, number | null>): void {
    for (const plan of this.plans) {
      const range = ranges[plan.layer.shape.name];
      if (range === undefined || range === null) continue;
      plan.calibratedRange = range;
      plan.adc = adcTransfer(this.hw.adcBits, plan.signedPartialSums, range, this.noise.idealAdc);
    }
  }

  /** N chip instances (one per seed) at `timeS` seconds after programming, batched in one LinearOp. */
  sample(seeds: number[], timeS = 0): AnalogChip {
    if (seeds.length === 0) throw new AnalogChipError('sample: at least one seed is needed');
    return new AnalogChip(this, seeds, timeS, {});
  }

  /** The noise-free chip (every cell at its target) with this program's ADCs. */
  ideal(): AnalogChip {
    return new AnalogChip(this, [], 0, {});
  }

  private planLayer(layer: FoldedLayer, index: number): LayerPlan {
    const shape = layer.shape;
    const where = `layer ${shape.name}`;
    const hw = this.hw;
    const slices = sliceLayout(shape.weightBits, hw.bitsPerCell, this.device.differentialPairs);
    const input = inputLayout(shape.activationBits, layer.inputSigned, hw.dacBits);
    const kernelArea = shape.kernelH * shape.kernelW;
    const S = slices.widths.length;
    const levelMax = maxWeightLevel(shape.weightBits);

    // Integer weight levels, verified to lie on the layer's grid.
    const levelOf = (value: number, scale: number): number => {
      if (scale === 0) {
        if (value !== 0) throw new AnalogChipError(`${where}: weight ${value} with weightScale 0`);
        return 0;
      }
      const exact = value / scale;
      const level = math.floor(exact + 0.5);
      if (math.abs(exact - level) > 1e-3 || math.abs(level) > levelMax)
        throw new AnalogChipError(
          `${where}: kernel value ${value} is not on its ${shape.weightBits}-bit grid (step ${scale}, level ${exact})`,
        );
      return level;
    };

    let rowsTotal: number;
    let outChannels: number;
    const blocks: ArrayBlock[] = [];
    /** Weight level of (row, out), or null for an off-diagonal (unprogrammed, level-0) cell. */
    let weightAt: (row: number, out: number) => number;
    let rowOwnerOf: ((row: number) => number) | null = null;

    const expectShape = (expected: number[]) => {
      if (
        layer.kernelShape.length !== expected.length ||
        layer.kernelShape.some((d, i) => d !== expected[i]) ||
        layer.kernel.length !== expected.reduce((a, b) => a * b, 1)
      )
        throw new AnalogChipError(
          `${where}: kernelShape [${layer.kernelShape.join(', ')}] (${layer.kernel.length} values) does not match [${expected.join(', ')}]`,
        );
    };

    if (shape.kind === 'depthwise') {
      const C = shape.outChannels;
      expectShape([shape.kernelH, shape.kernelW, C, 1]);
      rowsTotal = C * kernelArea;
      outChannels = C;
      const levels = new Int32Array(C * kernelArea);
      for (let c = 0; c < C; c++)
        for (let k = 0; k < kernelArea; k++)
          levels[c * kernelArea + k] = levelOf(layer.kernel[k * C + c]!, layer.weightScale[c]!);
      weightAt = (row, out) => (math.floor(row / kernelArea) === out ? levels[row]! : 0);
      rowOwnerOf = (row) => math.floor(row / kernelArea);
      const columnsPerChannel = S * slices.cellsPerSlice;
      const perArray = math.min(math.floor(hw.rows / kernelArea), math.floor(hw.cols / columnsPerChannel));
      if (perArray >= 1) {
        for (let c0 = 0; c0 < C; c0 += perArray) {
          const n = math.min(perArray, C - c0);
          blocks.push({ rowStart: c0 * kernelArea, rowCount: n * kernelArea, outStart: c0, outCount: n });
        }
      } else {
        for (let c = 0; c < C; c++)
          for (let r0 = 0; r0 < kernelArea; r0 += hw.rows)
            blocks.push({
              rowStart: c * kernelArea + r0,
              rowCount: math.min(hw.rows, kernelArea - r0),
              outStart: c,
              outCount: 1,
            });
      }
    } else {
      const Cin = shape.inChannels;
      const Cout = shape.outChannels;
      if (shape.kind === 'dense') expectShape([Cin, Cout]);
      else expectShape([shape.kernelH, shape.kernelW, Cin, Cout]);
      rowsTotal = shape.kind === 'dense' ? Cin : Cin * kernelArea;
      outChannels = Cout;
      const levels = new Int32Array(rowsTotal * Cout);
      for (let r = 0; r < rowsTotal; r++)
        for (let o = 0; o < Cout; o++)
          levels[r * Cout + o] = levelOf(layer.kernel[r * Cout + o]!, layer.weightScale[o]!);
      weightAt = (row, out) => levels[row * Cout + out]!;
      for (let r0 = 0; r0 < rowsTotal; r0 += hw.rows)
        blocks.push({
          rowStart: r0,
          rowCount: math.min(hw.rows, rowsTotal - r0),
          outStart: 0,
          outCount: Cout,
        });
    }
    if (layer.weightScale.length !== outChannels)
      throw new AnalogChipError(
        `${where}: ${layer.weightScale.length} weight scales for ${outChannels} outputs`,
      );

    const positive: number[] = new Array<number>(S).fill(0);
    const negative: number[] = new Array<number>(S).fill(0);
    let cellOffset = 0;
    let maxRows = 0;
    const blockPlans: BlockPlan[] = blocks.map((block) => {
      const cols = S * block.outCount;
      const size = block.rowCount * cols;
      const levelsPositive = new Uint8Array(size);
      const levelsNegative = slices.encoding === 'differential' ? new Uint8Array(size) : null;
      const idealWeights = new Float32Array(size);
      for (let r = 0; r < block.rowCount; r++) {
        for (let o = 0; o < block.outCount; o++) {
          const row = block.rowStart + r;
          const out = block.outStart + o;
          const owned = rowOwnerOf === null || rowOwnerOf(row) === out;
          if (owned) sliceWeight(slices, weightAt(row, out), positive, negative);
          for (let s = 0; s < S; s++) {
            const index = r * cols + s * block.outCount + o;
            // Off-diagonal depthwise cells stay at level 0 on both polarities (not at the offset code).
            const p = owned ? positive[s]! : 0;
            const n = owned ? negative[s]! : 0;
            levelsPositive[index] = p;
            if (levelsNegative) levelsNegative[index] = n;
            idealWeights[index] = p - n;
          }
        }
      }
      let rowOwner: Int32Array | null = null;
      if (rowOwnerOf) {
        rowOwner = new Int32Array(block.rowCount);
        for (let r = 0; r < block.rowCount; r++) rowOwner[r] = rowOwnerOf(block.rowStart + r);
      }
      const plan: BlockPlan = {
        ...block,
        levelsPositive,
        levelsNegative,
        cellOffset,
        idealWeights,
        rowOwner,
      };
      cellOffset += size * slices.cellsPerSlice;
      maxRows = math.max(maxRows, block.rowCount);
      return plan;
    });

    const signedPartialSums = slices.encoding === 'differential' || input.signed;
    const worstCasePartialSum = maxRows * maxInputChunk(input) * math.max(...slices.maxLevels);
    return {
      index,
      layer,
      kind: shape.kind,
      kernelH: shape.kernelH,
      kernelW: shape.kernelW,
      stride: shape.stride,
      inChannels: shape.inChannels,
      outChannels,
      rowsTotal,
      slices,
      input,
      blocks: blockPlans,
      cellCount: cellOffset,
      worstCasePartialSum,
      signedPartialSums,
      calibratedRange: null,
      adc: adcTransfer(hw.adcBits, signedPartialSums, worstCasePartialSum, this.noise.idealAdc),
    };
  }
}

/** Target normalized conductances of a layer's cells, in its cell-vector order. */
export function layerTargetConductances(plan: LayerPlan, gMin: number): Float32Array {
  const targets = new Float32Array(plan.cellCount);
  const S = plan.slices.widths.length;
  for (const block of plan.blocks) {
    const cols = S * block.outCount;
    const size = block.rowCount * cols;
    for (let i = 0; i < size; i++) {
      const s = math.floor((i % cols) / block.outCount);
      const spacing = (1 - gMin) / plan.slices.maxLevels[s]!;
      targets[block.cellOffset + i] = gMin + block.levelsPositive[i]! * spacing;
      if (block.levelsNegative)
        targets[block.cellOffset + size + i] = gMin + block.levelsNegative[i]! * spacing;
    }
  }
  return targets;
}

/** One layer of one Monte-Carlo sample: its weight matrices and its drift-compensation factor. */
interface LayerInstance {
  /** Per block, [rowCount, slices·outCount] in level units (noise included). */
  weights: Float32Array[];
  /** Global drift compensation factor applied to the shift-added sums (1 when off). */
  driftCompensation: number;
  stuckCells: number;
}

interface SampleState {
  seed: number;
  layers: LayerInstance[];
  /** Per-read noise source of this sample (advances as the chip is read). */
  reads: ReadNoise;
}

/**
 * Per-read Gaussian noise at the rate the hot loop needs (one draw per column read, ~10^5 per image):
 * a pool of 2^16 N(0, 1) values drawn once per chip from its seed, indexed by an inline xorshift32 stream
 * (Marsaglia 2003). Draws are from the pool's empirical distribution — Gaussian to within sampling error,
 * tails cut near 4.3σ — at a few ns each instead of a Box–Muller/polar draw's ~25 ns.
 */
export class ReadNoise {
  static readonly POOL_BITS = 16;
  readonly pool: Float32Array;
  /** xorshift32 state; never 0. */
  state: number;

  constructor(seed: number) {
    this.pool = fillStandardNormal(
      streamFor(seed, 'read-noise-pool'),
      new Float32Array(1 << ReadNoise.POOL_BITS),
    );
    this.state = deriveSeed(seed, 'read-noise-stream') | 1;
  }
}

interface ChipInternals {
  /** Calibration mode: record |partial sums| per layer and read class (cycle·S + slice). */
  calibration?: PartialSumHistogram[][];
}

/** Statistics of the instances, for reports and tests. */
export interface ChipInstanceSummary {
  seed: number;
  stuckCells: number;
  driftCompensation: Record<string, number>;
}

/**
 * N sampled chips (or the noise-free chip when built with no seeds) behind one LinearOp. Call dispose()
 * when done: it frees the weight tensors.
 */
export class AnalogChip {
  readonly linearOp: LinearOp;
  private readonly samples: SampleState[];
  private readonly tensors = new Map<string, tf.Tensor2D>();
  private readonly perReadNoise: boolean;

  constructor(
    readonly program: ChipProgram,
    seeds: number[],
    readonly timeS: number,
    private readonly internals: ChipInternals,
  ) {
    const model = program.model;
    this.perReadNoise = model.readSigmaPerRead > 0 || model.outputNoisePerRow > 0;
    if (seeds.length === 0) {
      // The noise-free chip: every weight at its target level, exact.
      this.samples = [
        {
          seed: 0,
          layers: program.plans.map((plan) => ({
            weights: plan.blocks.map((block) => block.idealWeights),
            driftCompensation: 1,
            stuckCells: 0,
          })),
          reads: new ReadNoise(0),
        },
      ];
      this.perReadNoise = false;
    } else {
      this.samples = seeds.map((seed) => ({
        seed,
        layers: program.plans.map((plan) =>
          this.sampleLayer(plan, deriveSeed(seed, 'layer', plan.layer.shape.name)),
        ),
        reads: new ReadNoise(seed),
      }));
    }
    this.linearOp = (layer, input) => this.apply(layer, input);
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  summaries(): ChipInstanceSummary[] {
    return this.samples.map((sample) => ({
      seed: sample.seed,
      stuckCells: sample.layers.reduce((sum, layer) => sum + layer.stuckCells, 0),
      driftCompensation: Object.fromEntries(
        this.program.plans.map((plan, i) => [plan.layer.shape.name, sample.layers[i]!.driftCompensation]),
      ),
    }));
  }

  dispose(): void {
    for (const tensor of this.tensors.values()) tensor.dispose();
    this.tensors.clear();
  }

  private sampleLayer(plan: LayerPlan, seed: number): LayerInstance {
    const model = this.program.model;
    const gMin = model.gMin;
    const targets = layerTargetConductances(plan, gMin);
    const sampled = sampleConductances(model, targets, seed, this.timeS);
    const S = plan.slices.widths.length;
    const toWeights = (g: Float32Array): Float32Array[] =>
      plan.blocks.map((block) => {
        const cols = S * block.outCount;
        const size = block.rowCount * cols;
        const weights = new Float32Array(size);
        for (let i = 0; i < size; i++) {
          const s = math.floor((i % cols) / block.outCount);
          const levelsPerG = plan.slices.maxLevels[s]! / (1 - gMin);
          const p = block.cellOffset + i;
          let w = block.levelsPositive[i]! + (g[p]! - targets[p]!) * levelsPerG;
          if (block.levelsNegative)
            w -= block.levelsNegative[i]! + (g[p + size]! - targets[p + size]!) * levelsPerG;
          weights[i] = w;
        }
        return weights;
      });
    const weights = toWeights(sampled.atTime);
    let driftCompensation = 1;
    const drifts =
      model.driftScale > 0 &&
      (model.kind === 'aihwkit-pcm' || model.driftNuMean > 0 || model.driftNuSigma > 0);
    if (this.program.noise.driftCompensation && drifts && this.timeS > 0) {
      // aihwkit GlobalDriftCompensation: read the layer with an all-ones input right after programming and
      // at inference time; the ratio of the summed |outputs| rescales every output of the layer.
      const baseline = readout(plan, toWeights(sampled.programmed));
      const now = readout(plan, weights);
      driftCompensation = now > 0 ? baseline / now : 1;
    }
    return { weights, driftCompensation, stuckCells: sampled.stuckAtZero.length + sampled.stuckAtOne.length };
  }

  private tensorFor(key: string, build: () => tf.Tensor2D): tf.Tensor2D {
    let tensor = this.tensors.get(key);
    if (!tensor) {
      // Kept: the op usually runs inside the caller's tf.tidy, and these live as long as the chip.
      tensor = tf.keep(build());
      this.tensors.set(key, tensor);
    }
    return tensor;
  }

  /** The LinearOp: `input` holds N·B examples (sample-major) on the layer's input grid. */
  private apply(layer: FoldedLayer, input: tf.Tensor): tf.Tensor {
    const plan = this.program.planFor(layer);
    const N = this.samples.length;
    const total = input.shape[0]!;
    if (total % N !== 0)
      throw new AnalogChipError(
        `layer ${layer.shape.name}: batch ${total} is not a multiple of the ${N} Monte-Carlo samples this chip holds`,
      );
    const batch = total / N;
    const geometry = layerGeometry(plan, input.shape);
    const levels = inputLevels(plan, input.dataSync() as Float32Array);
    const perExample = levels.length / total;
    const out = new Float32Array(total * geometry.outPixels * plan.outChannels);
    const outPerExample = geometry.outPixels * plan.outChannels;

    const shared = N > 1 && replicated(levels, N);
    if (shared) {
      this.runBatch(
        plan,
        geometry,
        levels.subarray(0, batch * perExample),
        batch,
        [...this.samples.keys()],
        out,
        batch * outPerExample,
      );
    } else {
      for (let n = 0; n < N; n++) {
        const view = levels.subarray(n * batch * perExample, (n + 1) * batch * perExample);
        this.runBatch(plan, geometry, view, batch, [n], out.subarray(n * batch * outPerExample), 0);
      }
    }
    const outShape =
      plan.kind === 'dense'
        ? [total, plan.outChannels]
        : [total, geometry.outH, geometry.outW, plan.outChannels];
    return tf.tensor(out, outShape, 'float32');
  }

  /**
   * Runs `batch` examples through the layer for the samples `sampleIndices` (several only when they share
   * this input), writing sample k's outputs at `out[k·sampleStride …]`.
   */
  private runBatch(
    plan: LayerPlan,
    geometry: LayerGeometry,
    levels: Int32Array,
    batch: number,
    sampleIndices: number[],
    out: Float32Array,
    sampleStride: number,
  ): void {
    const program = this.program;
    const slices = plan.slices;
    const S = slices.widths.length;
    const cycles = plan.input.widths.length;
    const Cout = plan.outChannels;
    const M = batch * geometry.outPixels;
    const calibration = this.internals.calibration?.[plan.index];
    // Calibration reads the noise-free sums and passes them on unquantized, so every layer is calibrated
    // on the activations of the digital network.
    const adc = calibration ? { ...plan.adc, ideal: true } : plan.adc;
    const linear = adc.ideal && !this.perReadNoise && !calibration;
    const cyclesUsed = linear ? 1 : cycles;
    const samples = sampleIndices.length;
    const maxCols = math.max(...plan.blocks.map((b) => b.outCount)) * (linear ? 1 : S) * samples;
    const maxRows = math.max(...plan.blocks.map((b) => b.rowCount));
    const mBlock = math.max(
      1,
      math.min(M, math.floor(program.maxBlockFloats / (cyclesUsed * math.max(maxRows, maxCols)))),
    );

    const model = program.model;
    const readSigma = model.readSigmaPerRead * math.sqrt(slices.cellsPerSlice);
    // Output noise in read units: σ times one row's full product (the slice's top level × the top DAC value).
    const topInput = 2 ** math.max(...plan.input.widths) - 1;
    const withRead = this.perReadNoise && readSigma > 0;
    const withOutput = this.perReadNoise && model.outputNoisePerRow > 0;
    const sliceOutputSigma = Float64Array.from(slices.maxLevels, (levelsOfSlice) =>
      withOutput ? model.outputNoisePerRow * levelsOfSlice * topInput : 0,
    );
    const drawsPerRead = (withRead ? 1 : 0) + (withOutput ? 1 : 0);

    // The DAC value of every input level in every cycle, as a lookup table (levels span ≤ 2^a values).
    const { min: levelMin, max: levelMax } = inputLevelRange(plan.input);
    const levelSpan = levelMax - levelMin + 1;
    const chunkTable = new Float32Array(cyclesUsed * levelSpan);
    for (let c = 0; c < cyclesUsed; c++)
      for (let level = levelMin; level <= levelMax; level++)
        chunkTable[c * levelSpan + level - levelMin] = linear ? level : inputChunk(plan.input, level, c);

    // ADC transfer constants (inlined in the loop below) and the shift-add weight of every (cycle, slice).
    const ideal = adc.ideal;
    // An ideal readout passes sums through unscaled (its step plays no part).
    const step = ideal ? 1 : adc.step;
    const inverseStep = 1 / step;
    const codeMax = adc.codeMax;
    const codeMin = adc.signed ? -adc.codeMax : 0;
    const readWeights = new Float64Array(cycles * S);
    for (let c = 0; c < cycles; c++)
      for (let s = 0; s < S; s++)
        readWeights[c * S + s] = 2 ** plan.input.shifts[c]! * 2 ** slices.shifts[s]! * step;
    const sliceReadSigma = Float64Array.from(slices.maxLevels, (levelsOfSlice) => readSigma * levelsOfSlice);

    const patches = new Int32Array(mBlock * plan.rowsTotal);
    const acc = new Float64Array(mBlock * Cout * samples);
    const expandedBuffer = new Float32Array(cyclesUsed * mBlock * maxRows);
    const sumSquares = withRead ? new Float32Array(cyclesUsed * mBlock) : null;
    for (let m0 = 0; m0 < M; m0 += mBlock) {
      const mb = math.min(mBlock, M - m0);
      im2col(plan, geometry, levels, m0, mb, patches);
      acc.fill(0);
      for (let b = 0; b < plan.blocks.length; b++) {
        const block = plan.blocks[b]!;
        const rows = block.rowCount;
        // Expanded input [cyclesUsed·mb, rows], cycle-major, and Σ x² per read (per-read noise).
        const expanded = expandedBuffer.subarray(0, cyclesUsed * mb * rows);
        expandInput(
          patches,
          plan.rowsTotal,
          block.rowStart,
          rows,
          mb,
          cyclesUsed,
          chunkTable,
          levelSpan,
          levelMin,
          expanded,
          sumSquares,
        );
        const colsPerSample = (linear ? 1 : S) * block.outCount;
        const weights = this.blockWeights(plan, b, sampleIndices, linear);
        const product = tf.tidy(() => tf.matMul(tf.tensor2d(expanded, [cyclesUsed * mb, rows]), weights));
        const sums = product.dataSync() as Float32Array;
        product.dispose();
        if (calibration) recordPartialSums(calibration, sums, mb, S, block.outCount);
        const width = colsPerSample * samples;
        const outCount = block.outCount;
        for (let k = 0; k < samples; k++) {
          const accBase = k * mBlock * Cout + block.outStart;
          if (linear) {
            for (let m = 0; m < mb; m++) {
              const src = m * width + k * colsPerSample;
              const dst = accBase + m * Cout;
              for (let o = 0; o < outCount; o++) acc[dst + o]! += sums[src + o]!;
            }
            continue;
          }
          const noise = drawsPerRead > 0 ? this.samples[sampleIndices[k]!]!.reads : null;
          accumulateReads(
            sums,
            width,
            k * colsPerSample,
            acc,
            accBase,
            Cout,
            mb,
            cycles,
            S,
            outCount,
            readWeights,
            sumSquares,
            sliceReadSigma,
            noise,
            withRead,
            withOutput ? sliceOutputSigma : null,
            ideal,
            inverseStep,
            codeMin,
            codeMax,
          );
        }
      }
      // Digital periphery: drift compensation, offset-code correction, the weight and input steps.
      for (let k = 0; k < samples; k++) {
        digitalPeriphery(
          plan,
          acc,
          k * mBlock * Cout,
          patches,
          mb,
          this.samples[sampleIndices[k]!]!.layers[plan.index]!.driftCompensation,
          out,
          k * sampleStride + m0 * Cout,
        );
      }
    }
  }

  /** The weight tensor of one block for these samples (side by side), cached for the chip's life. */
  private blockWeights(plan: LayerPlan, b: number, sampleIndices: number[], linear: boolean): tf.Tensor2D {
    const block = plan.blocks[b]!;
    const slices = plan.slices;
    const key = `${plan.index}/${b}/${linear ? 'eff' : 'sl'}/${sampleIndices.join(',')}`;
    return this.tensorFor(key, () => {
      const rows = block.rowCount;
      const colsPerSample = (linear ? 1 : slices.widths.length) * block.outCount;
      const parts = sampleIndices.map((k) => {
        const w = this.samples[k]!.layers[plan.index]!.weights[b]!;
        return linear ? effectiveWeights(w, block, slices) : w;
      });
      const joined = new Float32Array(rows * colsPerSample * parts.length);
      // Concatenate along columns: row r = [sample0 cols | sample1 cols | …].
      for (let r = 0; r < rows; r++)
        parts.forEach((part, k) =>
          joined.set(
            part.subarray(r * colsPerSample, (r + 1) * colsPerSample),
            (r * parts.length + k) * colsPerSample,
          ),
        );
      return tf.tensor2d(joined, [rows, colsPerSample * parts.length]);
    });
  }
}

/**
 * The digital periphery of one m-block for one sample: drift-compensation factor, the offset code's
 * 2^(b−1)·Σx correction, and the weight and input steps: out[m, o] = (α·acc − offset·Σx_own)·w_o·s_in.
 */
function digitalPeriphery(
  plan: LayerPlan,
  acc: Float64Array,
  accBase: number,
  patches: Int32Array,
  mb: number,
  alpha: number,
  out: Float32Array,
  outBase: number,
): void {
  const Cout = plan.outChannels;
  const rowsTotal = plan.rowsTotal;
  const offset = plan.slices.offset;
  const depthwise = plan.kind === 'depthwise';
  const area = plan.kernelH * plan.kernelW;
  const inputScale = plan.layer.inputScale;
  const weightScale = plan.layer.weightScale;
  for (let m = 0; m < mb; m++) {
    let rowSum = 0;
    if (offset !== 0 && !depthwise) {
      const src = m * rowsTotal;
      for (let r = 0; r < rowsTotal; r++) rowSum += patches[src + r]!;
    }
    for (let o = 0; o < Cout; o++) {
      let value = acc[accBase + m * Cout + o]! * alpha;
      if (offset !== 0) {
        let own = rowSum;
        if (depthwise) {
          own = 0;
          const src = m * rowsTotal + o * area;
          for (let j = 0; j < area; j++) own += patches[src + j]!;
        }
        value -= offset * own;
      }
      out[outBase + m * Cout + o] = value * weightScale[o]! * inputScale;
    }
  }
}

/** Adds a block's noise-free sums [cycles·mb, S·outCount] to the histogram of each (cycle, slice). */
function recordPartialSums(
  histograms: PartialSumHistogram[],
  sums: Float32Array,
  mb: number,
  S: number,
  outCount: number,
): void {
  const width = S * outCount;
  const rows = sums.length / width;
  for (let row = 0; row < rows; row++) {
    const cycle = math.floor(row / mb);
    for (let s = 0; s < S; s++) {
      const start = row * width + s * outCount;
      histograms[cycle * S + s]!.addAll(sums.subarray(start, start + outCount));
    }
  }
}

/** Fills the expanded input [cycles·mb, rows] of one block from the patches, and Σ x² per read. */
function expandInput(
  patches: Int32Array,
  rowsTotal: number,
  rowStart: number,
  rows: number,
  mb: number,
  cycles: number,
  chunkTable: Float32Array,
  levelSpan: number,
  levelMin: number,
  expanded: Float32Array,
  sumSquares: Float32Array | null,
): void {
  for (let c = 0; c < cycles; c++) {
    const table = c * levelSpan - levelMin;
    for (let m = 0; m < mb; m++) {
      const src = m * rowsTotal + rowStart;
      const dst = (c * mb + m) * rows;
      let squares = 0;
      for (let r = 0; r < rows; r++) {
        const value = chunkTable[table + patches[src + r]!]!;
        expanded[dst + r] = value;
        squares += value * value;
      }
      if (sumSquares !== null) sumSquares[c * mb + m] = squares;
    }
  }
}

/**
 * Per-read noise, the ADC and the shift-add of one block for one sample: for every (cycle, pixel, slice,
 * column) partial sum p, acc[pixel, column] += ADC(p + noise) · 2^(input shift) · 2^(slice shift).
 */
function accumulateReads(
  sums: Float32Array,
  width: number,
  columnOffset: number,
  acc: Float64Array,
  accBase: number,
  accStride: number,
  mb: number,
  cycles: number,
  S: number,
  outCount: number,
  readWeights: Float64Array,
  sumSquares: Float32Array | null,
  sliceReadSigma: Float64Array,
  noise: ReadNoise | null,
  withRead: boolean,
  sliceOutputSigma: Float64Array | null,
  ideal: boolean,
  inverseStep: number,
  codeMin: number,
  codeMax: number,
): void {
  const pool = noise !== null ? noise.pool : null;
  const mask = (1 << ReadNoise.POOL_BITS) - 1;
  let x = noise !== null ? noise.state : 1;
  for (let c = 0; c < cycles; c++) {
    for (let m = 0; m < mb; m++) {
      const row = c * mb + m;
      const readStd = sumSquares !== null ? math.sqrt(sumSquares[row]!) : 0;
      const dst = accBase + m * accStride;
      for (let s = 0; s < S; s++) {
        const weight = readWeights[c * S + s]!;
        const src = row * width + columnOffset + s * outCount;
        if (noise === null && !ideal) {
          // The common case without per-read noise: round to the nearest code, clip, shift-add.
          for (let o = 0; o < outCount; o++) {
            let code = math.floor(sums[src + o]! * inverseStep + 0.5); // = math.round, which V8 does not inline
            if (code > codeMax) code = codeMax;
            else if (code < codeMin) code = codeMin;
            acc[dst + o] += code * weight;
          }
          continue;
        }
        const sliceReadStd = readStd * sliceReadSigma[s]!;
        const outputSigma = sliceOutputSigma !== null ? sliceOutputSigma[s]! : 0;
        if (pool !== null && withRead && outputSigma === 0 && !ideal) {
          // The common noisy case (cell read noise, a real ADC, no output noise), with the loop-invariant
          // branches of the general loop below hoisted: the same draws in the same order, the same
          // arithmetic, so the same numbers (profiled: this loop was ~40 % of a Monte-Carlo sample).
          for (let o = 0; o < outCount; o++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            let code = math.floor((sums[src + o]! + sliceReadStd * pool[x & mask]!) * inverseStep + 0.5);
            if (code > codeMax) code = codeMax;
            else if (code < codeMin) code = codeMin;
            acc[dst + o] += code * weight;
          }
          continue;
        }
        for (let o = 0; o < outCount; o++) {
          let p = sums[src + o]!;
          if (pool !== null) {
            if (withRead) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              p += sliceReadStd * pool[x & mask]!;
            }
            if (outputSigma > 0) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              p += outputSigma * pool[x & mask]!;
            }
          }
          if (ideal) {
            acc[dst + o] += p * weight;
          } else {
            let code = math.floor(p * inverseStep + 0.5);
            if (code > codeMax) code = codeMax;
            else if (code < codeMin) code = codeMin;
            acc[dst + o] += code * weight;
          }
        }
      }
    }
  }
  if (noise !== null) noise.state = x;
}

/** Σ_s 2^shift_s · W_s: the weight matrix a linear readout sees, [rows, outCount]. */
function effectiveWeights(weights: Float32Array, block: ArrayBlock, slices: SliceLayout): Float32Array {
  const S = slices.widths.length;
  const cols = S * block.outCount;
  const out = new Float32Array(block.rowCount * block.outCount);
  for (let r = 0; r < block.rowCount; r++)
    for (let s = 0; s < S; s++) {
      const shift = 2 ** slices.shifts[s]!;
      for (let o = 0; o < block.outCount; o++)
        out[r * block.outCount + o]! += shift * weights[r * cols + s * block.outCount + o]!;
    }
  return out;
}

/** Σ_out |Σ_rows Σ_slices 2^shift·W|: the reference read of global drift compensation (all-ones input). */
function readout(plan: LayerPlan, weights: Float32Array[]): number {
  const perOutput = new Float64Array(plan.outChannels);
  plan.blocks.forEach((block, b) => {
    const w = weights[b]!;
    const S = plan.slices.widths.length;
    const cols = S * block.outCount;
    for (let r = 0; r < block.rowCount; r++)
      for (let s = 0; s < S; s++) {
        const shift = 2 ** plan.slices.shifts[s]!;
        for (let o = 0; o < block.outCount; o++)
          perOutput[block.outStart + o]! += shift * w[r * cols + s * block.outCount + o]!;
      }
  });
  let total = 0;
  for (const value of perOutput) total += math.abs(value);
  return total;
}

interface LayerGeometry {
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outPixels: number;
  padTop: number;
  padLeft: number;
}

/** 'same' padding geometry as TensorFlow computes it (extra padding goes bottom/right). */
function layerGeometry(plan: LayerPlan, shape: number[]): LayerGeometry {
  const name = plan.layer.shape.name;
  if (plan.kind === 'dense') {
    if (shape.length !== 2 || shape[1] !== plan.inChannels)
      throw new AnalogChipError(
        `layer ${name}: dense input must be [n, ${plan.inChannels}], got [${shape.join(', ')}]`,
      );
    return { inH: 1, inW: 1, inC: plan.inChannels, outH: 1, outW: 1, outPixels: 1, padTop: 0, padLeft: 0 };
  }
  if (shape.length !== 4 || shape[3] !== plan.inChannels)
    throw new AnalogChipError(
      `layer ${name}: input must be NHWC with ${plan.inChannels} channels, got [${shape.join(', ')}]`,
    );
  const [, inH, inW, inC] = shape as [number, number, number, number];
  const outH = math.ceil(inH / plan.stride);
  const outW = math.ceil(inW / plan.stride);
  const padH = math.max((outH - 1) * plan.stride + plan.kernelH - inH, 0);
  const padW = math.max((outW - 1) * plan.stride + plan.kernelW - inW, 0);
  return {
    inH,
    inW,
    inC,
    outH,
    outW,
    outPixels: outH * outW,
    padTop: math.floor(padH / 2),
    padLeft: math.floor(padW / 2),
  };
}

/** Integer input levels, verified to lie on the layer's input grid and range. */
function inputLevels(plan: LayerPlan, values: Float32Array): Int32Array {
  const scale = plan.layer.inputScale;
  const { min, max } = inputLevelRange(plan.input);
  const levels = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const exact = values[i]! / scale;
    const level = math.floor(exact + 0.5);
    if (math.abs(exact - level) > 1e-2 || level < min || level > max)
      throw new AnalogChipError(
        `layer ${plan.layer.shape.name}: input ${values[i]} is not on its ${plan.input.bits}-bit ` +
          `${plan.input.signed ? 'signed' : 'unsigned'} grid (step ${scale}, level ${exact})`,
      );
    levels[i] = level;
  }
  return levels;
}

/** Whether the N equal parts of `levels` are identical (the evaluator replicated the images). */
function replicated(levels: Int32Array, parts: number): boolean {
  const size = levels.length / parts;
  for (let n = 1; n < parts; n++) {
    const offset = n * size;
    for (let i = 0; i < size; i++) if (levels[offset + i] !== levels[i]) return false;
  }
  return true;
}

/** Fills patches[m, row] for output pixels m0 … m0+mb−1 of the batch (rows in the layer's im2col order). */
function im2col(
  plan: LayerPlan,
  g: LayerGeometry,
  levels: Int32Array,
  m0: number,
  mb: number,
  patches: Int32Array,
): void {
  const R = plan.rowsTotal;
  if (plan.kind === 'dense') {
    patches.set(levels.subarray(m0 * R, (m0 + mb) * R));
    return;
  }
  const { inH, inW, inC, outW, outPixels, padTop, padLeft } = g;
  const KH = plan.kernelH;
  const KW = plan.kernelW;
  const area = KH * KW;
  for (let m = 0; m < mb; m++) {
    const pixel = m0 + m;
    const example = math.floor(pixel / outPixels);
    const within = pixel - example * outPixels;
    const oy = math.floor(within / outW);
    const ox = within - oy * outW;
    const base = m * R;
    const imageBase = example * inH * inW * inC;
    for (let ki = 0; ki < KH; ki++) {
      const iy = oy * plan.stride - padTop + ki;
      for (let kj = 0; kj < KW; kj++) {
        const ix = ox * plan.stride - padLeft + kj;
        const inside = iy >= 0 && iy < inH && ix >= 0 && ix < inW;
        const src = imageBase + (iy * inW + ix) * inC;
        const k = ki * KW + kj;
        if (plan.kind === 'depthwise') {
          for (let c = 0; c < inC; c++) patches[base + c * area + k] = inside ? levels[src + c]! : 0;
        } else {
          const dst = base + k * inC;
          if (inside) patches.set(levels.subarray(src, src + inC), dst);
          else patches.fill(0, dst, dst + inC);
        }
      }
    }
  }
}

/**
 * One chip instance as a LinearOp (the common case): programs `net` onto `hw`, optionally calibrates the
 * ADC ranges, and samples the chip of `seed` at `timeS` seconds after programming.
 */
export function createAnalogChip(
  net: FoldedNetwork,
  hw: HardwareConfig,
  noise: NoiseSettings,
  seed: number,
  options: ChipProgramOptions & { timeS?: number; calibrate?: (linearOp: LinearOp) => void } = {},
): AnalogChip {
  const program = new ChipProgram(net, hw, noise, options);
  if (options.calibrate) program.calibrateAdc(options.calibrate);
  return program.sample([seed], options.timeS ?? 0);
}
