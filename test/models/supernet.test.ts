/**
 * The supernet's paths: every sampled genome runs, names and signs follow layerShapes(), recalibration
 * is required and exact, subnet extraction reproduces the evaluation logits, and gradients flow through
 * the straight-through estimators.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../common/rng';
import { OPERATORS, layerShapes } from '../../search/architecture';
import { decode } from '../../search/space/codec';
import { sampleGenome } from '../../search/space/sampling';
import { initTensorEngine } from '../../tensor/backend';
import { describePath } from '../../models/pathTopology';
import { digitalLinearOp, forwardFolded } from '../../models/inference';
import { activationStep, signedTopLevel } from '../../models/quantization';
import {
  PathMismatchError,
  Supernet,
  UncalibratedPathError,
  allocateSlots,
  leastErrorClip,
  pathKey,
  type PathSpec,
} from '../../models/supernet';
import { randomBatch, relativeError, tinySpace } from './supernetSupport';

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm' });
});

const SPACES = {
  'every operator': tinySpace(),
  'head conv, per-block widths, per-layer bits': tinySpace(
    { head: { channels: 16 }, widthChoice: 'block' },
    { granularity: 'layer', weightBits: [1, 2, 3, 8], activationBits: [1, 2, 5, 8] },
  ),
};

function withBits(path: PathSpec, weightBits: number, activationBits: number): PathSpec {
  const bits = { weightBits, activationBits };
  return {
    architecture: path.architecture,
    quantization: {
      stem: bits,
      head: bits,
      blocks: path.quantization.blocks.map((entry) => (entry ? bits : null)),
    },
  };
}

describe('Supernet paths', () => {
  it.each(Object.entries(SPACES))('runs every sampled genome of the space (%s)', (_, space) => {
    const supernet = new Supernet(space, { seed: 3 });
    const { images } = randomBatch(2, 1);
    const rng = new Rng(11);
    try {
      for (let i = 0; i < 15; i++) {
        const candidate = decode(space, sampleGenome(space, rng));
        const layers = describePath(candidate.architecture, candidate.quantization);
        expect(layers.map((layer) => layer.name)).toEqual(
          layerShapes(candidate.architecture, candidate.quantization).map((shape) => shape.name),
        );
        const training = supernet.forwardPath(images, candidate, { training: true, step: i });
        expect(training.shape).toEqual([2, 10]);
        expect(Array.from(training.dataSync()).every(Number.isFinite)).toBe(true);
        const batch = supernet.forwardPath(images, candidate, { training: false, evaluation: 'batch' });
        expect(batch.shape).toEqual([2, 10]);
        tf.dispose([training, batch]);
      }
    } finally {
      supernet.dispose();
      images.dispose();
    }
  });

  it('allocates each slot at the widest input and output it can see', () => {
    const slots = allocateSlots(tinySpace());
    expect(slots.map((slot) => [slot.maxInChannels, slot.maxOutChannels, slot.stride])).toEqual([
      [8, 8, 1], // stem → stage 0
      [8, 8, 1],
      [8, 12, 2], // stage 0 → stage 1
      [12, 12, 1],
    ]);
  });

  it('marks an input signed exactly where it can be negative', () => {
    const space = tinySpace({ operators: ['mbconv3_e1', 'conv3', 'skip'] });
    const supernet = new Supernet(space, { seed: 1 });
    const path = supernet.largestPath();
    supernet.dispose();
    // The largest path takes conv3 everywhere (more MACs than mbconv3_e1): all inputs are ReLU outputs.
    expect(describePath(path.architecture, path.quantization).every((layer) => !layer.inputSigned)).toBe(
      true,
    );
    const mbconv = { ...path, architecture: structuredClone(path.architecture) };
    const block = mbconv.architecture.blocks[1]!;
    Object.assign(block, {
      operator: 'mbconv3_e1',
      family: 'mbconv',
      kernel: 3,
      expansion: 1,
      hiddenChannels: 8,
      residual: true,
    });
    const signs = Object.fromEntries(
      describePath(mbconv.architecture, mbconv.quantization).map((layer) => [layer.name, layer.inputSigned]),
    );
    // The depthwise of mbconv3_e1 reads the block input (a ReLU output); the next block reads the
    // residual sum of the linear project.
    expect(signs['stage0.block1.depthwise']).toBe(false);
    expect(signs['stage0.block1.project']).toBe(false);
    expect(signs['stage1.block0.conv']).toBe(true);
  });

  it('starts same-family operators of a slot as the same function (aligned initialization)', () => {
    const space = tinySpace({ operators: ['conv3', 'conv5', 'mbconv3_e3', 'mbconv5_e3', 'skip'] });
    const { images } = randomBatch(4, 9);
    const logitsWith = (supernet: Supernet, operators: [string, string]) => {
      const path = supernet.largestPath();
      path.architecture.blocks.forEach((block, i) => {
        const operator = operators[i % 2]!;
        const definition = OPERATORS[operator as keyof typeof OPERATORS];
        Object.assign(block, {
          operator,
          family: definition.family,
          kernel: definition.kernel,
          expansion: definition.expansion,
          hiddenChannels: definition.family === 'mbconv' ? block.inChannels * definition.expansion : 0,
          residual:
            definition.family === 'mbconv' && block.stride === 1 && block.inChannels === block.outChannels,
        });
      });
      // Float: the activation ranges of an untrained supernet are not observed yet.
      const logits = supernet.forwardPath(images, path, {
        training: false,
        evaluation: 'batch',
        quantize: false,
      });
      const values = Array.from(logits.dataSync());
      logits.dispose();
      return values;
    };
    const aligned = new Supernet(space, { seed: 4 });
    const independent = new Supernet(space, { seed: 4, alignedInitialization: false });
    try {
      const small = logitsWith(aligned, ['conv3', 'mbconv3_e3']);
      const large = logitsWith(aligned, ['conv5', 'mbconv5_e3']);
      expect(relativeError(large, small)).toBeLessThan(1e-5);
      expect(relativeError(logitsWith(independent, ['conv5', 'mbconv5_e3']), small)).toBeGreaterThan(0.01);
      // Different families stay different functions.
      expect(relativeError(logitsWith(aligned, ['mbconv3_e3', 'conv3']), small)).toBeGreaterThan(0.01);
    } finally {
      aligned.dispose();
      independent.dispose();
      images.dispose();
    }
  });

  it('trains the largest path on the stated share of steps, the sampled path on the others', () => {
    const space = tinySpace();
    const pure = new Supernet(space, { seed: 5 });
    const sandwich = new Supernet(space, { seed: 5, largestPathShare: 0.4 });
    try {
      const largest = pathKey(pure.largestPath());
      const steps = Array.from({ length: 200 }, (_, step) => step);
      const largestSteps = (net: Supernet) => steps.filter((s) => pathKey(net.pathForStep(s)) === largest);
      expect(largestSteps(pure).length).toBeLessThan(3);
      expect(largestSteps(sandwich).length).toBeGreaterThan(60);
      expect(largestSteps(sandwich).length).toBeLessThan(100);
      for (const step of steps) {
        const path = sandwich.pathForStep(step);
        if (pathKey(path) !== largest) expect(path).toEqual(pure.pathForStep(step));
      }
      expect(() => new Supernet(space, { seed: 5, largestPathShare: 1.5 })).toThrow(RangeError);
    } finally {
      pure.dispose();
      sandwich.dispose();
    }
  });

  it('refuses a path the supernet has no weights for', () => {
    const supernet = new Supernet(tinySpace({ operators: ['conv3', 'skip'] }), { seed: 1 });
    const other = new Supernet(tinySpace({ operators: ['conv5', 'skip'] }), { seed: 1 });
    const { images } = randomBatch(1, 2);
    try {
      expect(() => supernet.forwardPath(images, other.largestPath(), { training: true })).toThrow(
        PathMismatchError,
      );
      const wide = supernet.largestPath();
      wide.architecture.blocks[0]!.outChannels = 64;
      expect(() => supernet.checkPath(wide)).toThrow(/output channels/);
    } finally {
      supernet.dispose();
      other.dispose();
      images.dispose();
    }
  });

  it('samples the path of a step from (seed, step) alone', () => {
    const space = tinySpace();
    const a = new Supernet(space, { seed: 5 });
    const b = new Supernet(space, { seed: 5 });
    const c = new Supernet(space, { seed: 6 });
    try {
      const steps = Array.from({ length: 20 }, (_, step) => step);
      expect(steps.map((s) => a.sampler.describeStep(s))).toEqual(
        steps.map((s) => b.sampler.describeStep(s)),
      );
      expect(steps.map((s) => a.sampler.describeStep(s))).not.toEqual(
        steps.map((s) => c.sampler.describeStep(s)),
      );
      expect(new Set(steps.map((s) => a.sampler.describeStep(s))).size).toBeGreaterThan(15);
    } finally {
      [a, b, c].forEach((net) => net.dispose());
    }
  });
});

describe('BatchNorm recalibration and subnet extraction', () => {
  /** A supernet with a few training steps behind it, so BatchNorm and ranges are not at their defaults. */
  function trainedSupernet(space = tinySpace()) {
    const supernet = new Supernet(space, { seed: 9 });
    const optimizer = tf.train.sgd(0.05);
    for (let step = 0; step < 12; step++) {
      const { images, labels } = randomBatch(8, 100 + step);
      optimizer
        .minimize(() => supernet.loss(images, labels, step), true, supernet.trainableVariables())
        ?.dispose();
      tf.dispose([images, labels]);
    }
    optimizer.dispose();
    return supernet;
  }

  it('requires a recalibration before evaluating with running statistics', () => {
    const supernet = trainedSupernet();
    const path = supernet.largestPath();
    const calibration = [randomBatch(16, 7).images];
    const { images, labels } = randomBatch(4, 8);
    try {
      expect(() => supernet.forwardPath(images, path, { training: false })).toThrow(UncalibratedPathError);
      expect(() => supernet.extractSubnet(path)).toThrow(UncalibratedPathError);
      supernet.recalibrateBatchNorm(path, calibration);
      expect(supernet.isCalibrated(path)).toBe(true);
      tf.dispose(supernet.forwardPath(images, path, { training: false }));
      tf.dispose(supernet.loss(images, labels, 99));
      expect(supernet.isCalibrated(path)).toBe(false);
    } finally {
      supernet.dispose();
      tf.dispose([...calibration, images, labels]);
    }
  });

  it('recalibrates to the exact statistics of the calibration images', () => {
    const supernet = trainedSupernet();
    const path = supernet.largestPath();
    const batches = [randomBatch(8, 21).images, randomBatch(24, 22).images];
    const all = tf.concat(batches) as tf.Tensor4D;
    const stemStatistics = () =>
      ['stem/bn/running_mean', 'stem/bn/running_variance'].map((name) =>
        Array.from(supernet.variables.get(name)!.dataSync()),
      );
    try {
      // On one batch, the running statistics become that batch's statistics...
      supernet.recalibrateBatchNorm(path, [all]);
      const running = supernet.forwardPath(all, path, { training: false, evaluation: 'running' });
      const batch = supernet.forwardPath(all, path, { training: false, evaluation: 'batch' });
      expect(relativeError(running.dataSync(), batch.dataSync())).toBeLessThan(1e-4);
      tf.dispose([running, batch]);
      // ...and over several, the statistics of all their images, each batch weighted by its size. (Only the
      // first layer's are comparable: deeper inputs depend on how each batch normalized the layers before.)
      const [meanAll, varianceAll] = stemStatistics();
      supernet.recalibrateBatchNorm(path, batches);
      const [meanBatches, varianceBatches] = stemStatistics();
      expect(relativeError(meanBatches!, meanAll!)).toBeLessThan(1e-4);
      expect(relativeError(varianceBatches!, varianceAll!)).toBeLessThan(1e-4);
    } finally {
      supernet.dispose();
      tf.dispose([...batches, all]);
    }
  });

  it('extracts a folded subnet whose inference reproduces the evaluation logits', () => {
    const supernet = trainedSupernet();
    const rng = new Rng(4);
    const calibration = [randomBatch(32, 31).images];
    const { images } = randomBatch(8, 32);
    let worstFoldingError = 0;
    try {
      for (let i = 0; i < 8; i++) {
        const sampled = decode(supernet.space, sampleGenome(supernet.space, rng));
        // Folding reorders the arithmetic (conv(x, w)·g + b instead of BN(conv(x, w))), so the two differ by
        // float rounding — and where that moves a value across a rounding boundary of a later activation
        // grid, by a whole grid step. 24-bit grids (finer than float32 resolves at these magnitudes) leave
        // only the float rounding, which is what this comparison measures.
        for (const path of [sampled, withBits(sampled, 24, 24)]) {
          supernet.recalibrateBatchNorm(path, calibration);
          const evaluation = supernet.forwardPath(images, path, { training: false });
          const net = supernet.extractSubnet(path);
          const folded = forwardFolded(net, images, digitalLinearOp);
          // The evaluation mode is the folded arithmetic: equal to the last bit.
          expect(Array.from(folded.dataSync())).toEqual(Array.from(evaluation.dataSync()));
          if (path !== sampled) {
            const unfolded = supernet.forwardPath(images, path, { training: false, evaluation: 'running' });
            worstFoldingError = Math.max(
              worstFoldingError,
              relativeError(folded.dataSync(), unfolded.dataSync()),
            );
            unfolded.dispose();
          }
          tf.dispose([evaluation, folded]);
        }
      }
      expect(worstFoldingError).toBeLessThan(1e-4);
    } finally {
      supernet.dispose();
      tf.dispose([...calibration, images]);
    }
  });

  it('puts every folded kernel on its weight grid and records the input grids', () => {
    const space = SPACES['head conv, per-block widths, per-layer bits'];
    const supernet = trainedSupernet(space);
    const rng = new Rng(8);
    const calibration = [randomBatch(16, 41).images];
    try {
      for (let i = 0; i < 6; i++) {
        const path = decode(space, sampleGenome(space, rng));
        supernet.recalibrateBatchNorm(path, calibration);
        const net = supernet.extractSubnet(path);
        const shapes = layerShapes(path.architecture, path.quantization);
        expect(net.layers.map((layer) => layer.shape)).toEqual(shapes);
        for (const layer of net.layers) {
          const top = signedTopLevel(layer.shape.weightBits);
          const out = layer.shape.outChannels;
          expect(layer.weightScale.length).toBe(out);
          expect(layer.bias.length).toBe(out);
          expect(layer.inputScale).toBeGreaterThan(0);
          const offGrid: string[] = [];
          for (let index = 0; index < layer.kernel.length; index++) {
            // The output channel is the last axis (conv, dense) or the channel axis (depthwise).
            const channel = layer.shape.kind === 'depthwise' ? index % layer.kernelShape[2]! : index % out;
            const scale = layer.weightScale[channel]!;
            const level = scale === 0 ? 0 : Math.round(layer.kernel[index]! / scale);
            if (
              !(scale >= 0) ||
              Math.abs(level) > top ||
              layer.kernel[index] !== Math.fround(level * scale)
            ) {
              offGrid.push(`${layer.shape.name}[${index}] = ${layer.kernel[index]} (scale ${scale})`);
            }
          }
          expect(offGrid).toEqual([]);
        }
      }
    } finally {
      supernet.dispose();
      tf.dispose(calibration);
    }
  });
});

