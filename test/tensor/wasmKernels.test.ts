/**
 * Property-style checks of imcnas's wasm kernels: for random shapes, strides, paddings, dilations, depth
 * multipliers and batch sizes, each kernel's output equals the cpu backend's within 1e-4 relative error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { initTensorEngine } from '../../tensor/backend';
import { ADDED_WASM_KERNELS, REPLACED_WASM_KERNELS } from '../../tensor/wasmKernels';
import { setFilterGradientStrategy } from '../../tensor/wasmKernelsConv';
import { setSimdKernelsEnabled, simdKernelsFor } from '../../tensor/wasmSimdKernels';
import { randomHost, relativeError, runKernelOn, type HostTensor } from './kernelTestSupport';

const TOLERANCE = 1e-4;
const CASES_PER_KERNEL = 20;

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
}

function randomPad(rng: Rng): Pad {
  switch (rng.int(4)) {
    case 0:
      return 'same';
    case 1:
      return 'valid';
    case 2:
      return rng.int(3);
    default:
      return [
        [0, 0],
        [rng.int(3), rng.int(3)],
        [rng.int(3), rng.int(3)],
        [0, 0],
      ];
  }
}

/** A random convolution whose output is non-empty; `dilated` allows dilations > 1. */
function randomConvCase(rng: Rng, options: { dilated: boolean; depthwise: boolean }): ConvCase {
  for (;;) {
    const inChannels = 1 + rng.int(5);
    const c: ConvCase = {
      batch: 1 + rng.int(3),
      height: 1 + rng.int(11),
      width: 1 + rng.int(11),
      inChannels,
      // For depthwise, outChannels is the depth multiplier.
      outChannels: options.depthwise ? 1 + rng.int(3) : 1 + rng.int(6),
      filterHeight: 1 + rng.int(4),
      filterWidth: 1 + rng.int(4),
      strides: [1 + rng.int(3), 1 + rng.int(3)],
      dilations: [1, 1],
      pad: randomPad(rng),
    };
    // tfjs (every backend, forward and gradient) requires strides or dilations to be all ones.
    if (options.dilated) c.dilations = [1 + rng.int(3), 1 + rng.int(3)];
    if (options.dilated && (c.dilations[0] > 1 || c.dilations[1] > 1)) c.strides = [1, 1];
    const info = convInfo(c, options.depthwise);
    if (info.outHeight > 0 && info.outWidth > 0) return c;
  }
}

/**
 * A random undilated depthwise case; with `simdShaped`, multiplier 1 and channels a multiple of 4, the shape
 * the SIMD paths take.
 */
function randomDepthwiseCase(rng: Rng, simdShaped: boolean): ConvCase {
  const c = randomConvCase(rng, { dilated: false, depthwise: true });
  if (simdShaped) {
    c.inChannels = 4 * (1 + rng.int(3));
    c.outChannels = 1;
  }
  return c;
}

/** The geometry attributes of a depthwise case, as its forward and both gradient kernels take them. */
function depthwiseAttrs(c: ConvCase) {
  return { strides: c.strides, dilations: c.dilations, pad: c.pad };
}

/** The case's convolution geometry as tfjs computes it. */
function convInfo(c: ConvCase, depthwise: boolean): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    [c.batch, c.height, c.width, c.inChannels],
    [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels],
    c.strides,
    c.dilations,
    c.pad,
    undefined,
    depthwise,
  );
}

function outputShape(c: ConvCase, depthwise: boolean): number[] {
  return convInfo(c, depthwise).outShape;
}

/** |<gradient, direction> − <dy, forward(direction)>| relative to the sum of absolute products. */
function adjointError(
  gradient: ArrayLike<number>,
  direction: ArrayLike<number>,
  dy: ArrayLike<number>,
  forwardOfDirection: ArrayLike<number>,
): number {
  let lhs = 0;
  let lhsScale = 0;
  for (let i = 0; i < gradient.length; i++) {
    lhs += gradient[i]! * direction[i]!;
    lhsScale += Math.abs(gradient[i]! * direction[i]!);
  }
  let rhs = 0;
  let rhsScale = 0;
  for (let i = 0; i < dy.length; i++) {
    rhs += dy[i]! * forwardOfDirection[i]!;
    rhsScale += Math.abs(dy[i]! * forwardOfDirection[i]!);
  }
  const scale = Math.max(lhsScale, rhsScale);
  return scale === 0 ? Math.abs(lhs - rhs) : Math.abs(lhs - rhs) / scale;
}

