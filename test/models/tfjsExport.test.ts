/**
 * The TensorFlow.js export of a folded network: loaded back by tfjs-layers' own loader (from the two
 * files, and over HTTP as a browser would), it computes forwardFolded's logits up to the activation
 * quantization it leaves out; the files are what they declare; and the same model gives the same bytes.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../common/rng';
import type { FoldedNetwork } from '../../models/folded';
import { forwardFolded } from '../../models/inference';
import { Supernet, type PathSpec } from '../../models/supernet';
import {
  TFJS_MODEL_FILE,
  TFJS_WEIGHTS_FILE,
  exportFoldedNetwork,
  toLayersModel,
  type ExportedModelMetadata,
} from '../../models/tfjsExport';
import type { OperatorName } from '../../search/architecture';
import { decode, type Genome } from '../../search/space/codec';
import { buildLayout } from '../../search/space/layout';
import { resolveSearchSpace } from '../../search/space/parse';
import { sha256 } from '../../storage/atomic';
import { initTensorEngine } from '../../tensor/backend';

const IMAGE_SHAPE: [number, number, number] = [28, 28, 1];
const CLASSES = 10;

/** A strided stem, two stages (the second strided), a head conv: small enough for seconds of training. */
const SPACE = resolveSearchSpace({
  network: {
    stem: { channels: 8, stride: 2 },
    stages: [
      { blocks: 2, widths: [8], stride: 1 },
      { blocks: 3, widths: [12], stride: 2 },
    ],
    operators: ['conv5', 'dwsep3', 'mbconv3_e3', 'mbconv5_e1', 'skip'],
    head: { channels: 16 },
  },
  quantization: { weightBits: [4, 8], activationBits: [4, 6, 8] },
});

/**
 * Every operator family and both residual forms: dwsep (stride 1), mbconv with expand + residual,
 * conv with the stage's stride 2, mbconv without expand + residual, skip.
 */
const OPERATORS_BY_SLOT: OperatorName[] = ['dwsep3', 'mbconv3_e3', 'conv5', 'mbconv5_e1', 'skip'];

function chosenPath(activationBits: number): PathSpec {
  const layout = buildLayout(SPACE);
  const genome: Genome = new Array<number>(layout.length).fill(0);
  const set = (gene: number, value: number | string) => {
    const index = layout.genes[gene]!.values.indexOf(value);
    if (index < 0) throw new Error(`gene ${layout.genes[gene]!.name} has no value ${value}`);
    genome[gene] = index;
  };
  for (const bits of [layout.stemBits, layout.headBits, ...layout.blockSlots.map((slot) => slot.bits)]) {
    set(bits.weightBits, 8);
    set(bits.activationBits, activationBits);
  }
  layout.blockSlots.forEach((slot, i) => set(slot.operatorGene, OPERATORS_BY_SLOT[i]!));
  return decode(SPACE, genome);
}

/**
 * Images of 10 classes: each class a seeded 7×7 pattern upsampled to 28×28, plus uniform noise, so a
 * briefly trained network has real, input-dependent logits (random labels would train it to a constant).
 */
function classImages(count: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const patterns = Array.from({ length: CLASSES }, (_, c) => {
    const rng = new Rng(1000 + c);
    return Float32Array.from({ length: 49 }, () => rng.next());
  });
  const rng = new Rng(seed);
  const [height, width] = IMAGE_SHAPE;
  const pixels = new Float32Array(count * height * width);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = rng.int(CLASSES);
    labels[n] = label;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const pattern = patterns[label]![Math.floor(y / 4) * 7 + Math.floor(x / 4)]!;
        pixels[(n * height + y) * width + x] = 0.7 * pattern + 0.3 * rng.next();
      }
    }
  }
  return { images: tf.tensor4d(pixels, [count, ...IMAGE_SHAPE]), labels: tf.tensor1d(labels, 'int32') };
}

/**
 * A supernet whose chosen path is trained at each activation width the tests export, in turn, to ~99 %
 * accuracy on these images: a network that barely separates its classes has many near-ties, which any
 * perturbation (here: leaving out the activation rounding) flips — agreement would measure the margins,
 * not the export.
 */
