/**
 * The chip's readout (bit-serial DAC input, bit-sliced weights, column ADC, shift-add) as a per-layer
 * linear model plus Gaussian noise, so a digital forward pass can carry what the ADC costs without the
 * bit-serial simulation of chip.ts.
 *
 * On the chip (chip.ts, accumulateReads) an output of a layer is
 *     y = Σ_arrays Σ_cycles c Σ_slices s 2^(in_c + sh_s) · ADC(p_cs)
 * where p_cs = Σ_rows x_c · W_s is one column read (input chunk x_c of cycle c times the cell levels W_s
 * of slice s; an integer without device noise) and ADC (adc.ts adcConvert) rounds to the calibrated step
 * Δ and clips at the calibrated range. Without the ADC the same sum is exactly the digital y.
 *
 * The textbook model of a uniform quantizer is additive white noise independent of the signal, variance
 * Δ²/12, valid when the signal spans many steps (Bennett, "Spectra of quantized signals", Bell System
 * Technical Journal 27, 1948; Widrow & Kollár, "Quantization Noise", Cambridge University Press 2008,
 * ch. 4–5). On this chip many reads are far from that regime: with a 3–4-bit ADC most partial sums of the
 * low-order slices and input bits lie in the dead zone |p| < Δ/2 and read as 0 (an error of −p, fully
 * correlated with the signal), and the most significant reads clip. Measured on the evaluator's trained
 * network (test/hardware/evaluatorTrainedNet.json, noise-free chip, 300 test images): noise of the ADC's
 * full error power alone gave 57 % at 3 bits where the chip gives 31 %. So each read class (c, s) is
 * split into its linear part and a residual, by least squares over the noise-free partial sums the chip
 * calibrates its ADC ranges from (ChipProgram.calibrateAdc, the same training images, put through the
 * chip's own transfer adcConvert with the calibrated range and bits):
 *     ADC(p) ≈ g_cs · p + r,   g_cs = Σ p·ADC(p) / Σ p²,   E[r²] = (Σ ADC(p)² − g_cs² Σ p²) / n.
 * The linear part is exact to compute digitally: y ≈ Σ_c 2^(in_c) · (x_c ⊛ K_c) with one kernel per input
 * cycle, K_c = Σ_s 2^(sh_s) g_cs W_s (the offset code's 2^(b−1)·Σx removed as the periphery does): one
 * digital convolution per input cycle instead of cycles × slices bit-serial reads. The residuals are
 * treated as independent reads of total power Σ_cs 4^(in_c + sh_s) · E[r²] per array feeding the
 * output, scaled to output units by weightScale_o · inputScale as digitalPeriphery scales. Its shape
 * matters as much as its power: a read off by more than half a step (a clipped sum, or a rounding that
 * read noise flipped in a high-order slice: ±2^11 steps for 8-bit weights and 6-bit inputs) is a rare,
 * large error on one output, which the next layer's activation clipping bounds; spread as Gaussian noise
 * of the same power over every output it wrecked an SRAM design the chip keeps at its digital accuracy
 * (quick.yaml candidate 2120301330023311: 34 % vs the chip's 62 % on 50 images, digital 62 %; the
 * depthwise layer's error power 11 against a signal power of 1.4, on 4 outputs of 25,600 on the chip).
 * So the residual is split: reads off by more than Δ/2 are drawn as events (an output is hit with
 * probability = their expected count per output, by N(0, their power / that count)) while they are rarer
 * than one output in two; the rest is dense Gaussian noise. With the split the same design gives 60 %.
 * A column read's additive output noise (SRAM's, aihwkit's out_noise; chip.ts adds it before the ADC on
 * every read) enters the same fit exactly: ADC(p + n) is averaged over n ~ N(0, σ_out²) code by code, so
 * the gain and the residual include what the noise does through the ADC (dithering the dead zone, or
 * rounding away when σ_out ≪ Δ). Cell noise reaches the kernel from hardware/noise/weightNoise.ts (the
 * weight path) with gain 1, except the depthwise leakage: chip.ts packs several channels block-diagonally
 * on one array, and the off-diagonal (level-0) cells' errors reach a channel's column multiplied by the
 * other channels' inputs. weightNoise.ts adds them as variance on the channel's own weights, i.e. scaled
 * by its own inputs, so a quiet channel beside active ones looks clean there and drowns on the chip (on
 * quick.yaml's FeFET and PCM designs with 4-bit weights that alone moved the fast models' accuracy from
 * ~50 % towards the chip's ~15 %). Here they are drawn per output as N(0, σ₀² · Σ_window x²) summed over
 * the other channels of the array, σ₀ a level-0 weight's σ (weightNoise.ts weightLevelSigma), with one
 * depthwise convolution of x²; the weight path is then run without its leakage term.
 * What this drops: the residual's dependence on the signal, correlations between an output's reads, the
 * gain the ADC applies to the device noise itself, and the rounding per-read noise adds on a lossless ADC.
 * test/hardware/readoutError.test.ts compares it with the bit-serial chip.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../../common/rng';
import type { FoldedLayer, LinearOp } from '../folded';
import type { CellNoiseModel } from '../noise/settings';
import { normalCdf, weightLevelSigma } from '../noise/weightNoise';
import { adcConvert, type AdcTransfer, type PartialSumHistogram } from './adc';
import type { LayerPlan } from './plan';
import type { ChipProgram } from './program';
import { maxWeightLevel, sliceWeight } from './encoding';

// `Math` bound once per module (see chip.ts: globals are slow under jest's sandbox).
const math = Math;

export interface LayerReadoutError {
  layer: string;
  /** Least-squares gain of the ADC on each read class (cycle·slices + slice); 1 for a lossless read. */
  gains: number[];
  /** Mean squared residual of one read of each class after its gain, partial-sum units. */
  residualMeanSquares: number[];
  /** Variance of one output's residual (dense and events) in partial-sum units (level × input level). */
  variance: number;
  /** Variance of the residual's dense part (partial-sum units) and its σ in output units per channel. */
  denseVariance: number;
  sigma: Float32Array;
  /** Expected large read errors per output (rare: < 0.5, else they count as dense), and their σ. */
  eventRate: number;
  eventSigma: Float32Array;
  /**
   * Depthwise arrays: σ of one off-diagonal (level-0) cell position in weight levels, and for each channel
   * the channels sharing its array (their inputs reach its column through those cells); null otherwise.
   */
  leakage: { levelSigma: number; neighbours: Float32Array } | null;
  /** Every gain is 1: the linear part is the digital product (one product, not one per input cycle). */
  unitGains: boolean;
  /** Every gain is 1 and no residual: the readout is the digital product. */
  lossless: boolean;
  /** Kernel value per weight level and input cycle: level → Σ_s 2^sh_s g_cs W_s(level) − offset. */
  levelTables: Float64Array[];
  /** The layer's input encoding: bits, signed (two's complement), bits per cycle, each cycle's 2^shift. */
  inputBits: number;
  signed: boolean;
  chunkWidths: number[];
  cycleWeights: number[];
}

