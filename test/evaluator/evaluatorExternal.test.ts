/**
 * The external evaluator adapter against the example evaluator (examples/evaluators/weight-noise-chip.ts,
 * which runs the network digitally under seeded relative weight noise): a full round trip (weights file +
 * SHA-256, the evaluator's own image loading, progress, statistics, metrics, reproducibility, several
 * requests on one process) whose accuracies are the network's real ones, and a clean, named failure for
 * every way a broken evaluator can misbehave.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExternalEvaluator, ExternalEvaluatorError } from '../../evaluator/external';
import { foldedNetworkFromJson, type FoldedNetworkJson } from '../../evaluator/serialize';
import { sampleSeed } from '../../evaluator/simulator';
import {
  InvalidRobustnessRequestError,
  type EvaluationImages,
  type RobustnessRequest,
} from '../../evaluator/types';
import { foldedAccuracy } from '../../models/inference';
import { initTensorEngine } from '../../tensor/backend';
import { CHIP, fashionImages, haveFashionMnist, trainedNet } from './evaluatorSupport';

const ROOT = path.join(__dirname, '..', '..');
const EVALUATOR = path.join(ROOT, 'examples', 'evaluators', 'weight-noise-chip.ts');
// The evaluator is TypeScript run through tsx's loader (as bootstrap.js runs every entry point).
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const IMAGES = 300;
const describeWithData = haveFashionMnist ? describe : describe.skip;
let workDir: string;
let data: EvaluationImages;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-evaluator-'));
  await initTensorEngine({ backend: 'wasm', env: {} });
  data = haveFashionMnist
    ? await fashionImages('test', 0, IMAGES)
    : { images: new Float32Array(IMAGES * 784), labels: new Int32Array(IMAGES), shape: [28, 28, 1] };
  data.reference = { name: 'fashion-mnist', split: 'test', offset: 0, count: IMAGES };
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

function request(overrides: Partial<RobustnessRequest> = {}): RobustnessRequest {
  return {
    candidateId: 'gen-0001/cand 3',
    network: trainedNet,
    hardware: { ...CHIP },
    // The gaussian abstraction at σ = 10 % of a channel's largest weight (the headline σ of NAS papers,
    // docs/sources.md §Noise models).
    noise: { model: 'gaussian', programmingSigma: 0.1 },
    samples: 6,
    seed: 42,
    driftSeconds: [0, 3600, 86400],
    data: { ...data, reference: { ...data.reference! } },
    ...overrides,
  };
}

function adapter(
  flags: string[] = [],
  options: Partial<ConstructorParameters<typeof ExternalEvaluator>[0]> = {},
) {
  return new ExternalEvaluator({
    command: [process.execPath, '--import', TSX, EVALUATOR, ...flags],
    workDir,
    startupTimeoutMs: 15_000,
    requestTimeoutMs: 60_000,
    idleTimeoutMs: 30_000,
    ...options,
  });
}

describeWithData('round trip with the example evaluator', () => {
  test('it runs the network: real accuracies per drift time and sample, statistics, metrics, progress', async () => {
    const digital = foldedAccuracy(trainedNet, data.images, data.labels);
    expect(digital).toBeGreaterThan(0.75);
    const evaluator = adapter();
    const progress: string[] = [];
    try {
      const result = await evaluator.evaluate(request(), {
        onProgress: (p) => progress.push(`${p.done}/${p.total}`),
      });
      expect(evaluator.name).toBe('weight-noise-chip');
      expect(result.evaluator).toBe('weight-noise-chip');
      // The evaluator loaded the same images and ran the same arithmetic: the digital accuracy exactly.
      expect(result.noiseFreeAccuracy).toBe(digital);
      expect(result.points.map((p) => p.timeS)).toEqual([0, 3600, 86400]);
      expect(result.sampleSeeds).toEqual(Array.from({ length: 6 }, (_, i) => sampleSeed(42, i)));
      for (const point of result.points) {
        expect(point.accuracies).toHaveLength(6);
        const { mean, std, min, p5, count } = point.accuracy;
        expect(count).toBe(6);
        expect(mean).toBeLessThan(digital);
        expect(mean).toBeGreaterThan(0.3);
        expect(std).toBeGreaterThan(0);
        expect(p5).toBeGreaterThanOrEqual(min);
        // Accuracies of IMAGES images are multiples of 1/IMAGES.
        for (const a of point.accuracies)
          expect(Math.abs(a * IMAGES - Math.round(a * IMAGES))).toBeLessThan(1e-9);
      }
      // RRAM relaxation grows σ over a day (Wan 2022): later is worse.
      expect(result.points[2]!.accuracy.mean).toBeLessThan(result.points[0]!.accuracy.mean);
      expect(result.metrics.weights).toBe(trainedNet.layers.reduce((n, l) => n + l.kernel.length, 0));
      expect(result.metrics.layers).toBe(trainedNet.layers.length);
      expect(result.metrics.images).toBe(IMAGES);
      expect(result.metrics.sigma).toBe(0.1);
      expect(result.metrics.adapterWallSeconds).toBeGreaterThan(0);
      expect(progress.at(-1)).toBe('18/18');
      // The weights reference round-trips bit for bit.
      const file = path.join(workDir, 'gen-0001_cand_3.folded.json');
      const stored = foldedNetworkFromJson(JSON.parse(await fs.readFile(file, 'utf8')) as FoldedNetworkJson);
      expect(Array.from(stored.layers[0]!.kernel)).toEqual(Array.from(trainedNet.layers[0]!.kernel));

      // More requests on the same process: the same seeds give the same answers, others differ, and no
      // programming noise gives the digital accuracy on every sample.
      const again = await evaluator.evaluate(request());
      expect(again.points.map((p) => p.accuracies)).toEqual(result.points.map((p) => p.accuracies));
      const other = await evaluator.evaluate(request({ seed: 43 }));
      expect(other.points[0]!.accuracies).not.toEqual(result.points[0]!.accuracies);
      const clean = await evaluator.evaluate(request({ noise: { programmingScale: 0 }, samples: 2 }));
      expect(clean.points.map((p) => p.accuracies)).toEqual([
        [digital, digital],
        [digital, digital],
        [digital, digital],
      ]);
    } finally {
      await evaluator.close();
    }
  });

  test('requests without a dataset reference are refused before anything starts', async () => {
    const evaluator = adapter();
    const bad = request();
    delete bad.data.reference;
    await expect(evaluator.evaluate(bad)).rejects.toThrow(InvalidRobustnessRequestError);
    await expect(evaluator.evaluate(request({ samples: 0 }))).rejects.toThrow(/samples/);
    await evaluator.close();
  });

  test('a reference to images the evaluator cannot read is answered with a named error', async () => {
    const evaluator = adapter();
    try {
      const bad = request();
      bad.data.reference = {
        name: 'idx',
        split: 'test',
        dir: path.join(workDir, 'missing'),
        offset: 0,
        count: 3,
      };
      await expect(evaluator.evaluate(bad)).rejects.toMatchObject({
        failure: 'remote',
        message: expect.stringMatching(/t10k-images-idx3-ubyte\.gz: not found/),
      });
    } finally {
      await evaluator.close();
    }
  });
});

describe('broken evaluators fail cleanly', () => {
  const cases: Array<[string, string[], ExternalEvaluatorError['failure'], RegExp]> = [
    ['crash', ['--fail=crash'], 'crashed', /exited with code 139[\s\S]*simulated crash/],
    ['hang', ['--fail=hang'], 'timeout', /silent for 2000 ms/],
    ['garbage', ['--fail=garbage'], 'protocol', /not a JSON object: Loading bitstream/],
    ['error', ['--fail=error'], 'remote', /chip not calibrated/],
    ['no-hello', ['--fail=no-hello'], 'startup-timeout', /no hello line/],
    ['wrong-protocol', ['--fail=wrong-protocol'], 'protocol', /something-else\/9/],
    [
      'bad-result',
      ['--fail=bad-result'],
      'protocol',
      /accuracies\[0\]\[0\] must be a fraction in \[0, 1\], got 1.5/,
    ],
    ['exit-after-hello', ['--fail=exit-after-hello'], 'crashed', /exited with code 3/],
  ];

  test.each(cases)('%s', async (_name, flags, failure, message) => {
    // Short limits only where the evaluator under test never answers (no hello, or silence after a
    // request): a working one may be slow on a loaded machine, and must not be mistaken for a hung one.
    const evaluator = adapter(flags, {
      startupTimeoutMs: failure === 'startup-timeout' ? 1500 : 60_000,
      idleTimeoutMs: failure === 'timeout' ? 2000 : 120_000,
    });
    try {
      const error = await evaluator.evaluate(request()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ExternalEvaluatorError);
      expect((error as ExternalEvaluatorError).failure).toBe(failure);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/weight-noise-chip\.ts/);
    } finally {
      await evaluator.close();
    }
  });

  test('a command that does not exist', async () => {
    const evaluator = new ExternalEvaluator({ command: ['/nonexistent/evaluator'], workDir });
    await expect(evaluator.evaluate(request())).rejects.toMatchObject({ failure: 'spawn' });
    await evaluator.close();
  });

  (haveFashionMnist ? test : test.skip)(
    'after a failure the next request starts a fresh process',
    async () => {
      // The first process crashes; a working command is swapped in through the flag file. No silence limit
      // is involved: a loaded machine may keep a healthy evaluator quiet for seconds while it loads.
      const flagFile = path.join(workDir, 'crash-once');
      await fs.writeFile(flagFile, '');
      const script = path.join(workDir, 'crash-once.js');
      await fs.writeFile(
        script,
        `const fs = require('fs');\n` +
          `const crash = fs.existsSync(${JSON.stringify(flagFile)});\n` +
          `if (crash) fs.rmSync(${JSON.stringify(flagFile)});\n` +
          `process.argv.push(crash ? '--fail=crash' : '--sigma=0');\n` +
          `require(${JSON.stringify(EVALUATOR)});\n`,
      );
      const evaluator = new ExternalEvaluator({
        command: [process.execPath, '--import', TSX, script],
        workDir,
      });
      try {
        await expect(evaluator.evaluate(request())).rejects.toMatchObject({ failure: 'crashed' });
        const result = await evaluator.evaluate(request({ samples: 1, driftSeconds: [0] }));
        expect(result.noiseFreeAccuracy).toBe(foldedAccuracy(trainedNet, data.images, data.labels));
        expect(result.points[0]!.accuracies).toEqual([result.noiseFreeAccuracy]);
      } finally {
        await evaluator.close();
      }
    },
  );

  test('an abort signal ends the request and the process', async () => {
    const evaluator = adapter(['--fail=hang'], { idleTimeoutMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('search stopped')), 300);
    await expect(evaluator.evaluate(request(), { signal: controller.signal })).rejects.toThrow(
      'search stopped',
    );
    await evaluator.close();
  });

  test("the command sees a minimal environment, not the worker's credentials, plus what passEnv names", async () => {
    const previous = { key: process.env.TEMPORAL_API_KEY, extra: process.env.IMCNAS_TEST_PASSED };
    process.env.TEMPORAL_API_KEY = 'secret-api-key';
    process.env.IMCNAS_TEST_PASSED = 'passed-through';
    const evaluator = new ExternalEvaluator({
      command: [
        process.execPath,
        '-e',
        "console.error(['TEMPORAL_API_KEY', 'IMCNAS_TEST_PASSED', 'PATH'].map((k) => `${k}=${process.env[k] === undefined ? 'absent' : 'set'}`).join(' ')); process.exit(3);",
      ],
      workDir,
      passEnv: ['IMCNAS_TEST_PASSED'],
    });
    try {
      const error = (await evaluator.evaluate(request()).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/TEMPORAL_API_KEY=absent IMCNAS_TEST_PASSED=set PATH=set/);
    } finally {
      await evaluator.close();
      for (const [name, value] of [
        ['TEMPORAL_API_KEY', previous.key],
        ['IMCNAS_TEST_PASSED', previous.extra],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