async function expectSameOnWasmAndCpu(
  kernelName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
  label: string,
): Promise<void> {
  const expected = await runKernelOn('cpu', kernelName, inputs, attrs);
  const actual = await runKernelOn('wasm', kernelName, inputs, attrs);
  expect({ label, shape: actual.shape }).toEqual({ label, shape: expected.shape });
  const error = relativeError(actual.values, expected.values);
  if (!(error <= TOLERANCE)) throw new Error(`${kernelName} ${label}: relative error ${error}`);
}

/**
 * A property test of a SIMD-backed kernel, run twice: with the SIMD kernels on, and off (`withoutSimd`
 * names the path then taken; `%s` in `name` becomes the path). Each run checks CASES_PER_KERNEL random
 * cases from its own seed, and turns the SIMD kernels back on after.
 */
function testWithAndWithoutSimd(
  name: string,
  withoutSimd: string,
  seeds: { simd: number; withoutSimd: number },
  check: (rng: Rng, index: number, simd: boolean) => Promise<void>,
): void {
  test.each([
    ['wasm SIMD', true],
    [withoutSimd, false],
  ])(name, async (_, simd) => {
    const rng = new Rng(simd ? seeds.simd : seeds.withoutSimd);
    setSimdKernelsEnabled(simd);
    try {
      for (let i = 0; i < CASES_PER_KERNEL; i++) await check(rng, i, simd);
    } finally {
      setSimdKernelsEnabled(true);
    }
  });
}

/**
 * Checks `pool`'s gradient on a random case against the cpu backend's, with dy shaped like the cpu forward
 * output. Channels are a multiple of 4 (the SIMD path) in three cases of four; the rest fall back.
 * `reluInput` clamps half the inputs to zero, as after a relu, so that many windows hold tied maxima.
 */