/** Mean over the layer's outputs of how many arrays (row blocks) feed one output. */
function arraysPerOutput(plan: LayerPlan): number {
  let feeds = 0;
  for (const block of plan.blocks) feeds += block.outCount;
  return feeds / plan.outChannels;
}

/**
 * E[ADC(v + n)] and E[ADC(v + n)²] for n ~ N(0, σ²): the probability of every code the read can land on
 * (Φ between its rounding edges), the extreme codes taking the clipped tails.
 */
export function noisyConversionMoments(
  adc: AdcTransfer,
  value: number,
  sigma: number,
): { mean: number; meanSquare: number } {
  if (adc.ideal) return { mean: value, meanSquare: value * value + sigma * sigma };
  let mean = 0;
  let meanSquare = 0;
  forEachCode(adc, value, sigma, (converted, probability) => {
    mean += probability * converted;
    meanSquare += probability * converted * converted;
  });
  return { mean, meanSquare };
}

/** Every value a (non-ideal) ADC can return for v + n, n ~ N(0, σ²), with its probability (σ > 0). */
function forEachCode(
  adc: AdcTransfer,
  value: number,
  sigma: number,
  visit: (converted: number, probability: number) => void,
): void {
  const codeMin = adc.signed ? -adc.codeMax : 0;
  const spread = 7 * sigma;
  // Codes within 7σ of the value, inside the converter's range (a value beyond it clips to the end code).
  const lowest = math.min(adc.codeMax, math.max(codeMin, math.floor((value - spread) / adc.step)));
  const highest = math.max(lowest, math.min(adc.codeMax, math.ceil((value + spread) / adc.step)));
  let below = 0; // Φ at the lower edge of the current code
  for (let code = lowest; code <= highest; code++) {
    const upper = code === highest ? 1 : normalCdf(((code + 0.5) * adc.step - value) / sigma);
    visit(code * adc.step, upper - below);
    below = upper;
  }
}