const TRAINING_STEPS = 200;
function trainedSupernet(bitWidths: number[]): Supernet {
  const supernet = new Supernet(SPACE, { seed: 5 });
  const optimizer = tf.train.sgd(0.1);
  for (let step = 0; step < TRAINING_STEPS; step++) {
    supernet.fixedPath = chosenPath(bitWidths[step % bitWidths.length]!);
    const { images, labels } = classImages(16, 200 + step);
    optimizer
      .minimize(() => supernet.loss(images, labels, step), true, supernet.trainableVariables())
      ?.dispose();
    tf.dispose([images, labels]);
  }
  supernet.fixedPath = null;
  optimizer.dispose();
  return supernet;
}

/** A load handler reading model.json and its weight files from a directory, as tfjs-node's file:// does. */
function directoryLoader(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJson = JSON.parse(
        await fs.readFile(path.join(dir, TFJS_MODEL_FILE), 'utf8'),
      ) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const files = await Promise.all(
          manifest.flatMap((group) => group.paths).map((file) => fs.readFile(path.join(dir, file))),
        );
        const data = Buffer.concat(files);
        return [specs, data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)];
      });
    },
  };
}

/**
 * Node's fetch, its JSON parsed and its bytes copied in the test's own realm: jest runs tests in a vm
 * context, and objects built by Node's fetch in the main realm fail tfjs-layers' `instanceof` and
 * iteration checks there (a jest artifact: in a plain Node process the default fetch loads the model).
 */
const inRealmFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const inRealm = {
    ok: response.ok,
    status: response.status,
    json: async () => JSON.parse(await response.text()) as unknown,
    arrayBuffer: async () => Uint8Array.from(new Uint8Array(await response.arrayBuffer())).buffer,
  };
  // The part of a Response that tfjs' HTTP loader reads (ok, status, json, arrayBuffer).
  return inRealm as unknown as Response;
};

/** Serves a directory's files over HTTP on a free local port until `close`. */
async function serveDirectory(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    fs.readFile(path.join(dir, path.basename(request.url ?? '')))
      .then((body) => response.writeHead(200).end(body))
      .catch(() => response.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // fetch keeps its connections alive, which close() would wait for.
        server.closeAllConnections();
      }),
  };
}

/** max |actual − expected| / max |expected| over a batch of logits. */
function relativeLogitError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  return worst / scale;
}

/** Share of images whose top-1 class is the same in two batches of logits. */
function topOneAgreement(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const a = predictions(actual);
  const b = predictions(expected);
  return a.filter((label, i) => label === b[i]).length / a.length;
}

function predictions(logits: ArrayLike<number>): number[] {
  const labels: number[] = [];
  for (let start = 0; start < logits.length; start += CLASSES) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (logits[start + c]! > logits[start + best]!) best = c;
    labels.push(best);
  }
  return labels;
}

function withActivationBits(path: PathSpec, activationBits: number): PathSpec {
  const bits = (entry: { weightBits: number }) => ({ weightBits: entry.weightBits, activationBits });
  return {
    architecture: path.architecture,
    quantization: {
      stem: bits(path.quantization.stem),
      head: bits(path.quantization.head),
      blocks: path.quantization.blocks.map((entry) => (entry ? bits(entry) : null)),
    },
  };
}

const BIT_WIDTHS = [8, 6, 4];
let supernet: Supernet;
let workDir: string;
let evaluation: { images: tf.Tensor4D; labels: tf.Tensor1D };

beforeAll(async () => {
  await initTensorEngine({ backend: 'wasm' });
  supernet = trainedSupernet(BIT_WIDTHS);
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-tfjs-export-'));
  evaluation = classImages(256, 77);
});

