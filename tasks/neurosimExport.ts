/**
 * Exports one design of a run directory to NeuroSim (interop/neurosim.ts) with the traces of the
 * first test images of the run's dataset:
 *   - a retrained design (final/<key>/model: folded-network.json + hardware.json, stage 4) with its
 *     retrained weights;
 *   - any other design of the run's search space by its genome key, with the weights it inherits from the
 *     trained supernet after BatchNorm recalibration, exactly as stage 3 tests it on chips.
 */
import { designFiles, exportDir, finalDir, finalsDir, modelFiles, runFiles } from '../storage/runLayout';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../config/load';
import type { RunConfig } from '../config/schema';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from '../data/fashionMnist';
import type { FoldedNetworkJson } from '../evaluator/serialize';
import { foldedNetworkFromJson } from '../evaluator/serialize';
import type { NeuroSimExportResult } from '../interop/neurosim';
import { exportToNeuroSim, NeuroSimExportError } from '../interop/neurosim';
import type { HardwareConfig } from '../hardware/types';
import { decode, type Candidate } from '../search/space/codec';
import { describeCandidate, parseGenomeKey } from '../search/space/keys';
import type { FoldedNetwork } from '../models/folded';
import { recalibratedSubnet } from './chipEvaluation';
import { loadTrainedSupernet, stageData, stageSpace, supernetDir } from './shared';

export interface RunDesignExportOptions {
  runDir: string;
  designKey: string;
  /** Default: <runDir>/export/<key>/neurosim. */
  outDir?: string;
  /** Test images traced (default 4). */
  images?: number;
}

interface HardwareFile {
  description?: string;
  hardware: HardwareConfig;
}

/** How a design's loading reports bad input: the export's own error class, with every problem. */
export type DesignError = (problems: string[]) => Error;
const neurosimError: DesignError = (problems) => new NeuroSimExportError(problems);

async function readJson<T>(file: string, what: string, fail: DesignError): Promise<T> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (error) {
    throw fail([`${what}: cannot read ${file} (${(error as Error).message})`]);
  }
}

export interface ExportedDesign {
  network: FoldedNetwork;
  hardware: HardwareConfig;
  weights: string;
  description?: string;
  /** NHWC test pixels in [0, 1] and labels, at least `count` of them. */
  test: { x: Float32Array; y: Int32Array; count: number };
}

/** A retrained design: its folded network and the first test images of the dataset directory. */
async function retrainedDesign(
  modelDir: string,
  datasetDir: string,
  fail: DesignError,
): Promise<ExportedDesign> {
  const json = await readJson<FoldedNetworkJson>(modelFiles(modelDir).foldedNetwork, 'folded network', fail);
  const network = foldedNetworkFromJson(json);
  const hardwareFile = await readJson<HardwareFile>(modelFiles(modelDir).hardware, 'hardware', fail);
  const source = await loadFashionMnist('test', datasetDir);
  const [h, w, c] = network.architecture.inputShape;
  if (source.height !== h || source.width !== w || c !== 1)
    throw fail([
      `dataset: test images are ${source.height}×${source.width}×1, the design reads ${h}×${w}×${c}; export from the run directory whose config names its dataset`,
    ]);
  // the trainer's pixels: bytes / 255 (data/dataset.ts)
  const x = Float32Array.from(source.images, (byte) => byte / 255);
  return {
    network,
    hardware: hardwareFile.hardware,
    weights: 'retrained (final/<key>/model/folded-network.json)',
    description: hardwareFile.description,
    test: { x, y: Int32Array.from(source.labels), count: source.count },
  };
}

/** A design of the search space: the supernet's inherited weights, BatchNorm recalibrated as in stage 3. */
async function inheritedDesign(
  runDir: string,
  config: RunConfig,
  designKey: string,
  fail: DesignError,
): Promise<ExportedDesign> {
  let candidate: Candidate;
  try {
    candidate = decode(stageSpace(config), parseGenomeKey(designKey));
  } catch (error) {
    throw fail([
      `designKey: "${designKey}" is not a design of this run's search space (${(error as Error).message}); use a key from \`imcnas results ${runDir}\``,
    ]);
  }
  if (!existsSync(supernetDir(runDir)))
    throw fail([
      `designKey: ${designKey} has no retrained model and the run has no trained supernet (${supernetDir(runDir)}) to take its weights from; export a retrained design or resume the run`,
    ]);
  const splits = await stageData(config);
  const supernet = await loadTrainedSupernet(runDir, config);
  const network = recalibratedSubnet(supernet, candidate, splits, config, config.supernet.batchSize);
  return {
    network,
    hardware: candidate.hardware,
    weights: 'inherited from the trained supernet, BatchNorm recalibrated (as stage 3 tests it)',
    description: describeCandidate(candidate),
    test: { x: splits.test.x, y: splits.test.y, count: splits.test.count },
  };
}

/**
 * A design of a run directory with its weights and the run's test images: the retrained model when
 * final/<key>/model exists, else the supernet's inherited weights (needs the run's config.yaml).
 */
export async function loadRunDesign(
  runDir: string,
  designKey: string,
  fail: DesignError = neurosimError,
): Promise<ExportedDesign> {
  const modelDir = designFiles(finalDir(runDir, designKey)).model;
  const configFile = runFiles(runDir).config;
  const config = existsSync(configFile) ? await loadConfigFile(configFile) : undefined;
  if (existsSync(modelDir))
    return retrainedDesign(modelDir, config?.dataset.dir ?? DEBIAN_FASHION_MNIST_DIR, fail);
  if (config) return inheritedDesign(runDir, config, designKey, fail);
  const finals = finalsDir(runDir);
  const retrained = existsSync(finals)
    ? (await fs.readdir(finals)).filter((k) => existsSync(designFiles(finalDir(runDir, k)).model))
    : [];
  throw fail([
    `designKey: ${designKey} has no retrained model in ${finals}, and ${configFile} (needed to take its weights from the supernet) is missing; ` +
      (retrained.length > 0
        ? `export one of the retrained designs: ${retrained.join(', ')}`
        : 'give the run directory a search wrote'),
  ]);
}

export async function exportRunDesignToNeuroSim(
  options: RunDesignExportOptions,
): Promise<NeuroSimExportResult> {
  const { runDir, designKey } = options;
  const design = await loadRunDesign(runDir, designKey);
  const count = Math.min(options.images ?? 4, design.test.count);
  const pixels = design.network.architecture.inputShape.reduce((a, b) => a * b, 1);
  return exportToNeuroSim({
    network: design.network,
    hardware: design.hardware,
    images: design.test.x.subarray(0, count * pixels),
    imageCount: count,
    labels: design.test.y.subarray(0, count),
    outDir: options.outDir ?? exportDir(runDir, designKey, 'neurosim'),
    source: {
      runDir: path.resolve(runDir),
      designKey,
      description: design.description,
      weights: design.weights,
      images: `the first ${count} test images of the run's dataset`,
    },
  });
}
