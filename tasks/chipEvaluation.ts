/**
 * Stages 3 and 4's noisy-chip measurements as child-process tasks. Stage 3 (robustness): a front design's
 * subnet, inherited from the supernet, on Monte-Carlo samples of the chip it was designed for, on
 * validation images. Stage 4 (final): a retrained design on the whole test set, then exported: the folded
 * network (our chip contract), a TensorFlow.js LayersModel of it (models/tfjsExport.ts) and its hardware.
 */
import * as path from 'node:path';
import { exportToNeuroSim, NeuroSimExportError } from '../interop/neurosim';
import { AihwkitExportError, exportToAihwkit } from '../interop/aihwkit';
import { noiseSettings } from '../hardware/noise';
import {
  designFiles,
  designResultFile,
  exportDir,
  modelFiles,
  ONNX_MODEL_FILE,
  TFJS_EXPORT_DIR,
} from '../storage/runLayout';
import { promises as fs } from 'node:fs';
import type {
  BaselineResult,
  FinalModelResult,
  ProposedCandidate,
  RobustnessResult,
  ToolExport,
} from '../contracts';
import { reportAtSeconds, type RunConfig } from '../config/schema';
import { deriveSeed } from '../common/rng';
import type { Split, Splits } from '../data/dataset';
import { foldedNetworkToJson } from '../evaluator/serialize';
import { ExternalEvaluator } from '../evaluator/external';
import { SimulatorEvaluator } from '../evaluator/simulator';
import type { EvaluationImages, Evaluator, RobustnessResult as EvaluatorResult } from '../evaluator/types';
import { hardwareMetrics } from '../search/evolution';
import type { HardwareConfig } from '../hardware/types';
import { baselineDesign, baselineNetworkNamed } from '../search/baseline';
import { decode, type Candidate } from '../search/space/codec';
import { describeCandidate } from '../search/space/keys';
import type { SearchSpace } from '../search/space/schema';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic';
import { foldedNetworkToOnnx } from '../models/onnx/export';
import type { ChildContext } from '../tensor/childProcess';
import type { FoldedNetwork } from '../models/folded';
import { foldedAccuracy, forwardFolded } from '../models/inference';
import { Supernet, type PathSpec } from '../models/supernet';
import { exportFoldedNetwork } from '../models/tfjsExport';
import { SupernetTrainer } from '../models/supernetTrainer';
import { firstImages, referencedImages, testImages } from './evaluationImages';
import { loadTrainedSupernet, pathAccuracy, scheduleFor, stageData, stageSpace } from './shared';
import { retrainSeed } from './supernetTraining';

/** The TensorFlow.js LayersModel (model.json + weights.bin) inside the model directory. */

/** Calibration images for the ADC ranges: training images, so test and validation stay untouched. */
const ADC_CALIBRATION_IMAGES = 256;

/** The built-in simulated chip, or the user's command speaking the JSON-lines protocol (PROTOCOL.md). */
export function createEvaluator(config: RunConfig, workDir: string): Evaluator {
  const choice = config.robustness.evaluator;
  if (choice === 'builtin') return new SimulatorEvaluator({ forward: forwardFolded });
  return new ExternalEvaluator({
    command: choice.command,
    passEnv: choice.passEnv,
    workDir,
    requestTimeoutMs: choice.timeoutSeconds * 1000,
  });
}

/**
 * The seed a stage's Monte-Carlo chips of candidate `key` derive from (chip i: sampleSeed(seed, i)). Each
 * stage draws its own chips: stage 3 picks the winner on its chips, so stage 4 tests the retrained winner
 * on fresh ones — reusing them would make the final noisy test part of the selection. (Stage 2's chips,
 * when robust metrics are searched on, are 'search-chip': tasks/searchRobustness.ts.)
 */
export function chipSeed(config: RunConfig, stage: 'robustness' | 'final', key: string): number {
  return deriveSeed(config.seed, stage === 'robustness' ? 'chip' : 'final-chip', key);
}

async function measure(
  workDir: string,
  config: RunConfig,
  stage: 'robustness' | 'final',
  key: string,
  network: FoldedNetwork,
  hardware: HardwareConfig,
  data: EvaluationImages,
  train: Split,
  context: ChildContext,
): Promise<EvaluatorResult> {
  const evaluator = createEvaluator(config, workDir);
  // An external evaluator loads the images itself: give it a reference to exactly these.
  const external = config.robustness.evaluator !== 'builtin';
  const measured = external && !data.reference ? await referencedImages(workDir, data) : data;
  try {
    return await evaluator.evaluate(
      {
        candidateId: key,
        network,
        hardware,
        samples: config.robustness.samples,
        seed: chipSeed(config, stage, key),
        driftSeconds: config.robustness.driftSeconds,
        noise: config.robustness.noise,
        data: measured,
        calibration: firstImages(train, ADC_CALIBRATION_IMAGES),
      },
      {
        onProgress: (p) => context.report({ step: p.done, total: p.total, message: `${key}: ${p.message}` }),
      },
    );
  } finally {
    await evaluator.close();
  }
}