/** σ of the output noise of one read of each slice, in read units (chip.ts sliceOutputSigma). */
function sliceOutputSigma(plan: LayerPlan, model: CellNoiseModel): number[] {
  const topInput = 2 ** math.max(...plan.input.widths) - 1;
  return plan.slices.maxLevels.map((levels) => model.outputNoisePerRow * levels * topInput);
}

/** Off-diagonal cells of a depthwise layer's packed arrays (see LayerReadoutError.leakage). */
function depthwiseLeakage(plan: LayerPlan, model: CellNoiseModel, timeS: number) {
  if (plan.kind !== 'depthwise' || plan.blocks.every((block) => block.outCount === 1)) return null;
  const C = plan.outChannels;
  const neighbours = new Float32Array(C * C);
  for (const block of plan.blocks)
    for (let a = block.outStart; a < block.outStart + block.outCount; a++)
      for (let b = block.outStart; b < block.outStart + block.outCount; b++)
        if (a !== b) neighbours[a * C + b] = 1;
  return { levelSigma: weightLevelSigma(model, plan.slices, 0, timeS), neighbours };
}

function layerReadoutError(
  plan: LayerPlan,
  classes: PartialSumHistogram[],
  outputSigma: number[],
  leakage: LayerReadoutError['leakage'] = null,
): LayerReadoutError {
  const layout = plan.slices;
  const S = layout.widths.length;
  const cycles = plan.input.widths.length;
  const gains: number[] = [];
  const residualMeanSquares: number[] = [];
  const eventRates: number[] = [];
  const eventMeanSquares: number[] = [];
  for (let k = 0; k < cycles * S; k++) {
    const histogram = classes[k];
    if (!histogram || histogram.count === 0) {
      gains.push(1);
      residualMeanSquares.push(0);
      eventRates.push(0);
      eventMeanSquares.push(0);
      continue;
    }
    // |p| histograms: a signed ADC is odd (ADC(−p) = −ADC(p)), an unsigned one sees p ≥ 0 only, so
    // p·ADC(p) = |p|·ADC(|p|) and ADC(p)² = ADC(|p|)²; with output noise (symmetric) the same holds for
    // the expectations over the noise.
    const noiseSigma = outputSigma[k % S]!;
    let sumPA = 0;
    let sumPP = 0;
    let sumAA = 0;
    for (const [value, count] of histogram.entries()) {
      sumPP += count * value * value;
      if (noiseSigma > 0) {
        const { mean, meanSquare } = noisyConversionMoments(plan.adc, value, noiseSigma);
        sumPA += count * value * mean;
        sumAA += count * meanSquare;
      } else {
        const converted = adcConvert(plan.adc, value);
        sumPA += count * value * converted;
        sumAA += count * converted * converted;
      }
    }
    const gain = sumPP > 0 ? sumPA / sumPP : 1;
    gains.push(gain);
    residualMeanSquares.push(math.max(0, sumAA - gain * gain * sumPP) / histogram.count);
    // The residual's shape: reads off by more than half a step (a clipped sum, a rounding the noise
    // flipped) are rare, large events; the rest (the dead zone's small sums) a dense, small error.
    let events = 0;
    let eventSquares = 0;
    const half = plan.adc.ideal ? Infinity : plan.adc.step / 2;
    const visit = (value: number, count: number) => (converted: number, probability: number) => {
      const residual = converted - gain * value;
      if (math.abs(residual) > half) {
        events += count * probability;
        eventSquares += count * probability * residual * residual;
      }
    };
    for (const [value, count] of histogram.entries()) {
      if (noiseSigma > 0 && !plan.adc.ideal) forEachCode(plan.adc, value, noiseSigma, visit(value, count));
      else visit(value, count)(adcConvert(plan.adc, value), 1);
    }
    eventRates.push(events / histogram.count);
    eventMeanSquares.push(math.min(residualMeanSquares[k]!, eventSquares / histogram.count));
  }
  const arrays = arraysPerOutput(plan);
  let variance = 0;
  let eventPower = 0;
  let eventRate = 0;
  residualMeanSquares.forEach((meanSquare, k) => {
    const weight = 4 ** (plan.input.shifts[math.floor(k / S)]! + layout.shifts[k % S]!) * arrays;
    variance += weight * meanSquare;
    eventPower += weight * eventMeanSquares[k]!;
    eventRate += eventRates[k]! * arrays;
  });
  // Events rarer than one output in two are drawn as events; more frequent ones join the dense noise.
  if (eventRate >= 0.5) {
    eventPower = 0;
    eventRate = 0;
  }
  const denseVariance = math.max(0, variance - eventPower);
  const layer = plan.layer;
  const units = (scale: number) => scale * layer.inputScale;
  const sigma = Float32Array.from(layer.weightScale, (scale) => math.sqrt(denseVariance) * units(scale));
  const eventSigma = Float32Array.from(layer.weightScale, (scale) =>
    eventRate > 0 ? math.sqrt(eventPower / eventRate) * units(scale) : 0,
  );

  const top = maxWeightLevel(layer.shape.weightBits);
  const positive = new Array<number>(S).fill(0);
  const negative = new Array<number>(S).fill(0);
  const levelTables = Array.from({ length: cycles }, (_, c) => {
    const table = new Float64Array(2 * top + 1);
    for (let level = -top; level <= top; level++) {
      sliceWeight(layout, level, positive, negative);
      let value = -layout.offset;
      for (let s = 0; s < S; s++)
        value += 2 ** layout.shifts[s]! * gains[c * S + s]! * (positive[s]! - negative[s]!);
      table[level + top] = value;
    }
    return table;
  });
  return {
    layer: layer.shape.name,
    gains,
    residualMeanSquares,
    variance,
    denseVariance,
    sigma,
    eventRate,
    eventSigma,
    leakage,
    unitGains: gains.every((gain) => math.abs(gain - 1) < 1e-12),
    lossless: leakage === null && variance === 0 && gains.every((gain) => math.abs(gain - 1) < 1e-12),
    levelTables,
    inputBits: plan.input.bits,
    signed: plan.input.signed,
    chunkWidths: plan.input.widths,
    cycleWeights: plan.input.shifts.map((shift) => 2 ** shift),
  };
}

