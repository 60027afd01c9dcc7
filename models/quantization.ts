/**
 * Uniform symmetric quantization as the chip sees it, and its fake-quantized (simulated) form for
 * quantization-aware training.
 *
 * Scheme (Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
 * Inference", CVPR 2018, restricted to zero-point 0 as analog crossbars need):
 * - weights: per output channel, symmetric, levels in [−L, L] with L = 2^(b−1) − 1, step = max|w_c| / L
 *   (ternary grids, L = 1, use the TWN threshold instead: see weightStepBroadcast);
 * - activations (the input of every weight layer): unsigned levels [0, 2^a − 1] where the input is a ReLU
 *   output (or an image), signed levels [−L, L] where it can be negative (after a linear projection or a
 *   residual add); step = range / top level, the range being a running-max estimate (see supernet.ts).
 *
 * Rounding is the straight-through estimator of Bengio, Léonard & Courville 2013 ("Estimating or
 * Propagating Gradients Through Stochastic Neurons"): the forward pass rounds, the backward pass treats the
 * rounding as identity. Activations use the clipped variant (Jacob et al. 2018 §3.1): gradient 0 where the
 * input lies outside the representable range, since moving it there cannot change the output.
 *
 * With 1 bit the symmetric formula leaves no level but 0; we keep one level each side (ternary {−1, 0, 1})
 * rather than fail: a config that asks for 1 signed bit gets 3 levels, and this is the only such case.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Highest integer level of a symmetric (signed) b-bit grid: 2^(b−1) − 1 (at least 1, see file comment). */
export function signedTopLevel(bits: number): number {
  assertBits(bits);
  return Math.max(1, 2 ** (bits - 1) - 1);
}

/** Highest integer level of an unsigned a-bit grid: 2^a − 1. */
export function unsignedTopLevel(bits: number): number {
  assertBits(bits);
  return 2 ** bits - 1;
}

/** Integer level range [lowest, highest] of an activation grid. */
export function activationLevels(bits: number, signed: boolean): { lowest: number; highest: number } {
  const highest = signed ? signedTopLevel(bits) : unsignedTopLevel(bits);
  return { lowest: signed ? -highest : 0, highest };
}

function assertBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 24) {
    throw new RangeError(`quantization bits must be an integer from 1 to 24, got ${bits}`);
  }
}

/**
 * Smallest range a quantizer accepts: a channel or activation that is all zeros would otherwise give a
 * zero step and 0/0 levels. Any positive value works there (every input rounds to level 0).
 */
export const MIN_QUANTIZATION_RANGE = 1e-8;

/**
 * Activation quantization step for a range: range / top level. Returned as a float32 number so that the
 * supernet (which computes it as a tensor) and a folded network (which stores it as a number) agree to
 * the last bit: float32 division is correctly rounded, and so is rounding the double quotient of two
 * float32 values to float32.
 */
export function activationStep(range: number, bits: number, signed: boolean): number {
  const { highest } = activationLevels(bits, signed);
  return Math.fround(Math.max(Math.fround(range), Math.fround(MIN_QUANTIZATION_RANGE)) / highest);
}

/**
 * Quantizes `x` to the grid `level · step`, levels in [lowest, highest]: clip(round(x / step)) · step. The
 * inference path and the fake quantizer both use exactly these ops, so they agree bit for bit.
 */
export function quantizeToGrid(x: tf.Tensor, step: tf.Scalar, lowest: number, highest: number): tf.Tensor {
  return tf.mul(tf.clipByValue(tf.round(tf.div(x, step)), lowest, highest), step);
}

/**
 * Fake-quantized activations with the clipped straight-through gradient: the forward pass is
 * quantizeToGrid with step = max(range, MIN_QUANTIZATION_RANGE) / highest, the backward pass passes dy where
 * x < highest·step (and x > lowest·step for signed grids) and 0 elsewhere. Grids are either unsigned
 * (lowest = 0, and then the input must be non-negative: a ReLU output or an image) or symmetric (lowest =
 * −highest).
 *
 * `rangeOf(x)` is called inside the op's forward pass, where tfjs records nothing on the gradient tape: a
 * running-max update done there (tf.max, assign) costs no backward pass. Done outside, the step's
 * dependence on tf.max(x) makes tfjs differentiate the max, whose gradient compares x with a broadcast
 * max — a rank-4 broadcasting comparison that the wasm backend runs ~40× slower than an elementwise one.
 */