/**
 * Headline numbers at robustness.reportAt (default the longest drift time: the chip as it will be read for
 * most of its life, not the most favourable moment after programming), and every drift time's numbers.
 */
export function summarize(
  key: string,
  digitalAccuracy: number,
  result: EvaluatorResult,
  config: Pick<RunConfig, 'robustness'>,
): RobustnessResult {
  const at = reportAtSeconds(config);
  const headline = result.points.find((point) => point.timeS === at);
  if (!headline)
    throw new Error(
      `the evaluator returned no accuracy at robustness.reportAt = ${at} s (times: ${result.points.map((p) => p.timeS).join(', ')})`,
    );
  return {
    key,
    samples: result.samples,
    reportAtSeconds: at,
    accuracyMean: headline.accuracy.mean,
    accuracyStd: headline.accuracy.std,
    accuracyMin: headline.accuracy.min,
    accuracyP5: headline.accuracy.p5,
    digitalAccuracy,
    drift: result.points.map((point) => ({
      seconds: point.timeS,
      accuracyMean: point.accuracy.mean,
      accuracyStd: point.accuracy.std,
      accuracyP5: point.accuracy.p5,
    })),
    evaluator: result.evaluator,
  };
}

/**
 * The folded network of `subnet` after BatchNorm recalibration on training batches (pathAccuracy on one
 * validation image recalibrates as a side effect); the supernet is disposed.
 */
export function recalibratedSubnet(
  supernet: Supernet,
  subnet: PathSpec,
  splits: Splits,
  config: RunConfig,
  batchSize: number,
): FoldedNetwork {
  pathAccuracy(supernet, subnet, splits.train, splits.validation, {
    calibrationBatches: config.evolution.bnRecalBatches,
    batchSize,
    images: 1,
    seed: deriveSeed(config.seed, 'bn-recalibration'),
  });
  const network = supernet.extractSubnet(subnet);
  supernet.dispose();
  return network;
}

export interface RobustnessRequest {
  runDir: string;
  dir: string;
  config: RunConfig;
  candidate: ProposedCandidate;
}

/** Stage 3: the inherited subnet of a front design under device noise. */
export async function runRobustness(
  request: RobustnessRequest,
  context: ChildContext,
): Promise<RobustnessResult> {
  const { config, candidate } = request;
  const splits = await stageData(config);
  const decoded = decode(stageSpace(config), candidate.genome);
  const supernet = await loadTrainedSupernet(request.runDir, config);
  const network = recalibratedSubnet(supernet, decoded, splits, config, config.supernet.batchSize);
  const data = firstImages(splits.validation, config.robustness.images);
  const digital = foldedAccuracy(network, data.images, data.labels);
  const result = await measure(
    designFiles(request.dir).evaluator,
    config,
    'robustness',
    candidate.key,
    network,
    decoded.hardware,
    data,
    splits.train,
    context,
  );
  const summary = summarize(candidate.key, digital, result, config);
  await writeJsonAtomic(designResultFile(request.dir, candidate.key), { ...summary, raw: result });
  return summary;
}

export interface FinalRequest {
  runDir: string;
  /** The retrained design's checkpoints. */
  trainDir: string;
  /** Where the export and the final result go. */
  dir: string;
  config: RunConfig;
  candidate: ProposedCandidate;
}

/** Stage 4: the retrained design on the whole test set, digital and on Monte-Carlo chips; then export. */
export async function runFinal(request: FinalRequest, context: ChildContext): Promise<FinalModelResult> {
  const { config, candidate } = request;
  const space = stageSpace(config);
  return finalTest(
    {
      ...request,
      key: candidate.key,
      space,
      genome: candidate.genome,
      design: decode(space, candidate.genome),
      seed: retrainSeed(config, { fixedGenome: candidate.genome }),
    },
    context,
  );
}

export interface BaselineFinalRequest {
  runDir: string;
  trainDir: string;
  dir: string;
  config: RunConfig;
  /** The name of a network of config.baseline. */
  baseline: string;
}

/**
 * Stage 4 for a hand-designed baseline (search/baseline.ts): the same test as runFinal — the same test
 * images, its own fresh chips (seeded by its key), the same export and the same cost model.
 */
export async function runBaselineFinal(
  request: BaselineFinalRequest,
  context: ChildContext,
): Promise<BaselineResult> {
  const { config } = request;
  const network = baselineNetworkNamed(config.baseline, request.baseline);
  const baseline = baselineDesign(network, config.baseline!.chip, config.space.network);
  const final = await finalTest(
    {
      ...request,
      key: baseline.key,
      space: baseline.space,
      genome: baseline.genome,
      design: baseline.candidate,
      seed: retrainSeed(config, { baseline: request.baseline }),
    },
    context,
  );
  return { ...final, name: baseline.name, description: baseline.description };
}

/** Test images stage 4 traces into a design's NeuroSim export (its `--images` default). */
const NEUROSIM_TRACED_IMAGES = 4;

