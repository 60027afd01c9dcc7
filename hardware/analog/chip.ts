/**
 * The simulated analog chip: a folded network's weight layers (hardware/folded.ts) mapped onto crossbars
 * of the candidate's hardware, sampled Monte-Carlo, and exposed as the LinearOp that models/inference runs
 * the network with. The layers are planned onto arrays in plan.ts, the program is program.ts, the readout
 * arithmetic of one array block is readout.ts; this file is one set of sampled chip instances.
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
 * That formulation is kept for calibration and the linear readout below; every other read now runs
 * through the fused readout of readoutKernel.ts, which computes the same numbers bit for bit with wasm
 * SIMD, summing only the rows whose DAC chunk is not 0 and doing the per-read pass in the same function.
 * When the ADC is ideal and there is no per-read noise the transfer is linear: cycles and slices then fold
 * into one product with the effective weights Σ_s 2^shift_s·W_s (same result, ~cycles·slices× faster).
 * Reads whose inputs are all zero (a patch of zeros, or a bit plane without a set bit) are left out of the
 * product and the readout: their sum is exactly 0, their read noise σ·sqrt(Σx²) is 0, so ADC(0) = 0 adds
 * nothing; the noise stream is jumped over their draws (xorshift32 is linear), so every other read meets
 * the draw it met before. With output noise (drawn whatever the input) every read stays. The product sums
 * each row in order in float32 like the full one (tfjs-wasm's matMul does; checked bit for bit against the
 * simulator before this change, bench/reference/analogChip.ts, in test/hardware/chipReference.test.ts).
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
import type { FoldedLayer, LinearOp } from '../folded';
import { sampleConductances } from '../noise/models';
import type { PartialSumHistogram } from './adc';
import { inputChunk, inputLevelRange } from './encoding';
import { AnalogChipError, layerTargetConductances, type LayerPlan } from './plan';
import type { ChipProgram } from './program';
import {
  ReadNoise,
  accumulateReads,
  digitalPeriphery,
  effectiveWeights,
  expandInput,
  im2col,
  inputLevels,
  layerGeometry,
  productValues,
  readout,
  recordPartialSums,
  replicated,
  xorshiftJump,
  type LayerGeometry,
} from './readout';
import { ReadoutKernel } from './readoutKernel';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

/** Per cell of a layer, the other cell of its differential pair (−1 for offset-encoded cells). */
function differentialPartners(plan: LayerPlan): Int32Array {
  const partners = new Int32Array(plan.cellCount).fill(-1);
  const S = plan.slices.widths.length;
  for (const block of plan.blocks) {
    if (!block.levelsNegative) continue;
    const size = block.rowCount * S * block.outCount;
    for (let i = 0; i < size; i++) {
      partners[block.cellOffset + i] = block.cellOffset + size + i;
      partners[block.cellOffset + size + i] = block.cellOffset + i;
    }
  }
  return partners;
}