/**
 * Per-layer readout model of a program whose ADC ranges were calibrated from `histograms` (what
 * ChipProgram.calibrateAdc returns). A layer that never ran during calibration is taken as lossless.
 */
export function readoutErrors(
  program: ChipProgram,
  histograms: PartialSumHistogram[][],
  /** With a time: also the depthwise leakage of the cells' noise at that time (s after programming). */
  leakageAtS: number | null = null,
): LayerReadoutError[] {
  return program.plans.map((plan, i) =>
    layerReadoutError(
      plan,
      histograms[i] ?? [],
      sliceOutputSigma(plan, program.model),
      leakageAtS === null ? null : depthwiseLeakage(plan, program.model, leakageAtS),
    ),
  );
}

/**
 * Calibrates the program's ADC ranges (runNetwork as for ChipProgram.calibrateAdc) and returns the
 * readout model of every layer with those ranges.
 */
export function calibratedReadoutErrors(
  program: ChipProgram,
  runNetwork: (linearOp: LinearOp) => void,
  leakageAtS: number | null = null,
): LayerReadoutError[] {
  return readoutErrors(program, program.calibrateAdc(runNetwork), leakageAtS);
}

/**
 * The linear op of the readout model: for each layer of `ideal` (the network on its grid, as programmed),
 * Σ_c 2^(in_c) · base(x_c, K_c + (kernel − ideal kernel)) — the kernel the op receives may carry device
 * noise, which passes with gain 1 — plus N(0, σ_o²) per output, seeded by (seed, layer, call): the same
 * calls in the same order draw the same noise.
 */