/**
 * Stage 4's exports of a tested design for the tools researchers check it in, beside its model
 * (export/<key>/<tool>, as `imcnas export` writes them), with its retrained weights: DNN+NeuroSim V1.4
 * (docs/neurosim-export.md) and aihwkit (docs/aihwkit-export.md). A design a tool cannot express keeps the
 * reasons (interop/ names the field) instead of failing the stage.
 */
async function toolExports(
  request: FinalTestRequest,
  network: FoldedNetwork,
  design: Candidate,
  test: EvaluationImages,
): Promise<Pick<FinalModelResult, 'neurosimExport' | 'aihwkitExport'>> {
  const { runDir, key, config } = request;
  const source = { runDir, designKey: key, description: describeCandidate(design) };
  const exported = async (tool: string, write: (outDir: string) => Promise<unknown>): Promise<ToolExport> => {
    const outDir = exportDir(runDir, key, tool);
    try {
      await write(outDir);
      return { dir: path.relative(runDir, outDir) };
    } catch (error) {
      if (error instanceof NeuroSimExportError || error instanceof AihwkitExportError)
        return { problems: error.problems };
      throw error;
    }
  };
  return {
    neurosimExport: await exported('neurosim', (outDir) =>
      exportToNeuroSim({
        network,
        hardware: design.hardware,
        images: test.images,
        imageCount: Math.min(NEUROSIM_TRACED_IMAGES, test.labels.length),
        labels: test.labels,
        outDir,
        source,
      }),
    ),
    aihwkitExport: await exported('aihwkit', (outDir) =>
      exportToAihwkit({
        network,
        hardware: design.hardware,
        noise: noiseSettings(config.robustness.noise ?? {}),
        driftSeconds: config.robustness.driftSeconds,
        outDir,
        source,
      }),
    ),
  };
}

interface FinalTestRequest {
  runDir: string;
  trainDir: string;
  dir: string;
  config: RunConfig;
  key: string;
  space: SearchSpace;
  genome: number[];
  /** The decoded design (a baseline's with its shortcuts). */
  design: Candidate;
  /** The seed the design was built and retrained with. */
  seed: number;
}

async function finalTest(request: FinalTestRequest, context: ChildContext): Promise<FinalModelResult> {
  const { config, key, space, design: decoded } = request;
  const splits = await stageData(config);
  // Rebuild the retrained network exactly as stage 4 trained it (same seed) and load its weights.
  const supernet = new Supernet(space, { seed: request.seed });
  supernet.fixedPath = decoded;
  const trainer = new SupernetTrainer(supernet, scheduleFor(1, 1, 1));
  const loaded = await trainer.resume(request.trainDir);
  trainer.dispose();
  if (!loaded) throw new Error(`no retrained checkpoint under ${request.trainDir}`);
  const network = recalibratedSubnet(supernet, decoded, splits, config, config.retrain.batchSize);
  const test = testImages(config, splits.test, config.retrain.testImages);
  const digital = foldedAccuracy(network, test.images, test.labels);
  context.report({
    step: 0,
    total: 1,
    message: `${key}: digital test accuracy ${(digital * 100).toFixed(2)} %`,
  });
  const result = await measure(
    designFiles(request.dir).evaluator,
    config,
    'final',
    key,
    network,
    decoded.hardware,
    test,
    splits.train,
    context,
  );
  const summary = summarize(key, digital, result, config);

  const exportDir = designFiles(request.dir).model;
  const files = modelFiles(exportDir);
  const foldedFile = files.foldedNetwork;
  const foldedSha256 = await writeJsonAtomic(foldedFile, foldedNetworkToJson(network));
  const tfjsFiles = await exportFoldedNetwork(network, files.tfjs);
  const onnxBytes = Buffer.from(foldedNetworkToOnnx(network));
  const onnxSha256 = await writeFileAtomic(files.onnx, onnxBytes);
  await writeJsonAtomic(files.hardware, {
    description: describeCandidate(decoded),
    hardware: decoded.hardware,
    architecture: decoded.architecture,
    quantization: decoded.quantization,
    // The model files beside this one (paths relative to this directory), so a deployment can check them.
    files: [
      { file: 'folded-network.json', bytes: (await fs.stat(foldedFile)).size, sha256: foldedSha256 },
      ...tfjsFiles.map((file) => ({ ...file, file: `${TFJS_EXPORT_DIR}/${file.file}` })),
      { file: ONNX_MODEL_FILE, bytes: onnxBytes.length, sha256: onnxSha256 },
    ],
  });
  const final: FinalModelResult = {
    key,
    testAccuracyDigital: digital,
    testAccuracyMean: summary.accuracyMean,
    testAccuracyStd: summary.accuracyStd,
    testAccuracyP5: summary.accuracyP5,
    reportAtSeconds: summary.reportAtSeconds,
    testDrift: summary.drift,
    samples: summary.samples,
    exportDir,
    ...(await toolExports(request, network, decoded, test)),
    // The cost model reads the layer shapes only (a baseline's digital shortcut adds cost nothing).
    hardware: { accuracy: digital, ...hardwareMetrics(space, request.genome) },
  };
  await writeJsonAtomic(designFiles(request.dir).final, { ...final, raw: result });
  return final;
}