export function fakeQuantizeActivation(
  x: tf.Tensor,
  rangeOf: (input: tf.Tensor) => tf.Scalar,
  lowest: number,
  highest: number,
): tf.Tensor {
  if (lowest !== 0 && lowest !== -highest) {
    throw new RangeError(
      `fakeQuantizeActivation: grids are unsigned or symmetric, got [${lowest}, ${highest}]`,
    );
  }
  const quantize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const step = tf.div(tf.maximum(rangeOf(input), MIN_QUANTIZATION_RANGE), highest) as tf.Scalar;
    save([input, step]);
    return {
      value: quantizeToGrid(input, step, lowest, highest),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedInput, savedStep] = saved as [tf.Tensor, tf.Scalar];
        // The mask as step(bound − x) (or step(bound − |x|) on a symmetric grid): a float 0/1 from cheap
        // elementwise kernels, where a comparison and a bool → float cast cost wasm about twice as much.
        const bound = tf.mul(savedStep, highest);
        const inside =
          lowest === 0 ? tf.step(tf.sub(bound, savedInput)) : tf.step(tf.sub(bound, tf.abs(savedInput)));
        return [tf.mul(dy, inside)];
      },
    };
  });
  return quantize(x);
}

/** Axes of a kernel that hold one output channel: all but the output-channel axis. */
export function perChannelReductionAxes(kind: 'conv' | 'depthwise' | 'dense'): number[] {
  switch (kind) {
    case 'conv':
      return [0, 1, 2]; // [kh, kw, cin, cout]
    case 'depthwise':
      return [0, 1, 3]; // [kh, kw, c, 1]: channel c is its own output channel
    case 'dense':
      return [0]; // [cin, cout]
  }
}

/**
 * Threshold of ternary weights relative to the mean |w| of a channel: Δ ≈ 0.7·E|w| (Li, Zhang & Liu,
 * "Ternary Weight Networks", 2016, for Gaussian- or uniform-like weights).
 */
export const TERNARY_THRESHOLD_OVER_MEAN = 0.7;

/**
 * A kernel's per-output-channel step, shaped to broadcast against the kernel: max|w_c| / L, so that no
 * weight clips (Jacob et al. 2018) — except on a ternary grid (L = 1: 2 bits, or 1), where max-scaling
 * would round all but each channel's few largest weights to 0. There the step is 2Δ with the TWN
 * threshold Δ = 0.7·mean|w_c|: rounding to {−1, 0, 1}·step then zeroes exactly the weights below Δ, and
 * the larger ones clip to ±step.
 */
function weightStepBroadcast(
  kernel: tf.Tensor,
  kind: 'conv' | 'depthwise' | 'dense',
  bits: number,
): tf.Tensor {
  const axes = perChannelReductionAxes(kind);
  const top = signedTopLevel(bits);
  if (top === 1) {
    const meanAbs = tf.mean(tf.abs(kernel), axes, true);
    return tf.mul(tf.maximum(meanAbs, MIN_QUANTIZATION_RANGE), 2 * TERNARY_THRESHOLD_OVER_MEAN);
  }
  const maxAbs = tf.max(tf.abs(kernel), axes, true);
  return tf.div(tf.maximum(maxAbs, MIN_QUANTIZATION_RANGE), top);
}

/**
 * Integer levels and per-output-channel step of a kernel: kernel ≈ levels · step. `step` broadcasts against
 * the kernel (kept dimensions); levels are float32 integers in [−L, L].
 */
export function weightLevels(
  kernel: tf.Tensor,
  kind: 'conv' | 'depthwise' | 'dense',
  bits: number,
): { levels: tf.Tensor; step: tf.Tensor } {
  return tf.tidy(() => {
    const top = signedTopLevel(bits);
    const step = weightStepBroadcast(kernel, kind, bits);
    const levels = tf.clipByValue(tf.round(tf.div(kernel, step)), -top, top);
    return { levels, step };
  });
}

/**
 * Fake-quantized weights (per output channel, symmetric) with the plain straight-through gradient: the
 * forward pass is levels · step, the backward pass is the identity (Bengio et al. 2013), also for the
 * weights a ternary grid clips (so that they can still move back inside).
 */
export function fakeQuantizeWeights(
  kernel: tf.Tensor,
  kind: 'conv' | 'depthwise' | 'dense',
  bits: number,
): tf.Tensor {
  const quantize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input] = args as [tf.Tensor];
    const { levels, step } = weightLevels(input, kind, bits);
    return { value: tf.mul(levels, step), gradFunc: (dy: tf.Tensor) => [dy] };
  });
  return quantize(kernel);
}

/** Identity in the forward pass, zero gradient in the backward pass (tfjs has no stop_gradient op). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const identity = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input] = args as [tf.Tensor];
    return { value: tf.clone(input), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] };
  });
  return identity(x) as T;
}