describe('straight-through gradients', () => {
  it.each([2, 8])('reach every quantized weight layer of the path at %i bits', (bits) => {
    const space = tinySpace();
    const supernet = new Supernet(space, { seed: 2 });
    const path = withBits(decode(space, sampleGenome(space, new Rng(bits))), bits, bits);
    const { images, labels } = randomBatch(8, 3);
    try {
      const { value, grads } = tf.variableGrads(() => {
        const logits = supernet.forwardPath(images, path, { training: true });
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits) as tf.Scalar;
      }, supernet.trainableVariables());
      const kernelGradNorms = new Map<string, number>();
      for (const [name, grad] of Object.entries(grads)) {
        const stable = supernet.stableNameOf(name)!;
        if (grad && stable.endsWith('/kernel')) kernelGradNorms.set(stable, tf.norm(grad).dataSync()[0]!);
      }
      const layers = describePath(path.architecture, path.quantization);
      expect(kernelGradNorms.size).toBe(layers.length);
      for (const norm of kernelGradNorms.values()) expect(norm).toBeGreaterThan(0);
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      supernet.dispose();
      tf.dispose([images, labels]);
    }
  });
});

describe('in-place distillation', () => {
  /** The stable names of the kernels a path uses (Supernet.paramsOf's keys). */
  const kernelsOf = (path: PathSpec): Set<string> =>
    new Set(
      describePath(path.architecture, path.quantization).map((layer) =>
        layer.slot === null
          ? `${layer.name}/kernel`
          : `${layer.name.slice(0, layer.name.lastIndexOf('.'))}/${layer.operator}/${layer.role}/kernel`,
      ),
    );

  it("trains the largest path on the labels and the step's path on the largest path's predictions", () => {
    const space = tinySpace();
    const distilled = new Supernet(space, { seed: 5, inPlaceDistillation: true });
    // A twin (same seed, same weights) computes the loss by hand, with the same forwards in the same order
    // (a training forward updates the activation ranges, so the order matters).
    const twin = new Supernet(space, { seed: 5 });
    const { images, labels } = randomBatch(16, 9);
    const gradientsOf = (net: Supernet, loss: () => tf.Scalar) => {
      const { value, grads } = tf.variableGrads(loss, net.trainableVariables());
      const named = new Map<string, tf.Tensor>();
      for (const [name, grad] of Object.entries(grads)) if (grad) named.set(net.stableNameOf(name)!, grad);
      const result = { loss: value.dataSync()[0]!, grads: named };
      value.dispose();
      return result;
    };
    try {
      const largest = distilled.largestPath();
      const step = Array.from({ length: 50 }, (_, s) => s).find(
        (s) => pathKey(distilled.pathForStep(s)) !== pathKey(largest),
      )!;
      const student = distilled.pathForStep(step);
      const actual = gradientsOf(distilled, () => distilled.loss(images, labels, step));
      let hardLoss = 0;
      const expected = gradientsOf(twin, () => {
        const teacherLogits = twin.forwardPath(images, largest, { training: true, step });
        const studentLogits = twin.forwardPath(images, student, { training: true, step });
        // Soft targets as a constant read back from the teacher: no gradient can reach the teacher from them.
        const targets = tf.tensor2d(tf.softmax(teacherLogits).arraySync() as number[][]);
        const hard = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), teacherLogits);
        hardLoss = hard.dataSync()[0]!;
        return tf.add(hard, tf.losses.softmaxCrossEntropy(targets, studentLogits)) as tf.Scalar;
      });
      expect(actual.loss).toBeCloseTo(expected.loss, 5);
      expect(actual.loss).toBeGreaterThan(hardLoss);
      expect([...actual.grads.keys()].sort()).toEqual([...expected.grads.keys()].sort());
      for (const [name, grad] of actual.grads) {
        expect(relativeError(grad.dataSync(), expected.grads.get(name)!.dataSync())).toBeLessThan(1e-4);
      }
      // Both paths learn: the student's own kernels and the teacher's own kernels have gradients.
      const studentOnly = [...kernelsOf(student)].filter((name) => !kernelsOf(largest).has(name));
      const teacherOnly = [...kernelsOf(largest)].filter((name) => !kernelsOf(student).has(name));
      expect(studentOnly.length).toBeGreaterThan(0);
      expect(teacherOnly.length).toBeGreaterThan(0);
      for (const name of [...studentOnly, ...teacherOnly]) {
        expect(tf.norm(actual.grads.get(name)!).dataSync()[0]).toBeGreaterThan(0);
      }
      tf.dispose([...actual.grads.values(), ...expected.grads.values()]);
    } finally {
      distilled.dispose();
      twin.dispose();
      tf.dispose([images, labels]);
    }
  });

  it('with the smallest path in the sandwich, also trains the smallest path on the largest path', () => {
    const space = tinySpace();
    const sandwich = new Supernet(space, { seed: 5, inPlaceDistillation: true, sandwichSmallestPath: true });
    const twin = new Supernet(space, { seed: 5 });
    const { images, labels } = randomBatch(16, 9);
    try {
      const largest = sandwich.largestPath();
      const smallest = sandwich.smallestPath();
      // The smallest path is the low corner: the fewest bits everywhere, the narrowest widths.
      expect(smallest.quantization.stem.activationBits).toBe(Math.min(...space.quantization.activationBits));
      expect(smallest.quantization.stem.weightBits).toBe(Math.min(...space.quantization.weightBits));
      const step = Array.from({ length: 50 }, (_, s) => s).find((s) => {
        const key = pathKey(sandwich.pathForStep(s));
        return key !== pathKey(largest) && key !== pathKey(smallest);
      })!;
      const student = sandwich.pathForStep(step);
      const actual = tf.tidy(() => sandwich.loss(images, labels, step).dataSync()[0]!);
      const expected = tf.tidy(() => {
        const teacherLogits = twin.forwardPath(images, largest, { training: true, step });
        const targets = tf.tensor2d(tf.softmax(teacherLogits).arraySync() as number[][]);
        const soft = (path: PathSpec) =>
          tf.losses.softmaxCrossEntropy(targets, twin.forwardPath(images, path, { training: true, step }));
        const hard = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), teacherLogits);
        return tf.addN([hard, soft(student), soft(smallest)]).dataSync()[0]!;
      });
      expect(actual).toBeCloseTo(expected, 5);
      expect(() => new Supernet(space, { seed: 5, sandwichSmallestPath: true })).toThrow(
        /sandwichSmallestPath .* needs inPlaceDistillation/,
      );
    } finally {
      sandwich.dispose();
      twin.dispose();
      tf.dispose([images, labels]);
    }
  });

  it('leaves the largest path and a fixed path (standalone training) on the labels alone', () => {
    const space = tinySpace();
    const distilled = new Supernet(space, { seed: 5, inPlaceDistillation: true, largestPathShare: 0.5 });
    const plain = new Supernet(space, { seed: 5, largestPathShare: 0.5 });
    const { images, labels } = randomBatch(16, 9);
    try {
      const largest = pathKey(distilled.largestPath());
      const largestStep = Array.from({ length: 50 }, (_, s) => s).find(
        (s) => pathKey(distilled.pathForStep(s)) === largest,
      )!;
      const lossOf = (net: Supernet, step: number) =>
        tf.tidy(() => net.loss(images, labels, step).dataSync()[0]!);
      expect(lossOf(distilled, largestStep)).toBe(lossOf(plain, largestStep));
      const fixed = distilled.pathForStep(largestStep + 1);
      distilled.fixedPath = fixed;
      plain.fixedPath = fixed;
      expect(lossOf(distilled, 0)).toBe(lossOf(plain, 0));
    } finally {
      distilled.dispose();
      plain.dispose();
      tf.dispose([images, labels]);
    }
  });
});

