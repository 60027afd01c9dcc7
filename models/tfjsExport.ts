/**
 * A folded network (models/folded.ts) as a standard TensorFlow.js LayersModel: `model.json` +
 * `weights.bin`, the format `tf.loadLayersModel('file://…/model.json')` (tfjs-node) and
 * `tf.loadLayersModel('https://…/model.json')` (browser) load with no imcnas code at all.
 *
 * Topology: the graph is built by walking models/pathTopology.ts (walkPath) — the very walk inference and
 * the supernet run — with tfjs-layers layers in place of tensor operations: each weight layer becomes a
 * conv2d / depthwiseConv2d ('same' padding at the layer's stride) or dense layer carrying the folded
 * kernel and bias (BatchNorm already folded in, the kernel on its weight grid), followed where the path
 * has one by an `activation` relu layer, and preceded by its input's clipping (below); residual blocks
 * end in an `add` layer, the head in a `globalAveragePooling2d` layer. Layers keep the names of
 * layerShapes() ('stem', 'stage0.block1.expand', …, 'head.classifier'), so the model's layers line up
 * with folded-network.json and hardware.json.
 *
 * Activation quantization: the rounding is left out, the clipping is kept. Keras and tfjs-layers have no
 * standard layer that rounds a tensor to a grid, and a custom layer would make every user register its
 * class before `loadLayersModel` could parse the file — which defeats a standard export. So activations
 * are float: the weights are exactly the chip's weights, the activations what an infinitely fine DAC would
 * feed it. Clipping to each layer input's range, on the other hand, is expressible with standard layers
 * (see clipToInputRange), and it matters more than rounding: ranges are running averages of batch maxima,
 * so at 8 bits clipping the tail of the activations moves the logits several times more than rounding
 * does. With both, the export computes forwardFolded exactly up to the rounding (to float rounding when
 * the grids are finer than float: test/models/tfjsExport.test.ts). Measured on a small trained network:
 * ~2 % of the largest logit and 100 % top-1 agreement at 8 bits, ~99 % agreement at 6 bits, ~98 % at 4.
 *
 * Each layer input's grid (bits, step, sign) is kept in model.json's
 * `userDefinedMetadata.imcnas.inputQuantization` (read back with `model.getUserDefinedMetadata()`) and in
 * folded-network.json, for a deployment that quantizes: the input x of layer L becomes
 * clip(round(x / step), lowest, highest) · step with levels [0, 2^bits − 1] (unsigned) or
 * [−(2^(bits−1) − 1), 2^(bits−1) − 1] (signed).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { fsyncDirectory, sha256, writeFileAtomic } from '../storage/atomic';
import type { FoldedLayer } from '../hardware/folded';
import type { FoldedNetwork } from './folded';
import { foldedNetworkProblems } from './inference';
import { describePath, walkPath, type PathLayer } from './pathTopology';
import { activationLevels } from './quantization';

export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

/** One layer input's activation grid as model.json's metadata records it. */
export interface ExportedInputQuantization {
  /** The weight layer whose input this is (a layer name of the model). */
  layer: string;
  bits: number;
  /** Quantization step: input = level · step. */
  step: number;
  /** Signed levels [−(2^(bits−1) − 1), 2^(bits−1) − 1], else unsigned [0, 2^bits − 1]. */
  signed: boolean;
}

/** What `model.getUserDefinedMetadata()` returns for an exported model. */
export interface ExportedModelMetadata {
  imcnas: {
    activations: 'float';
    inputQuantization: ExportedInputQuantization[];
  };
}