afterAll(async () => {
  supernet?.dispose();
  if (evaluation) tf.dispose([evaluation.images, evaluation.labels]);
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

/** The chosen path folded after a BatchNorm recalibration at its bits (as stages 2–4 do). */
function folded(path: PathSpec): FoldedNetwork {
  const calibration = [classImages(64, 31).images];
  supernet.recalibrateBatchNorm(path, calibration);
  tf.dispose(calibration);
  return supernet.extractSubnet(path);
}

/** Exports `net` to `dir`, loads it back from the files, and returns both models' logits on the batch. */
async function exportedAndFoldedLogits(net: FoldedNetwork, dir: string) {
  await exportFoldedNetwork(net, dir);
  const model = await tfl.loadLayersModel(directoryLoader(dir));
  try {
    const expected = forwardFolded(net, evaluation.images);
    const actual = model.predict(evaluation.images) as tf.Tensor;
    const result = {
      shape: actual.shape,
      folded: expected.dataSync(),
      exported: actual.dataSync(),
      metadata: model.getUserDefinedMetadata() as ExportedModelMetadata,
    };
    tf.dispose([expected, actual]);
    return result;
  } finally {
    model.dispose();
  }
}

describe('tfjs LayersModel export', () => {
  it('exports a path with every operator family, both residual forms and a head conv', () => {
    const { architecture } = chosenPath(8);
    expect(
      architecture.blocks.map((block) => [block.family, block.expansion, block.stride, block.residual]),
    ).toEqual([
      ['dwsep', 1, 1, false],
      ['mbconv', 3, 1, true],
      ['conv', 1, 2, false],
      ['mbconv', 1, 1, true],
      ['skip', 0, 1, false],
    ]);
    expect(architecture.head.convChannels).toBe(16);
    // The trained network separates the classes (see TRAINING_STEPS).
    const net = folded(chosenPath(8));
    const logits = forwardFolded(net, evaluation.images);
    const labels = Array.from(evaluation.labels.dataSync());
    const correct = predictions(logits.dataSync()).filter((label, i) => label === labels[i]).length;
    logits.dispose();
    expect(correct / labels.length).toBeGreaterThan(0.9);
  });

  it('computes the folded logits to float rounding where activation rounding vanishes (24-bit grids)', async () => {
    // 24-bit grids are finer than float32 resolves at these magnitudes but keep each layer's clipping
    // range: what remains is the topology, the weights, the clipping and float rounding (the exported
    // convolutions add the bias inside a fused kernel, forwardFolded after it).
    const net = folded(withActivationBits(chosenPath(8), 24));
    const result = await exportedAndFoldedLogits(net, path.join(workDir, 'bits-24', 'tfjs'));
    expect(result.shape).toEqual([evaluation.images.shape[0], CLASSES]);
    const error = relativeLogitError(result.exported, result.folded);
    console.log(`24-bit activation grids: max |Δlogit| / max |logit| = ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-5);
    expect(topOneAgreement(result.exported, result.folded)).toBe(1);
  });

  it.each(BIT_WIDTHS)('agrees with the quantized folded network at %i-bit activations', async (bits) => {
    const net = folded(chosenPath(bits));
    const result = await exportedAndFoldedLogits(net, path.join(workDir, `bits-${bits}`, 'tfjs'));
    const error = relativeLogitError(result.exported, result.folded);
    const agreement = topOneAgreement(result.exported, result.folded);
    console.log(
      `${bits}-bit activations: max |Δlogit| / max |logit| = ${error.toExponential(2)}, top-1 agreement ${(agreement * 100).toFixed(1)} %`,
    );
    // The export leaves out the rounding of every layer input to its grid (the clipping stays): each input
    // moves by up to half a step — 1/510 of its range on an unsigned 8-bit grid, 1/254 on a signed one —
    // and a dozen layers accumulate it. Measured: 1.5–2.5 % of the largest logit at 8 bits, so 5 %.
    if (bits === 8) expect(error).toBeLessThan(0.05);
    expect(agreement).toBeGreaterThanOrEqual(0.95);
    // Each layer input's grid travels in model.json for a deployment that quantizes.
    const grids = result.metadata.imcnas.inputQuantization;
    expect(result.metadata.imcnas.activations).toBe('float');
    expect(grids.map((grid) => [grid.layer, grid.bits, grid.step, grid.signed])).toEqual(
      net.layers.map((layer) => [
        layer.shape.name,
        layer.shape.activationBits,
        layer.inputScale,
        layer.inputSigned,
      ]),
    );
  });

  it('writes model.json and weights.bin as they declare, byte-identical on every export', async () => {
    const net = folded(chosenPath(8));
    const first = path.join(workDir, 'deterministic', 'first');
    const second = path.join(workDir, 'deterministic', 'second');
    const files = await exportFoldedNetwork(net, first);
    await exportFoldedNetwork(net, second);
    const modelJson = await fs.readFile(path.join(first, TFJS_MODEL_FILE));
    const weights = await fs.readFile(path.join(first, TFJS_WEIGHTS_FILE));
    expect(await fs.readFile(path.join(second, TFJS_MODEL_FILE))).toEqual(modelJson);
    expect(await fs.readFile(path.join(second, TFJS_WEIGHTS_FILE))).toEqual(weights);
    expect(files).toEqual([
      { file: TFJS_MODEL_FILE, bytes: modelJson.length, sha256: sha256(modelJson) },
      { file: TFJS_WEIGHTS_FILE, bytes: weights.length, sha256: sha256(weights) },
    ]);

    const json = JSON.parse(modelJson.toString('utf8')) as tf.io.ModelJSON;
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0]!.paths).toEqual([TFJS_WEIGHTS_FILE]);
    // float32 weights: the declared shapes account for every byte of weights.bin.
    const specs = json.weightsManifest[0]!.weights;
    expect(specs.every((spec) => spec.dtype === 'float32')).toBe(true);
    const declaredBytes = specs.reduce((sum, spec) => sum + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
    expect(weights.length).toBe(declaredBytes);
    // One kernel and one bias per folded layer, under the folded layer's name.
    const expectedWeights = net.layers.flatMap((layer) => [
      {
        name: `${layer.shape.name}/${layer.shape.kind === 'depthwise' ? 'depthwise_kernel' : 'kernel'}`,
        shape: layer.kernelShape,
      },
      { name: `${layer.shape.name}/bias`, shape: [layer.shape.outChannels] },
    ]);
    expect(
      specs.map(({ name, shape }) => ({ name, shape })).sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual(expectedWeights.sort((a, b) => a.name.localeCompare(b.name)));

    // A new export over an existing one replaces it whole and leaves no temp directories behind.
    await exportFoldedNetwork(folded(chosenPath(4)), first);
    expect(await fs.readFile(path.join(first, TFJS_MODEL_FILE))).not.toEqual(modelJson);
    expect((await fs.readdir(path.dirname(first))).sort()).toEqual(['first', 'second']);
    expect((await fs.readdir(first)).sort()).toEqual([TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE]);
  });

  it('loads over HTTP with the stock tfjs loader, as a browser does', async () => {
    const net = folded(chosenPath(8));
    const dir = path.join(workDir, 'http');
    await exportFoldedNetwork(net, dir);
    const server = await serveDirectory(dir);
    const fromFiles = await tfl.loadLayersModel(directoryLoader(dir));
    const overHttp = await tfl.loadLayersModel(`${server.url}/${TFJS_MODEL_FILE}`, {
      fetchFunc: inRealmFetch,
    });
    try {
      const a = overHttp.predict(evaluation.images) as tf.Tensor;
      const b = fromFiles.predict(evaluation.images) as tf.Tensor;
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
    } finally {
      fromFiles.dispose();
      overHttp.dispose();
      await server.close();
    }
  });

  it('builds the model in memory with the same logits as the loaded one', async () => {
    const net = folded(chosenPath(8));
    const dir = path.join(workDir, 'in-memory');
    await exportFoldedNetwork(net, dir);
    const built = toLayersModel(net);
    const loaded = await tfl.loadLayersModel(directoryLoader(dir));
    try {
      const a = built.predict(evaluation.images) as tf.Tensor;
      const b = loaded.predict(evaluation.images) as tf.Tensor;
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      expect(built.layers.map((layer) => layer.name)).toEqual(loaded.layers.map((layer) => layer.name));
      tf.dispose([a, b]);
    } finally {
      built.dispose();
      loaded.dispose();
    }
  });

  it('refuses a folded network whose layers do not match its architecture', () => {
    const net = folded(chosenPath(8));
    expect(() => toLayersModel({ ...net, layers: net.layers.slice(1) })).toThrow(
      /inconsistent folded network/,
    );
  });
});