describe('low-bit range clipping', () => {
  it('clips a 2-bit grid below an outlier where that lowers the squared error, and keeps the max otherwise', () => {
    const bulk = Array.from({ length: 999 }, (_, i) => i / 999);
    const clip = (values: number[]) =>
      tf.tidy(() => {
        const x = tf.tensor1d(values);
        return leastErrorClip(x, tf.max(x) as tf.Scalar, 0, 3).dataSync()[0]!;
      });
    // One outlier at 10: a grid spanning it rounds the whole bulk to 0 (error ≈ 333); clipping costs the
    // outlier alone (10 − 1.25)² ≈ 77 and keeps the bulk on the grid.
    expect(clip([...bulk, 10])).toBeCloseTo(1.25, 5);
    // A uniform input is quantized best over its whole span.
    expect(clip([...bulk, 1])).toBeCloseTo(1, 5);
  });

  it('keeps the clipped ranges of 2-bit grids apart from the running max, and folds with them', () => {
    const space = tinySpace();
    const clipping = new Supernet(space, { seed: 5, lowBitRangeClipping: true });
    const plain = new Supernet(space, { seed: 5 });
    const { images, labels } = randomBatch(16, 9);
    try {
      const path = clipping.smallestPath();
      expect(path.quantization.stem.activationBits).toBe(2);
      const rangeOf = (net: Supernet, name: string) => net.variables.get(name)!.dataSync()[0]!;
      tf.tidy(() => clipping.forwardPath(images, path, { training: true, step: 0 }));
      tf.tidy(() => plain.forwardPath(images, path, { training: true, step: 0 }));
      // The stem's 2-bit input: its own range, at most the max the plain supernet records; max untouched.
      expect(rangeOf(clipping, 'stem/input_range_low_bits')).toBeGreaterThan(0);
      expect(rangeOf(clipping, 'stem/input_range_low_bits')).toBeLessThanOrEqual(
        rangeOf(plain, 'stem/input_range'),
      );
      expect(rangeOf(clipping, 'stem/input_range')).toBe(0);
      expect(plain.variables.has('stem/input_range_low_bits')).toBe(false);
      // A path with wider grids uses and updates the max, as without the option.
      const wide = clipping.largestPath();
      tf.tidy(() => clipping.forwardPath(images, wide, { training: true, step: 1 }));
      expect(rangeOf(clipping, 'stem/input_range')).toBeGreaterThan(0);
      // Folding and evaluation use the clipped range for the 2-bit grid.
      clipping.recalibrateBatchNorm(path, [images]);
      const folded = clipping.extractSubnet(path);
      expect(folded.layers[0]!.inputScale).toBe(
        activationStep(rangeOf(clipping, 'stem/input_range_low_bits'), 2, false),
      );
      const logits = clipping.forwardPath(images, path, { training: false });
      const running = clipping.forwardPath(images, path, { training: false, evaluation: 'running' });
      expect(relativeError(logits.dataSync(), running.dataSync())).toBeLessThan(1e-3);
      tf.dispose([logits, running]);
    } finally {
      clipping.dispose();
      plain.dispose();
      tf.dispose([images, labels]);
    }
  });
});