function tfjsLayerFor(layer: PathLayer): tfl.layers.Layer {
  const { shape } = layer;
  // Initializers are irrelevant (the folded weights replace them) but run at build time: zeros are cheap
  // and draw no random numbers.
  const common = { name: shape.name, useBias: true, biasInitializer: 'zeros' } as const;
  switch (shape.kind) {
    case 'conv':
      return tfl.layers.conv2d({
        ...common,
        filters: shape.outChannels,
        kernelSize: [shape.kernelH, shape.kernelW],
        strides: shape.stride,
        padding: 'same',
        kernelInitializer: 'zeros',
      });
    case 'depthwise':
      return tfl.layers.depthwiseConv2d({
        ...common,
        kernelSize: [shape.kernelH, shape.kernelW],
        strides: shape.stride,
        padding: 'same',
        depthMultiplier: 1,
        depthwiseInitializer: 'zeros',
      });
    case 'dense':
      return tfl.layers.dense({ ...common, units: shape.outChannels, kernelInitializer: 'zeros' });
  }
}

/**
 * The clipping half of the layer's input quantizer, from standard layers, on the edge into the layer only
 * (a residual shortcut or a pooled path reads the same tensor unclipped, as in inference): an unsigned
 * grid clips to [0, top], which is a ReLU with maxValue; a signed grid clips to [−top, top], which is the
 * same ReLU between a shift by +top and one by −top (two `rescaling` layers with scale 1).
 */
function clipToInputRange(layer: FoldedLayer, input: tfl.SymbolicTensor): tfl.SymbolicTensor {
  const { highest } = activationLevels(layer.shape.activationBits, layer.inputSigned);
  const top = highest * layer.inputScale;
  const name = `${layer.shape.name}.input_clip`;
  if (!layer.inputSigned) return symbolic(tfl.layers.reLU({ maxValue: top, name }).apply(input));
  const shifted = tfl.layers.rescaling({ scale: 1, offset: top, name: `${name}.shift` }).apply(input);
  const clipped = tfl.layers.reLU({ maxValue: 2 * top, name }).apply(shifted);
  return symbolic(tfl.layers.rescaling({ scale: 1, offset: -top, name: `${name}.unshift` }).apply(clipped));
}

function symbolic(output: tfl.SymbolicTensor | tfl.SymbolicTensor[] | tf.Tensor | tf.Tensor[]) {
  if (!(output instanceof tfl.SymbolicTensor)) {
    throw new Error('toLayersModel: a layer applied to a symbolic tensor returned something else');
  }
  return output;
}

/**
 * A tfjs-layers model computing `net` with float activations clipped to each layer input's range (see the
 * file comment): the folded kernels and biases as weights, the path's topology as layers, and the input
 * grids as user-defined metadata. The caller disposes the model.
 */
export function toLayersModel(net: FoldedNetwork): tfl.LayersModel {
  const problems = foldedNetworkProblems(net);
  if (problems.length > 0)
    throw new Error(`toLayersModel: inconsistent folded network: ${problems.join('; ')}`);
  const pathLayers = describePath(net.architecture, net.quantization);
  const folded = new Map(net.layers.map((layer) => [layer.shape.name, layer]));
  const weighted: Array<{ layer: tfl.layers.Layer; folded: FoldedLayer }> = [];

  const images = tfl.input({ shape: [...net.architecture.inputShape], name: 'images' });
  const logits = walkPath<tfl.SymbolicTensor>(net.architecture, pathLayers, images, {
    layer: (pathLayer, input) => {
      const weights = folded.get(pathLayer.name)!;
      const layer = tfjsLayerFor(pathLayer);
      weighted.push({ layer, folded: weights });
      return symbolic(layer.apply(clipToInputRange(weights, input)));
    },
    relu: (input, after) =>
      symbolic(tfl.layers.activation({ activation: 'relu', name: `${after.name}.relu` }).apply(input)),
    residualAdd: (projected, shortcut, block) =>
      symbolic(
        tfl.layers
          .add({ name: `stage${block.stage}.block${block.indexInStage}.add` })
          .apply([projected, shortcut]),
      ),
    globalAveragePool: (input) =>
      symbolic(tfl.layers.globalAveragePooling2d({ name: 'head.pool' }).apply(input)),
  });
  const model = tfl.model({ inputs: images, outputs: logits, name: 'imcnas' });

  for (const { layer, folded: weights } of weighted) {
    const values = [
      tf.tensor(weights.kernel, weights.kernelShape, 'float32'),
      tf.tensor1d(weights.bias, 'float32'),
    ];
    layer.setWeights(values);
    tf.dispose(values);
  }
  const metadata: ExportedModelMetadata = {
    imcnas: {
      activations: 'float',
      inputQuantization: net.layers.map((layer) => ({
        layer: layer.shape.name,
        bits: layer.shape.activationBits,
        step: layer.inputScale,
        signed: layer.inputSigned,
      })),
    },
  };
  model.setUserDefinedMetadata(metadata);
  return model;
}