async function expectPoolGradientSame(
  rng: Rng,
  index: number,
  pool: 'MaxPool' | 'AvgPool',
  reluInput: boolean,
): Promise<void> {
  const filterSize: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
  const strides: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
  const pad = rng.int(2) === 0 ? 'same' : 'valid';
  const channels = index % 4 === 3 ? 1 + rng.int(5) : 4 * (1 + rng.int(3));
  const inputShape = [1 + rng.int(3), filterSize[0] + rng.int(8), filterSize[1] + rng.int(8), channels];
  const input = randomHost(rng, inputShape);
  if (reluInput)
    for (let j = 0; j < input.values.length; j++) input.values[j] = Math.max(0, input.values[j]!);
  const attrs = { filterSize, strides, pad };
  const output = await runKernelOn('cpu', pool, { x: input }, attrs);
  const dy = randomHost(rng, output.shape);
  // MaxPoolGrad also takes the forward output; AvgPoolGrad does not.
  const inputs: Record<string, HostTensor> =
    pool === 'MaxPool' ? { dy, input, output: { ...output, dtype: 'float32' } } : { dy, input };
  await expectSameOnWasmAndCpu(`${pool}Grad`, inputs, attrs, JSON.stringify({ inputShape, ...attrs }));
}

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm', env: {} });
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('wasm training kernels match the cpu backend', () => {
  test('registers the kernels it reports', () => {
    for (const name of [...ADDED_WASM_KERNELS, ...REPLACED_WASM_KERNELS]) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
  });

  test.each(['im2col', 'transposedConv'] as const)('Conv2DBackpropFilter by %s', async (strategy) => {
    const rng = new Rng(strategy === 'im2col' ? 101 : 110);
    setFilterGradientStrategy(strategy);
    try {
      for (let i = 0; i < CASES_PER_KERNEL; i++) {
        const c = randomConvCase(rng, { dilated: false, depthwise: false });
        const filterShape = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
        await expectSameOnWasmAndCpu(
          'Conv2DBackpropFilter',
          {
            x: randomHost(rng, [c.batch, c.height, c.width, c.inChannels]),
            dy: randomHost(rng, outputShape(c, false)),
          },
          { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape },
          JSON.stringify(c),
        );
      }
    } finally {
      setFilterGradientStrategy('auto');
    }
  });

  testWithAndWithoutSimd(
    'Conv2DBackpropInput, phases interleaved by %s',
    'JavaScript',
    { simd: 102, withoutSimd: 117 },
    async (rng, i) => {
      const c = randomConvCase(rng, { dilated: false, depthwise: false });
      // Input channels a multiple of 4 take the SIMD interleave (when strided).
      if (i % 2 === 0) c.inChannels = 4 * (1 + rng.int(2));
      await expectSameOnWasmAndCpu(
        'Conv2DBackpropInput',
        {
          dy: randomHost(rng, outputShape(c, false)),
          filter: randomHost(rng, [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels]),
        },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: [c.batch, c.height, c.width, c.inChannels],
        },
        JSON.stringify(c),
      );
    },
  );

  testWithAndWithoutSimd(
    'DepthwiseConv2dNativeBackpropFilter by %s, undilated: equals the cpu kernel',
    'JavaScript',
    { simd: 103, withoutSimd: 111 },
    async (rng, i, simd) => {
      // Keep half the SIMD run's cases on the SIMD path.
      const c = randomDepthwiseCase(rng, simd && i % 2 === 0);
      const filterShape = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const x = randomHost(rng, [c.batch, c.height, c.width, c.inChannels]);
      const dy = randomHost(rng, outputShape(c, true));
      const attrs = { ...depthwiseAttrs(c), filterShape };
      await expectSameOnWasmAndCpu(
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        attrs,
        JSON.stringify(c),
      );
    },
  );

  testWithAndWithoutSimd(
    'DepthwiseConv2dNativeBackpropInput by %s, undilated: equals the cpu kernel',
    'XNNPACK or JavaScript',
    { simd: 104, withoutSimd: 114 },
    async (rng, i) => {
      const c = randomDepthwiseCase(rng, i % 2 === 0);
      const dy = randomHost(rng, outputShape(c, true));
      const filter = randomHost(rng, [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels]);
      const attrs = { ...depthwiseAttrs(c), inputShape: [c.batch, c.height, c.width, c.inChannels] };
      await expectSameOnWasmAndCpu(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter },
        attrs,
        JSON.stringify(c),
      );
    },
  );

  // The cpu backend's depthwise backprop kernels ignore dilations (tfjs's gradient never passes any), so
  // for dilated cases the reference is the cpu *forward* kernel, which honours them, through the adjoint
  // identities <dW, u> = <dy, conv(x, u)> and <dx, v> = <dy, conv(v, f)> for random u, v.
  test('depthwise gradients, dilated: adjoint of the cpu forward kernel', async () => {
    const rng = new Rng(107);
    for (let i = 0; i < CASES_PER_KERNEL; i++) {
      const c = randomConvCase(rng, { dilated: true, depthwise: true });
      if (i % 2 === 0) {
        // Multiplier 1 and channels a multiple of 4: the SIMD paths.
        c.inChannels = 4 * (1 + rng.int(2));
        c.outChannels = 1;
      }
      const inputShape = [c.batch, c.height, c.width, c.inChannels];
      const filterShape = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const convAttrs = depthwiseAttrs(c);
      const x = randomHost(rng, inputShape);
      const f = randomHost(rng, filterShape);
      const dy = randomHost(rng, outputShape(c, true));
      const u = randomHost(rng, filterShape);
      const v = randomHost(rng, inputShape);
      const dW = await runKernelOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropFilter',
        { x, dy },
        { ...convAttrs, filterShape },
      );
      const dx = await runKernelOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: f },
        { ...convAttrs, inputShape },
      );
      const yU = await runKernelOn('cpu', 'DepthwiseConv2dNative', { x, filter: u }, convAttrs);
      const yV = await runKernelOn('cpu', 'DepthwiseConv2dNative', { x: v, filter: f }, convAttrs);
      const label = JSON.stringify(c);
      expect({ label, error: adjointError(dW.values, u.values, dy.values, yU.values) <= TOLERANCE }).toEqual({
        label,
        error: true,
      });
      expect({ label, error: adjointError(dx.values, v.values, dy.values, yV.values) <= TOLERANCE }).toEqual({
        label,
        error: true,
      });
    }
  });

  test('UnsortedSegmentSum, with ids out of range dropped', async () => {
    const rng = new Rng(105);
    for (let i = 0; i < CASES_PER_KERNEL; i++) {
      const rows = 1 + rng.int(10);
      const numSegments = 1 + rng.int(6);
      const ids = new Int32Array(rows);
      for (let r = 0; r < rows; r++) ids[r] = rng.int(numSegments + 2) - 1;
      const innerShape = rng.int(2) === 0 ? [] : [1 + rng.int(4), 1 + rng.int(3)];
      await expectSameOnWasmAndCpu(
        'UnsortedSegmentSum',
        {
          x: randomHost(rng, [rows, ...innerShape]),
          segmentIds: { values: ids, shape: [rows], dtype: 'int32' },
        },
        { numSegments },
        `rows=${rows} segments=${numSegments} inner=[${innerShape}]`,
      );
    }
  });

  testWithAndWithoutSimd(
    'MaxPoolGrad by %s, with ties (relu zeros) routed like the cpu backend',
    'JavaScript',
    { simd: 108, withoutSimd: 113 },
    (rng, i) => expectPoolGradientSame(rng, i, 'MaxPool', true),
  );

  testWithAndWithoutSimd(
    'AvgPoolGrad by %s',
    "wasm's own kernel",
    { simd: 115, withoutSimd: 116 },
    (rng, i) => expectPoolGradientSame(rng, i, 'AvgPool', false),
  );

  testWithAndWithoutSimd(
    'Tile, Sum and Mean (reductions by %s)',
    'JavaScript',
    { simd: 109, withoutSimd: 112 },
    async (rng, i) => {
      const rank = 1 + rng.int(4);
      const shape = Array.from({ length: rank }, () => 1 + rng.int(5));
      // A last axis that is a multiple of 4 takes the SIMD reduction.
      if (i % 2 === 0) shape[rank - 1] = 4 * (1 + rng.int(3));
      const x = randomHost(rng, shape);
      const reps = shape.map(() => 1 + rng.int(3));
      await expectSameOnWasmAndCpu('Tile', { x }, { reps }, `shape=[${shape}] reps=[${reps}]`);
      // Leading axes (the fast path), and any other subset (wasm's own kernels).
      const leading = Array.from({ length: 1 + rng.int(rank) }, (_, axis) => axis);
      const anyAxes = Array.from({ length: rank }, (_, axis) => axis).filter(() => rng.int(2) === 0);
      for (const axis of [leading, anyAxes]) {
        const keepDims = rng.int(2) === 0;
        for (const kernel of ['Sum', 'Mean']) {
          await expectSameOnWasmAndCpu(kernel, { x }, { axis, keepDims }, `shape=[${shape}] axis=[${axis}]`);
        }
      }
    },
  );

  test('Identity shares data (no copy) and keeps it alive while any reference remains', async () => {
    await tf.setBackend('wasm');
    const buffersBefore = tf.memory().numDataBuffers;
    const source = tf.tensor1d([1, 2, 3]);
    const clone = tf.clone(source);
    expect(tf.memory().numDataBuffers - buffersBefore).toBe(1);
    source.dispose();
    expect(Array.from(clone.dataSync())).toEqual([1, 2, 3]);
    clone.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffersBefore);
  });

  test('the SIMD kernels are available here (so the tests above exercise them)', () => {
    expect(simdKernelsFor(tf.backend() as never)).not.toBeNull();
  });

  test('batch 64 and the layer shapes of the reference network', async () => {
    const rng = new Rng(106);
    const batch = 64;
    // conv 3×3 16→32 stride 2 'same', as in the reference network (spatial size reduced: the cpu reference
    // is slow, and the batch is what changes the kernels' blocking).
    await expectSameOnWasmAndCpu(
      'Conv2DBackpropFilter',
      { x: randomHost(rng, [batch, 4, 4, 16]), dy: randomHost(rng, [batch, 2, 2, 32]) },
      { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 32] },
      'reference conv2',
    );
    await expectSameOnWasmAndCpu(
      'Conv2DBackpropInput',
      { dy: randomHost(rng, [batch, 2, 2, 32]), filter: randomHost(rng, [3, 3, 16, 32]) },
      { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', inputShape: [batch, 4, 4, 16] },
      'reference conv2',
    );
    await expectSameOnWasmAndCpu(
      'DepthwiseConv2dNativeBackpropFilter',
      { x: randomHost(rng, [batch, 7, 7, 32]), dy: randomHost(rng, [batch, 7, 7, 32]) },
      { strides: [1, 1], dilations: [1, 1], pad: 'same', filterShape: [3, 3, 32, 1] },
      'reference depthwise',
    );
    await expectSameOnWasmAndCpu(
      'DepthwiseConv2dNativeBackpropInput',
      { dy: randomHost(rng, [batch, 7, 7, 32]), filter: randomHost(rng, [3, 3, 32, 1]) },
      { strides: [1, 1], dilations: [1, 1], pad: 'same', inputShape: [batch, 7, 7, 32] },
      'reference depthwise',
    );
  });
});
