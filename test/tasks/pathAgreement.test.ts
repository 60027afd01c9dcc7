/**
 * One path, one accuracy: the path the supernet trainer validates at an epoch's end is the search's
 * largest-network anchor, and stage 2 scores it — after the checkpoint is written and loaded into a fresh
 * supernet — at exactly the accuracy the trainer reported. Real training on a few hundred Fashion-MNIST
 * images.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateConfig } from '../../config/load';
import type { RobustModel } from '../../config/schema';
import { Rng } from '../../common/rng';
import * as candidateEvaluation from '../../tasks/candidateEvaluation';
import { stageSpace, supernetDir } from '../../tasks/shared';
import * as supernetTraining from '../../tasks/supernetTraining';
import { Supernet, pathKey } from '../../models/supernet';
import { judge } from '../../search/evolution';
import { largestNetworkGenome } from '../../search/space/adapters';
import { decode } from '../../search/space/codec';
import { genomeKey } from '../../search/space/keys';
import { sampleGenome } from '../../search/space/sampling';
import { initTensorEngine } from '../../tensor/backend';

const context = { report: () => undefined };

// The demo's network space (examples/quick.yaml): a strided first slot where an inverted residual has more
// MACs per image than a 3×3 conv (its expansion runs before the stride) but fewer per output pixel.
const config = validateConfig({
  name: 'path-agreement',
  seed: 7,
  dataset: { trainSubset: 1024, validation: 300 },
  space: {
    network: {
      stem: { channels: 8, stride: 2 },
      stages: [
        { blocks: 1, widths: [8, 16], stride: 2 },
        { blocks: 1, widths: [16, 24], stride: 2 },
      ],
      operators: ['conv3', 'dwsep3', 'mbconv3_e3', 'skip'],
    },
    quantization: { weightBits: [4, 8], activationBits: [4, 8], granularity: 'network' },
    // One benign chip (RRAM, 8-bit ADCs), so the robust test below measures the noise, not a 4-bit ADC.
    hardware: { devices: ['rram'], adcBits: [8], crossbar: [128], bitsPerCell: [1] },
  },
  supernet: { epochs: 2, batchSize: 64, learningRate: 0.1, largestPathShare: 0.5 },
  evolution: { bnRecalBatches: 2, validationImages: 300 },
});

describe("stage 2's candidate evaluation", () => {
  let runDir: string;
  beforeAll(async () => {
    await initTensorEngine();
    runDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-path-agreement-'));
  });
  afterAll(async () => {
    await fs.rm(runDir, { recursive: true, force: true });
  });

  it("train the search's largest network and give it one accuracy through the checkpoint", async () => {
    const space = stageSpace(config);
    const anchor = largestNetworkGenome(space, sampleGenome(space, new Rng(3)));
    const supernet = new Supernet(space, { seed: config.seed });
    try {
      // The path the sandwich rule trains and the trainer validates is the search's anchor.
      expect(pathKey(supernet.largestPath())).toBe(pathKey(decode(space, anchor)));
      expect(supernet.largestPath().architecture.blocks[0]!.operator).toBe('mbconv3_e3');
    } finally {
      supernet.dispose();
    }

    const trained = await supernetTraining.run(
      { dir: supernetDir(runDir), config, untilEpoch: 2, attempt: 1 },
      context,
    );
    expect(trained.validationAccuracy).not.toBeNull();
    // Well above chance (10 %): the anchor is the path the trainer spent half of its steps on.
    expect(trained.validationAccuracy!).toBeGreaterThan(0.4);

    const [result] = await candidateEvaluation.run(
      {
        dir: path.join(runDir, 'evaluations'),
        runDir,
        generation: 0,
        config,
        candidates: [{ key: genomeKey(anchor), genome: anchor }],
      },
      context,
    );
    expect(result!.metrics.accuracy).toBe(trained.validationAccuracy);
  });
  it('measures robust accuracies on noisy chips when an objective or a constraint asks for them', async () => {
    // Runs after the test above, on the supernet it trained (same seed and space).
    const space = stageSpace(config);
    const anchor = largestNetworkGenome(space, sampleGenome(space, new Rng(3)));
    const candidates = [{ key: genomeKey(anchor), genome: anchor }];
    const robustConfig = (model: RobustModel, noise: Record<string, number> = {}) =>
      validateConfig({
        ...config,
        objectives: [{ metric: 'robustAccuracyMean' }, { metric: 'edap' }],
        constraints: { robustAccuracyP5: { min: 0.5 } },
        evolution: { ...config.evolution, robustSamples: 2, robustImages: 120, robustModel: model },
        robustness: { ...config.robustness, driftSeconds: [1, 3600], noise },
      });
    const evaluate = async (name: string, settings: ReturnType<typeof robustConfig>) => {
      const dir = path.join(runDir, name);
      const [result] = await candidateEvaluation.run(
        { dir, runDir, generation: 0, config: settings, candidates },
        context,
      );
      const stored = JSON.parse(
        await fs.readFile(candidateEvaluation.evaluationFile(dir, candidates[0]!.key), 'utf8'),
      ) as candidateEvaluation.StoredEvaluation;
      return { metrics: result!.metrics, stored };
    };

    for (const model of ['chip', 'weight', 'weight-adc'] as const) {
      const nominal = await evaluate(`robust-${model}`, robustConfig(model));
      const { metrics, stored } = nominal;
      expect(stored.robust).toMatchObject({ model, driftSeconds: 3600 });
      expect(stored.robust!.accuracies).toHaveLength(2);
      expect(metrics.robustAccuracyMean).toBeGreaterThan(0.3);
      expect(metrics.robustAccuracyP5!).toBeLessThanOrEqual(metrics.robustAccuracyMean!);
      // Programming noise 30× the device's nominal wrecks the network: the metric sees the chip.
      const wrecked = await evaluate(`wrecked-${model}`, robustConfig(model, { programmingScale: 30 }));
      expect(wrecked.metrics.accuracy).toBe(metrics.accuracy);
      expect(wrecked.metrics.robustAccuracyMean!).toBeLessThan(metrics.robustAccuracyMean! - 0.15);
      const judged = judge(wrecked.metrics, robustConfig(model).objectives, robustConfig(model).constraints);
      expect(judged.constraintViolation).toBeGreaterThan(0);
    }
  });
});