export function readoutErrorOp(
  errors: LayerReadoutError[],
  ideal: { layers: FoldedLayer[] },
  seed: number,
  base: LinearOp,
): LinearOp {
  const byName = new Map(errors.map((error) => [error.layer, error]));
  const idealLayers = new Map(ideal.layers.map((layer) => [layer.shape.name, layer]));
  const kernels = new Map<string, Float32Array[]>();
  const calls = new Map<string, number>();
  const cycleKernels = (error: LayerReadoutError, layer: FoldedLayer, programmed: FoldedLayer) => {
    let perCycle = kernels.get(error.layer);
    if (!perCycle) {
      const channels = programmed.weightScale.length;
      const top = maxWeightLevel(programmed.shape.weightBits);
      perCycle = error.levelTables.map((table) => {
        const kernel = new Float32Array(programmed.kernel.length);
        // The output channel is the fastest-moving axis of every kernel layout (models/folded.ts).
        for (let i = 0; i < kernel.length; i++) {
          const scale = programmed.weightScale[i % channels]!;
          const level = scale > 0 ? math.round(programmed.kernel[i]! / scale) : 0;
          kernel[i] = table[math.max(-top, math.min(top, level)) + top]! * scale;
        }
        return kernel;
      });
      kernels.set(error.layer, perCycle);
    }
    // Device noise on top of the programmed kernel, unchanged by the ADC model.
    return perCycle.map((kernel) => {
      if (layer.kernel === programmed.kernel) return kernel;
      const noisy = new Float32Array(kernel.length);
      for (let i = 0; i < kernel.length; i++)
        noisy[i] = kernel[i]! + layer.kernel[i]! - programmed.kernel[i]!;
      return noisy;
    });
  };
  return (layer, input) => {
    const name = layer.shape.name;
    const error = byName.get(name);
    const programmed = idealLayers.get(name);
    if (!error || !programmed || error.lossless) return base(layer, input);
    const call = calls.get(name) ?? 0;
    calls.set(name, call + 1);
    const readout: LayerReadoutError = error;
    const perCycle = error.unitGains ? [] : cycleKernels(error, layer, programmed);
    return tf.tidy(() => {
      if (error.unitGains) return addReadoutNoise(base(layer, input));
      // Input levels → the DAC chunk of every cycle (encoding.ts inputChunk, as tensor arithmetic):
      // two's complement code, shifted and masked; a signed input's top chunk carries the sign.
      const levels = tf.round(tf.div(input, layer.inputScale));
      const code = error.signed ? tf.mod(levels, 2 ** error.inputBits) : levels;
      const cycles = perCycle.length;
      let sum: tf.Tensor | null = null;
      for (let c = 0; c < cycles; c++) {
        const width = 2 ** error.chunkWidths[c]!;
        let chunk = tf.mod(tf.floor(tf.div(code, error.cycleWeights[c]!)), width);
        if (error.signed && c === cycles - 1)
          chunk = tf.sub(chunk, tf.mul(tf.cast(tf.greaterEqual(chunk, width / 2), 'float32'), width));
        const part = base({ ...layer, kernel: perCycle[c]! }, tf.mul(chunk, layer.inputScale));
        sum = sum === null ? part : tf.add(sum, tf.mul(part, error.cycleWeights[c]!));
      }
      return addReadoutNoise(sum!);
    });
    function addReadoutNoise(exact: tf.Tensor): tf.Tensor {
      let out = exact;
      // The output channel is the last axis of every layer's output (NHWC or [n, C]).
      if (readout.denseVariance > 0) {
        const unit = tf.randomNormal(
          out.shape,
          0,
          1,
          'float32',
          deriveSeed(seed, 'readout-error', name, call),
        );
        out = tf.add(out, tf.mul(unit, tf.tensor1d(readout.sigma, 'float32')));
      }
      if (readout.leakage) {
        // Σ over the other packed channels' window of x² (one depthwise convolution of x² with ones),
        // times a level-0 cell position's variance: the column's leakage noise.
        const C = layer.shape.outChannels;
        const ones = tf.ones([layer.shape.kernelH, layer.shape.kernelW, C, 1]) as tf.Tensor4D;
        const windowSquares = tf.depthwiseConv2d(
          tf.square(input) as tf.Tensor4D,
          ones,
          layer.shape.stride,
          'same',
        );
        const others = tf.reshape(
          tf.matMul(tf.reshape(windowSquares, [-1, C]), tf.tensor2d(readout.leakage.neighbours, [C, C])),
          out.shape,
        );
        const scale = tf.mul(tf.sqrt(others), tf.tensor1d(layer.weightScale, 'float32'));
        const unit = tf.randomNormal(
          out.shape,
          0,
          1,
          'float32',
          deriveSeed(seed, 'readout-leakage', name, call),
        );
        out = tf.add(out, tf.mul(unit, tf.mul(scale, readout.leakage.levelSigma)));
      }
      if (readout.eventRate > 0) {
        const uniform = tf.randomUniform(
          out.shape,
          0,
          1,
          'float32',
          deriveSeed(seed, 'readout-event', name, call),
        );
        const hit = tf.cast(tf.less(uniform, readout.eventRate), 'float32');
        const size = tf.randomNormal(
          out.shape,
          0,
          1,
          'float32',
          deriveSeed(seed, 'readout-size', name, call),
        );
        out = tf.add(out, tf.mul(hit, tf.mul(size, tf.tensor1d(readout.eventSigma, 'float32'))));
      }
      return out;
    }
  };
}