/** A weight row's length in kernel memory: the columns padded to whole groups of four SIMD lanes. */
function paddedStride(cols: number): number {
  return math.ceil(cols / 4) * 4;
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

/** Where the fused readout (readoutKernel.ts) keeps a sample's cells and noise in its memory. */
interface KernelSample {
  /** Per layer, per block: byte address of [rowCount, stride] float32 weights (rows padded to `stride`). */
  weightsAt: number[][];
  poolAt: number;
  stateAt: number;
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
  /** The fused readout and each sample's regions in its memory; null where wasm SIMD is unavailable. */
  private readonly kernel: ReadoutKernel | null;
  private readonly kernelSamples: KernelSample[] = [];

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
    this.kernel = ReadoutKernel.create();
    if (this.kernel) this.kernelSamples = this.samples.map((sample) => this.loadSample(this.kernel!, sample));
    this.linearOp = (layer, input) => this.apply(layer, input);
  }

  /** Copies a sample's weights (rows padded to a multiple of 4 floats) and noise pool into kernel memory. */
  private loadSample(kernel: ReadoutKernel, sample: SampleState): KernelSample {
    const S = this.program.plans.map((plan) => plan.slices.widths.length);
    const weightsAt = this.program.plans.map((plan, l) =>
      plan.blocks.map((block, b) => {
        const cols = S[l]! * block.outCount;
        const stride = paddedStride(cols);
        const at = kernel.allocate(block.rowCount * stride * 4, 'keep');
        const target = new Float32Array(kernel.buffer, at, block.rowCount * stride);
        const source = sample.layers[l]!.weights[b]!;
        for (let r = 0; r < block.rowCount; r++)
          target.set(source.subarray(r * cols, (r + 1) * cols), r * stride);
        return at;
      }),
    );
    const poolAt = kernel.allocate(sample.reads.pool.byteLength, 'keep');
    new Float32Array(kernel.buffer, poolAt, sample.reads.pool.length).set(sample.reads.pool);
    const stateAt = kernel.allocate(4, 'keep');
    return { weightsAt, poolAt, stateAt };
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
    const sampled = sampleConductances(
      model,
      targets,
      seed,
      this.timeS,
      model.stuckCompensation ? differentialPartners(plan) : null,
    );
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
    // The fused readout takes one output-noise draw per conversion of every slice (readoutKernel.ts).
    if (withOutput && sliceOutputSigma.some((sigma) => !(sigma > 0)))
      throw new AnalogChipError(`layer ${plan.layer.shape.name}: a slice without output noise (σ 0)`);
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

    // The fused readout (readoutKernel.ts) serves every read that goes through an ADC or per-read noise, and
    // calibration (it counts the sums into histograms); the linear readout keeps the dense product below.
    const kernel = linear ? null : this.kernel;
    // Unsigned inputs through a 1-bit DAC: every nonzero chunk is 1.
    const unitChunks = !plan.input.signed && plan.input.widths.every((width) => width === 1);
    const fused = kernel
      ? this.fusedBuffers(
          kernel,
          plan,
          mBlock,
          samples,
          chunkTable,
          readWeights,
          sliceReadSigma,
          sliceOutputSigma,
          calibration ? calibration[0]!.size : 0,
        )
      : null;
    const patches = fused ? fused.patches : new Int32Array(mBlock * plan.rowsTotal);
    const acc = fused ? fused.acc : new Float64Array(mBlock * Cout * samples);
    const expandedBuffer = new Float32Array(fused ? 0 : cyclesUsed * mBlock * maxRows);
    const sumSquares = withRead ? new Float32Array(cyclesUsed * mBlock) : null;
    // Reads whose input is all zero (a zero patch, or a bit plane with no bit set) give a partial sum of
    // exactly 0 and, with σ_read ∝ sqrt(Σx²) = 0, read noise 0: ADC(0) = 0 adds nothing. They are left out
    // of the product and the readout; their noise draws are skipped by jumping the stream ahead, so every
    // other read meets the same draw as before. Output noise is drawn whatever the input: then every read
    // stays.
    const skipZeroReads = !withOutput;
    const readRow = new Int32Array(cyclesUsed * mBlock);
    const zeroPatch = new Uint8Array(mBlock);
    for (let m0 = 0; m0 < M; m0 += mBlock) {
      const mb = math.min(mBlock, M - m0);
      im2col(plan, geometry, levels, m0, mb, patches);
      acc.fill(0);
      for (let b = 0; b < plan.blocks.length; b++) {
        const block = plan.blocks[b]!;
        const rows = block.rowCount;
        if (kernel && fused) {
          for (let k = 0; k < samples; k++) {
            const sampleIndex = sampleIndices[k]!;
            const noise = drawsPerRead > 0 ? this.samples[sampleIndex]!.reads : null;
            const regions = this.kernelSamples[sampleIndex]!;
            if (noise) new Int32Array(kernel.buffer, regions.stateAt, 1)[0] = noise.state;
            kernel.reads(
              {
                noise: noise !== null,
                withRead,
                withOutput,
                ideal,
                skipZero: skipZeroReads,
                unitChunks,
                record: calibration !== undefined,
              },
              {
                ...fused.addresses,
                rowsTotal: plan.rowsTotal,
                rowStart: block.rowStart,
                rows,
                mb,
                cycles,
                levelSpan,
                levelMin,
                weightsAt: regions.weightsAt[plan.index]![b]!,
                stride: paddedStride(S * block.outCount),
                accBase: k * mBlock * Cout + block.outStart,
                accStride: Cout,
                slices: S,
                outCount: block.outCount,
                jumpAt: fused.jumpsAt[b]!,
                laneJumpsAt: fused.laneJumpsAt[b]!,
                poolAt: regions.poolAt,
                stateAt: regions.stateAt,
              },
              { inverseStep, codeMin, codeMax },
            );
            if (noise) noise.state = new Int32Array(kernel.buffer, regions.stateAt, 1)[0]!;
          }
          continue;
        }
        // Expanded input [reads, rows] of the reads that are not all zero, cycle-major, Σ x² per read
        // (per-read noise), and where each (cycle, pixel) read landed (−1: all zero, left out).
        const reads = expandInput(
          patches,
          plan.rowsTotal,
          block.rowStart,
          rows,
          mb,
          cyclesUsed,
          chunkTable,
          levelSpan,
          levelMin,
          expandedBuffer,
          sumSquares,
          readRow,
          zeroPatch,
          skipZeroReads,
        );
        const colsPerSample = (linear ? 1 : S) * block.outCount;
        const width = colsPerSample * samples;
        const outCount = block.outCount;
        let product: tf.Tensor | null = null;
        let sums: Float32Array = new Float32Array(0);
        if (reads > 0) {
          const weights = this.blockWeights(plan, b, sampleIndices, linear);
          product = tf.tidy(() =>
            tf.matMul(tf.tensor2d(expandedBuffer.subarray(0, reads * rows), [reads, rows]), weights),
          );
          sums = productValues(product, reads * width);
        }
        if (calibration) recordPartialSums(calibration, sums, readRow, mb, cyclesUsed, S, outCount);
        for (let k = 0; k < samples; k++) {
          const accBase = k * mBlock * Cout + block.outStart;
          if (linear) {
            for (let m = 0; m < mb; m++) {
              const read = readRow[m]!;
              if (read < 0) continue;
              const src = read * width + k * colsPerSample;
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
            readRow,
            noise !== null && withRead ? xorshiftJump(S * outCount) : null,
          );
        }
        // The product's values are a view of the backend's memory: used up before it is freed.
        product?.dispose();
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
    if (calibration && fused) {
      const counts = new Float64Array(kernel!.buffer, fused.addresses.histogramsAt, fused.histogramFloats);
      const bins = fused.addresses.binCount;
      calibration.forEach((histogram, k) => histogram.addCounts(counts.subarray(k * bins, (k + 1) * bins)));
    }
  }

  /**
   * The scratch regions of one batch in kernel memory: the patches and accumulators (as views, which
   * im2col and digitalPeriphery fill and read), the readout's constant tables (copied in), and the lists
   * the kernel fills per read.
   */
  private fusedBuffers(
    kernel: ReadoutKernel,
    plan: LayerPlan,
    mBlock: number,
    samples: number,
    chunkTable: Float32Array,
    readWeights: Float64Array,
    sliceReadSigma: Float64Array,
    sliceOutputSigma: Float64Array,
    /** Calibration: bins of each read class's histogram (0: no histograms). */
    binCount: number,
  ) {
    const S = plan.slices.widths.length;
    const maxRows = math.max(...plan.blocks.map((b) => b.rowCount));
    const maxStride = math.max(...plan.blocks.map((b) => paddedStride(S * b.outCount)));
    kernel.resetScratch();
    const patchesAt = kernel.allocate(mBlock * plan.rowsTotal * 4, 'scratch');
    const accAt = kernel.allocate(mBlock * plan.outChannels * samples * 8, 'scratch');
    const chunkTableAt = kernel.allocate(chunkTable.byteLength, 'scratch');
    const readWeightsAt = kernel.allocate(readWeights.byteLength, 'scratch');
    const sliceReadSigmaAt = kernel.allocate(sliceReadSigma.byteLength, 'scratch');
    const sliceOutputSigmaAt = kernel.allocate(sliceOutputSigma.byteLength, 'scratch');
    const rowListAt = kernel.allocate(maxRows * 4, 'scratch');
    const chunkListAt = kernel.allocate(maxRows * 4, 'scratch');
    const sumsAt = kernel.allocate(maxStride * 4, 'scratch');
    const levelRowsAt = kernel.allocate(mBlock * maxRows * 4, 'scratch');
    const levelsAt = kernel.allocate(mBlock * maxRows * 4, 'scratch');
    const levelCountsAt = kernel.allocate(mBlock * 4, 'scratch');
    const jumpsAt = plan.blocks.map((block) => {
      const at = kernel.allocate(32 * 4, 'scratch');
      return { at, jump: xorshiftJump(S * block.outCount) };
    });
    // Per block, where state 2^bit lands after 0…7 reads of S·outCount draws ([bit][lane], int32).
    const laneJumpsAt = plan.blocks.map((block) => {
      const at = kernel.allocate(32 * 8 * 4, 'scratch');
      const draws = S * block.outCount;
      return { at, jumps: Array.from({ length: 8 }, (_, lane) => xorshiftJump(lane * draws)) };
    });
    const drawsAt = kernel.allocate(maxStride * 8 * 4, 'scratch');
    const laneEndsAt = kernel.allocate(8 * 4, 'scratch');
    const histogramFloats = binCount * plan.input.widths.length * S;
    const histogramsAt = kernel.allocate(histogramFloats * 8, 'scratch');
    // Views only after the last allocation (growing the memory detaches earlier ones).
    const buffer = kernel.buffer;
    new Float32Array(buffer, chunkTableAt, chunkTable.length).set(chunkTable);
    new Float64Array(buffer, histogramsAt, histogramFloats).fill(0);
    new Float64Array(buffer, readWeightsAt, readWeights.length).set(readWeights);
    new Float64Array(buffer, sliceReadSigmaAt, sliceReadSigma.length).set(sliceReadSigma);
    new Float64Array(buffer, sliceOutputSigmaAt, sliceOutputSigma.length).set(sliceOutputSigma);
    for (const { at, jump: j } of jumpsAt) new Int32Array(buffer, at, 32).set(j.columns);
    for (const { at, jumps } of laneJumpsAt) {
      const table = new Int32Array(buffer, at, 32 * 8);
      for (let bit = 0; bit < 32; bit++)
        for (let lane = 0; lane < 8; lane++) table[bit * 8 + lane] = jumps[lane]!.columns[bit]!;
    }
    return {
      patches: new Int32Array(buffer, patchesAt, mBlock * plan.rowsTotal),
      acc: new Float64Array(buffer, accAt, mBlock * plan.outChannels * samples),
      jumpsAt: jumpsAt.map((j) => j.at),
      laneJumpsAt: laneJumpsAt.map((j) => j.at),
      histogramFloats,
      addresses: {
        patchesAt,
        chunkTableAt,
        accAt,
        readWeightsAt,
        sliceReadSigmaAt,
        sliceOutputSigmaAt,
        rowListAt,
        chunkListAt,
        sumsAt,
        levelRowsAt,
        levelsAt,
        levelCountsAt,
        drawsAt,
        laneEndsAt,
        histogramsAt,
        binCount,
      },
    };
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