/** One written file: its name inside the export directory, size and SHA-256. */
export interface ExportedFile {
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * model.json as tfjs writes it (tfjs-core io_utils getModelJSONForModelArtifacts, which tfjs-node's
 * file:// handler uses; tfjs-core does not export it): the artifacts' topology and metadata plus one
 * weights group in `weights.bin`.
 */
function modelJsonFor(artifacts: tf.io.ModelArtifacts): tf.io.ModelJSON {
  if (!artifacts.modelTopology || !artifacts.weightSpecs) {
    throw new Error('saveLayersModel: the model produced no topology or no weight specs');
  }
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: artifacts.weightSpecs }],
  };
  if (artifacts.signature != null) json.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) json.initializerSignature = artifacts.initializerSignature;
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  return json;
}

async function exists(target: string): Promise<boolean> {
  try {
    await fs.stat(target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Writes `model` to `dir` as model.json + weights.bin and returns both files' sizes and hashes. The pair is
 * written into a temp directory beside `dir` (each file fsynced), then renamed into place, so a reader sees
 * the old pair, the new pair, or — only between the two renames of a replacement — no directory; never
 * a model.json with another export's weights. The same model always gives the same bytes.
 */
export async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<ExportedFile[]> {
  const parent = path.dirname(dir);
  const unique = `${process.pid}.${randomBytes(6).toString('hex')}`;
  const temp = path.join(parent, `.${path.basename(dir)}.${unique}.tmp`);
  const previous = path.join(parent, `.${path.basename(dir)}.${unique}.old`);
  await fs.mkdir(parent, { recursive: true });
  let files: ExportedFile[] = [];
  try {
    await model.save({
      save: async (artifacts) => {
        const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
        const modelJson = Buffer.from(JSON.stringify(modelJsonFor(artifacts)), 'utf8');
        // Weights first: within the temp directory too, a model.json never exists without its weights.
        await writeFileAtomic(path.join(temp, TFJS_WEIGHTS_FILE), weights);
        await writeFileAtomic(path.join(temp, TFJS_MODEL_FILE), modelJson);
        files = [
          { file: TFJS_MODEL_FILE, bytes: modelJson.length, sha256: sha256(modelJson) },
          { file: TFJS_WEIGHTS_FILE, bytes: weights.length, sha256: sha256(weights) },
        ];
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      },
    });
    // rename() replaces only an empty directory: move a previous export aside first (and back if the
    // new one cannot take its place).
    const replacing = await exists(dir);
    if (replacing) await fs.rename(dir, previous);
    try {
      await fs.rename(temp, dir);
    } catch (error) {
      if (replacing) await fs.rename(previous, dir);
      throw error;
    }
    await fsyncDirectory(parent);
    if (replacing) await fs.rm(previous, { recursive: true, force: true });
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
  return files;
}

/** toLayersModel + saveLayersModel, disposing the model: the export stage 4 writes. */
export async function exportFoldedNetwork(net: FoldedNetwork, dir: string): Promise<ExportedFile[]> {
  const model = toLayersModel(net);
  try {
    return await saveLayersModel(model, dir);
  } finally {
    model.dispose();
  }
}
