/**
 * `npm run bench -- onnx`: the ONNX export (models/onnx/export.ts) checked and run by the reference tools.
 * For the largest network of examples/quick.yaml's space and four sampled ones (every operator family the
 * space offers; weights from a supernet trained for 300 SPOS steps of 64
 * images, BatchNorm recalibrated on 256 training images and folded as stage 4 folds it), on 500
 * Fashion-MNIST test images:
 *
 * - onnx.checker (full check) accepts each model, and onnxruntime's logits match the TensorFlow.js
 *   export's (the same float semantics: inputs clipped to each layer's grid, not rounded):
 *   `max_abs_logit_diff`, `argmax_agreement_tfjs`;
 * - the classes agree with imcnas's own quantized inference (forwardFolded) up to the activation rounding
 *   neither export carries: `argmax_agreement_quantized`;
 * - re-imported by models/onnx/layers.ts, every design costs exactly what the search computed:
 *   `cost_roundtrip_exact`.
 *
 * The peer (PyPI onnx 1.23.2, onnxruntime 1.32.0) is found as $ONNX_PYTHON, else
 * bench/peers/onnx/.venv/bin/python, else python3.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../common/rng';
import { loadConfigFile } from '../config/load';
import { loadSplits } from '../data/dataset';
import { evaluateNetwork } from '../hardware/cost';
import { forwardFolded } from '../models/inference';
import { foldedNetworkToOnnx } from '../models/onnx/export';
import { onnxLayerShapes } from '../models/onnx/layers';
import { decodeOnnxModel } from '../models/onnx/model';
import { Supernet } from '../models/supernet';
import { toLayersModel } from '../models/tfjsExport';
import { largestNetworkGenome } from '../search/space/adapters';
import { decode } from '../search/space/codec';
import { resolveSearchSpace } from '../search/space/parse';
import { sampleGenome } from '../search/space/sampling';
import { initTensorEngine } from '../tensor/backend';
import { trainBriefly } from './briefTraining';
import type { BenchFigures } from './run';

const IMAGES = 500;
const TRAIN_STEPS = 300;
const PEER = path.join(__dirname, 'peers', 'onnx', 'run.py');
const PROVISION =
  'python3 -m venv bench/peers/onnx/.venv && bench/peers/onnx/.venv/bin/pip install -r bench/peers/onnx/requirements.txt';

function findPython(): string {
  const candidates = [
    process.env.ONNX_PYTHON,
    path.join(__dirname, 'peers', 'onnx', '.venv', 'bin', 'python'),
    'python3',
  ].filter((candidate): candidate is string => Boolean(candidate));
  for (const python of candidates) {
    if (python.includes(path.sep) && !fs.existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import onnx, onnxruntime'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  throw new Error(
    `no Python with onnx and onnxruntime (tried ${candidates.join(', ')}); provision with: ${PROVISION}`,
  );
}

export async function run(): Promise<BenchFigures> {
  const python = findPython();
  await initTensorEngine();
  const config = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  const space = resolveSearchSpace(config.space);
  const rng = new Rng(2026);
  const sampled = Array.from({ length: 4 }, () => sampleGenome(space, rng));
  const genomes = [largestNetworkGenome(space, sampled[0]!), ...sampled];
  const supernet = new Supernet(space, { seed: config.seed });
  const splits = await loadSplits(config.dataset, config.seed);
  // A briefly trained supernet (SPOS: one sampled path per step), so the logits carry real class evidence.
  trainBriefly(supernet, splits, space.network.inputShape, TRAIN_STEPS, config.seed);
  const [h, w, c] = space.network.inputShape;
  const pixels = splits.test.x.subarray(0, IMAGES * h * w * c);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imcnas-bench-onnx-'));
  const imagesFile = path.join(dir, 'images.bin');
  fs.writeFileSync(imagesFile, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength));

  const designs = genomes.map((genome, i) => {
    const candidate = decode(space, genome);
    // BatchNorm statistics of this path on 256 training images, as stage 2 recalibrates before folding.
    const batches = [0, 1].map((b) =>
      tf.tensor4d(splits.train.x.subarray(b * 128 * h * w * c, (b + 1) * 128 * h * w * c), [128, h, w, c]),
    );
    supernet.recalibrateBatchNorm(candidate, batches);
    tf.dispose(batches);
    const net = supernet.extractSubnet(candidate);
    const file = path.join(dir, `design-${i}.onnx`);
    const bytes = foldedNetworkToOnnx(net);
    fs.writeFileSync(file, bytes);
    const images = tf.tensor4d(pixels, [IMAGES, h, w, c]);
    const model = toLayersModel(net);
    const tfjsLogits = tf.tidy(() => (model.predict(images) as tf.Tensor).dataSync().slice());
    const quantizedClasses = tf.tidy(() => tf.argMax(forwardFolded(net, images), 1).dataSync().slice());
    model.dispose();
    images.dispose();
    const imported = onnxLayerShapes(decodeOnnxModel(bytes, file), { inputShape: [c, h, w] });
    const shapes = net.layers.map((layer) => layer.shape);
    const costExact =
      JSON.stringify(evaluateNetwork(imported.layers, candidate.hardware)) ===
      JSON.stringify(evaluateNetwork(shapes, candidate.hardware));
    return {
      file,
      bytes: bytes.length,
      tfjsLogits,
      quantizedClasses,
      costExact,
      layers: shapes.length,
    };
  });

  const job = { models: designs.map((d) => ({ file: d.file, images: imagesFile, n: IMAGES, h, w, c })) };
  const peer = spawnSync(python, [PEER], {
    input: JSON.stringify(job),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (peer.status !== 0) throw new Error(`onnx peer failed (exit ${peer.status}): ${peer.stderr}`);
  const lines = peer.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { logits: string; onnx: string; onnxruntime: string });

  let maxDiff = 0;
  let agreeTfjs = 0;
  let agreeQuantized = 0;
  const classes = space.network.numClasses;
  const argmax = (values: ArrayLike<number>, row: number) => {
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (values[row * classes + k]! > values[row * classes + best]!) best = k;
    return best;
  };
  designs.forEach((design, i) => {
    const buffer = fs.readFileSync(lines[i]!.logits);
    const onnxLogits = new Float32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 4);
    for (let k = 0; k < onnxLogits.length; k++)
      maxDiff = Math.max(maxDiff, Math.abs(onnxLogits[k]! - design.tfjsLogits[k]!));
    for (let row = 0; row < IMAGES; row++) {
      if (argmax(onnxLogits, row) === argmax(design.tfjsLogits, row)) agreeTfjs++;
      if (argmax(onnxLogits, row) === design.quantizedClasses[row]) agreeQuantized++;
    }
  });
  fs.rmSync(dir, { recursive: true, force: true });
  const total = designs.length * IMAGES;
  return {
    designs: designs.length,
    images_per_design: IMAGES,
    weight_layers: designs.map((d) => d.layers).join(' '),
    model_bytes: designs.map((d) => d.bytes).join(' '),
    checker_passed: lines.length === designs.length,
    max_abs_logit_diff: Number(maxDiff.toPrecision(3)),
    argmax_agreement_tfjs: agreeTfjs / total,
    argmax_agreement_quantized: Number((agreeQuantized / total).toFixed(4)),
    cost_roundtrip_exact: designs.every((d) => d.costExact),
    onnx_version: lines[0]?.onnx ?? null,
    onnxruntime_version: lines[0]?.onnxruntime ?? null,
  };
}
