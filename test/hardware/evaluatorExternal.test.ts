/**
 * The external evaluator adapter against the example evaluator (examples/evaluators/mock-chip.js): a full
 * round trip (weights file + SHA-256, progress, statistics, metrics, reproducibility, several requests on
 * one process), and a clean, named failure for every way a broken evaluator can misbehave.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../common/rng';
import { ExternalEvaluator, ExternalEvaluatorError } from '../../hardware/evaluator/external';
import { foldedNetworkFromJson, type FoldedNetworkJson } from '../../hardware/evaluator/serialize';
import { sampleSeed } from '../../hardware/evaluator/simulator';
import { InvalidRobustnessRequestError, type RobustnessRequest } from '../../hardware/evaluator/types';
import type { FoldedNetwork } from '../../models/folded';
import { randomFoldedLayer, RRAM_128_CHIP } from './analogSupport';

const MOCK = path.join(__dirname, '..', '..', 'examples', 'evaluators', 'mock-chip.js');
let workDir: string;

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-evaluator-'));
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

function network(): FoldedNetwork {
  const rng = new Rng(1);
  const layer = randomFoldedLayer(rng, {
    name: 'head.classifier',
    kind: 'dense',
    inChannels: 8,
    outChannels: 10,
    kernelH: 1,
    kernelW: 1,
    stride: 1,
    weightBits: 6,
    activationBits: 6,
  });
  return {
    architecture: { note: 'opaque to the adapter' } as never,
    quantization: {} as never,
    layers: [layer],
  };
}

function request(overrides: Partial<RobustnessRequest> = {}): RobustnessRequest {
  return {
    candidateId: 'gen-0001/cand 3',
    network: network(),
    hardware: { ...RRAM_128_CHIP },
    noise: { programmingScale: 1 },
    samples: 6,
    seed: 42,
    driftSeconds: [0, 3600, 86400],
    data: {
      images: new Float32Array(4 * 784),
      labels: new Int32Array(4),
      shape: [28, 28, 1],
      reference: { name: 'fashion-mnist', split: 'test', offset: 0, count: 4 },
    },
    ...overrides,
  };
}

function adapter(
  flags: string[] = [],
  options: Partial<ConstructorParameters<typeof ExternalEvaluator>[0]> = {},
) {
  return new ExternalEvaluator({
    command: [process.execPath, MOCK, ...flags],
    workDir,
    startupTimeoutMs: 5000,
    requestTimeoutMs: 5000,
    idleTimeoutMs: 2000,
    ...options,
  });
}

describe('round trip with the example evaluator', () => {
  test('accuracies per drift time and sample, statistics, metrics, progress, and the weights file', async () => {
    const evaluator = adapter(['--base-accuracy=0.9']);
    const progress: string[] = [];
    try {
      const result = await evaluator.evaluate(request(), {
        onProgress: (p) => progress.push(`${p.done}/${p.total}`),
      });
      expect(evaluator.name).toBe('mock-chip');
      expect(result.evaluator).toBe('mock-chip');
      expect(result.points.map((p) => p.timeS)).toEqual([0, 3600, 86400]);
      expect(result.sampleSeeds).toEqual(Array.from({ length: 6 }, (_, i) => sampleSeed(42, i)));
      for (const point of result.points) {
        expect(point.accuracies).toHaveLength(6);
        const { mean, std, min, p5, count } = point.accuracy;
        expect(count).toBe(6);
        expect(mean).toBeGreaterThan(0.8);
        expect(mean).toBeLessThan(0.9);
        expect(std).toBeGreaterThan(0);
        expect(p5).toBeGreaterThanOrEqual(min);
      }
      // The mock's chip drifts: later is worse.
      expect(result.points[2]!.accuracy.mean).toBeLessThan(result.points[0]!.accuracy.mean);
      expect(result.noiseFreeAccuracy).toBe(0.9);
      expect(result.metrics.weights).toBe(80);
      expect(result.metrics.layers).toBe(1);
      expect(result.metrics.adapterWallSeconds).toBeGreaterThan(0);
      expect(progress).toEqual(['1/3', '2/3', '3/3']);
      // The weights reference round-trips bit for bit.
      const file = path.join(workDir, 'gen-0001_cand_3.folded.json');
      const stored = foldedNetworkFromJson(JSON.parse(await fs.readFile(file, 'utf8')) as FoldedNetworkJson);
      expect(Array.from(stored.layers[0]!.kernel)).toEqual(Array.from(request().network.layers[0]!.kernel));

      // A second request on the same process; the same seeds give the same answers.
      const again = await evaluator.evaluate(request());
      expect(again.points.map((p) => p.accuracies)).toEqual(result.points.map((p) => p.accuracies));
      const other = await evaluator.evaluate(request({ seed: 43 }));
      expect(other.points[0]!.accuracies).not.toEqual(result.points[0]!.accuracies);
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
    const evaluator = adapter(flags, { startupTimeoutMs: 1500 });
    try {
      const error = await evaluator.evaluate(request()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ExternalEvaluatorError);
      expect((error as ExternalEvaluatorError).failure).toBe(failure);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/mock-chip\.js/);
    } finally {
      await evaluator.close();
    }
  });

  test('a command that does not exist', async () => {
    const evaluator = new ExternalEvaluator({ command: ['/nonexistent/evaluator'], workDir });
    await expect(evaluator.evaluate(request())).rejects.toMatchObject({ failure: 'spawn' });
    await evaluator.close();
  });

  test('after a failure the next request starts a fresh process', async () => {
    // The first process hangs; a working command is swapped in through the environment of the retry.
    const flagFile = path.join(workDir, 'hang-once');
    await fs.writeFile(flagFile, '');
    const script = path.join(workDir, 'hang-once.js');
    await fs.writeFile(
      script,
      `const fs = require('fs');\n` +
        `const hang = fs.existsSync(${JSON.stringify(flagFile)});\n` +
        `if (hang) fs.rmSync(${JSON.stringify(flagFile)});\n` +
        `process.argv.push(hang ? '--fail=hang' : '--base-accuracy=0.8');\n` +
        `require(${JSON.stringify(MOCK)});\n`,
    );
    const evaluator = new ExternalEvaluator({
      command: [process.execPath, script],
      workDir,
      idleTimeoutMs: 1000,
    });
    try {
      await expect(evaluator.evaluate(request())).rejects.toMatchObject({ failure: 'timeout' });
      const result = await evaluator.evaluate(request());
      expect(result.noiseFreeAccuracy).toBe(0.8);
    } finally {
      await evaluator.close();
    }
  });

  test('an abort signal ends the request and the process', async () => {
    const evaluator = adapter(['--fail=hang'], { idleTimeoutMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('search stopped')), 300);
    await expect(evaluator.evaluate(request(), { signal: controller.signal })).rejects.toThrow(
      'search stopped',
    );
    await evaluator.close();
  });
});
