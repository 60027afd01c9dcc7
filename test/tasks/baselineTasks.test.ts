/**
 * A hand-designed baseline runs through stage 4's own tasks: it builds from its explicit description (with
 * its ResNet-style shortcuts), trains from scratch on real Fashion-MNIST images, and is tested on the
 * simulated noisy chip of its fixed baseline chip, with its cost from the same cost model.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { validateConfig } from '../../config/load';
import { runBaselineFinal } from '../../tasks/chipEvaluation';
import { run as trainTask } from '../../tasks/supernetTraining';
import { Supernet } from '../../models/supernet';
import { decodeOnnxModel } from '../../models/onnx/model';
import { onnxLayerShapes } from '../../models/onnx/layers';
import { layerShapes } from '../../search/architecture';
import { baselineDesign, baselineNetworkNamed } from '../../search/baseline';
import { hardwareMetrics } from '../../search/evolution';
import { initTensorEngine } from '../../tensor/backend';

jest.setTimeout(600_000);

const tiny = {
  name: 'tiny',
  stem: { channels: 8, stride: 2 },
  stages: [
    { blocks: 2, channels: 8, stride: 1 },
    { blocks: 1, channels: 16, stride: 2 },
  ],
  residual: true,
};
const config = validateConfig({
  name: 'baseline-tasks',
  seed: 3,
  dataset: { trainSubset: 1200, validation: 200 },
  supernet: { stepsPerEpoch: 3, checkpointEverySteps: 3 },
  evolution: { bnRecalBatches: 1, validationImages: 100 },
  robustness: { samples: 2, driftSeconds: [1] },
  retrain: { epochs: 1, batchSize: 16, trainImages: 1200, testImages: 100, noiseAware: true },
  baseline: { networks: [tiny] },
});

let workDir: string;
beforeAll(async () => {
  await initTensorEngine();
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-baseline-'));
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

describe('a hand-designed baseline', () => {
  it('builds with its shortcuts and one training step changes its weights and gives a finite loss', () => {
    const design = baselineDesign(baselineNetworkNamed(config.baseline, 'tiny'), config.baseline!.chip, {
      inputShape: [28, 28, 1],
      numClasses: 10,
    });
    // stage 0: 8 → 8 twice at stride 1 (both shortcut); stage 1: 8 → 16 at stride 2 (none).
    expect(design.candidate.architecture.blocks.map((b) => b.residual)).toEqual([true, true, false]);
    expect(design.candidate.hardware).toMatchObject({ device: 'rram', rows: 128, cols: 128, adcBits: 6 });
    const supernet = new Supernet(design.space, { seed: 1 });
    supernet.fixedPath = design.candidate;
    const x = tf.randomUniform([4, 28, 28, 1]) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
    const optimizer = tf.train.sgd(0.1);
    const before = supernet.trainableVariables()[0]!.dataSync().slice();
    const loss = optimizer.minimize(() => supernet.loss(x, labels, 0), true, supernet.trainableVariables());
    expect(Number.isFinite(loss!.dataSync()[0])).toBe(true);
    expect(supernet.trainableVariables()[0]!.dataSync()).not.toEqual(before);
    tf.dispose([x, labels, loss!]);
    supernet.dispose();
  });

  it('trains from scratch and is tested on fresh noisy chips of the baseline chip, costed like a found design', async () => {
    const dir = path.join(workDir, 'baseline', 'tiny');
    const context = { report: () => undefined };
    const trained = await trainTask(
      { dir: path.join(dir, 'train'), config, untilEpoch: 1, attempt: 1, baseline: 'tiny' },
      context,
    );
    expect(trained.epochsCompleted).toBe(1);
    expect(trained.globalStep).toBe(3);
    const result = await runBaselineFinal(
      { runDir: workDir, trainDir: path.join(dir, 'train'), dir, config, baseline: 'tiny' },
      context,
    );
    expect(result).toMatchObject({ key: 'baseline-tiny', name: 'tiny', samples: 2, reportAtSeconds: 1 });
    expect(result.description).toMatch(/^tiny \(2 shortcuts\): .*rram 22nm 128×128/);
    for (const accuracy of [result.testAccuracyDigital, result.testAccuracyMean, result.testAccuracyP5])
      expect(accuracy).toBeGreaterThanOrEqual(0);
    const design = baselineDesign(baselineNetworkNamed(config.baseline, 'tiny'), config.baseline!.chip, {
      inputShape: [28, 28, 1],
      numClasses: 10,
    });
    expect(result.hardware.edap).toBe(hardwareMetrics(design.space, design.genome).edap);
    const exported = JSON.parse(await fs.readFile(path.join(dir, 'model', 'hardware.json'), 'utf8')) as {
      architecture: { blocks: Array<{ residual: boolean }> };
    };
    expect(exported.architecture.blocks.map((b) => b.residual)).toEqual([true, true, false]);
    // The exported TensorFlow.js model carries the two shortcuts as add layers.
    const modelJson = await fs.readFile(path.join(dir, 'model', 'tfjs', 'model.json'), 'utf8');
    expect(modelJson.match(/"class_name":"Add"/g)).toHaveLength(2);
    expect(modelJson).toContain('stage0.block0.add');
    expect(modelJson).toContain('stage0.block1.add');
    // The ONNX export carries them too, and reads back as the costed layers.
    const onnx = decodeOnnxModel(await fs.readFile(path.join(dir, 'model', 'model.onnx')), 'model.onnx');
    expect(onnx.nodes.filter((n) => n.opType === 'Add').map((n) => n.name)).toEqual([
      'stage0.block0.add',
      'stage0.block1.add',
    ]);
    expect(onnxLayerShapes(onnx, { inputShape: [1, 28, 28] }).layers).toEqual(
      layerShapes(design.candidate.architecture, design.candidate.quantization),
    );
    expect(JSON.parse(await fs.readFile(path.join(dir, 'final.json'), 'utf8'))).toMatchObject({
      key: 'baseline-tiny',
    });
  });
});
