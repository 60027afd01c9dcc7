/**
 * A small, real external evaluator speaking imcnas-evaluator/1 (evaluator/PROTOCOL.md): the
 * template to copy when wrapping NeuroSim, aihwkit or a lab bench, and the evaluator the adapter's tests
 * run against.
 *
 * It does what a real evaluator does with a request: reads the weights reference (checks its SHA-256 and
 * format), loads the referenced labelled images itself, and for every sample seed and drift time runs the
 * network on them — here digitally, with imcnas's own inference (models/inference.ts forwardFolded, the
 * arithmetic the chip is given) on a copy of the weights perturbed by seeded Gaussian noise relative to
 * each output channel's largest |weight| (the weight-level abstraction of NAS papers, docs/sources.md
 * §Noise models: w' = w + N(0, σ·max|w_c|); a channel's largest weight spans the cell's whole conductance
 * range). It answers one accuracy per (time, sample), the noise-free accuracy, and measured metrics.
 *
 * The noise it maps from the request (`noise`, imcnas's NoiseSettings):
 * - σ: `noise.programmingSigma` when set (the gaussian abstraction), else the programming σ the device
 *   library gives the request's device (hardware/devices.ts: write-verified or not, per
 *   `noise.writeVerify`; RRAM 3.5 % nominal, NeuRRAM/Wan 2022), times `noise.programmingScale`; --sigma=
 *   overrides both.
 * - time: the same chip (the same draws) at every requested time, its σ grown by the device's relaxation
 *   (RRAM: ×1.5–2 over 1–2 days, Wan 2022) through hardware/noise/models.ts relaxationGrowth; drift is
 *   assumed globally compensated.
 * What it leaves out, and a simulator you wrap would add: bit slicing onto cells, DAC/ADC quantization of
 * partial sums, per-read noise, stuck-at faults, drift exponents (hardware/analog does all of these).
 *
 * Replace `measure()` with a call into your simulator or instrument. The hello line goes out before the
 * tensor engine loads (a few hundred ms), so the startup timeout only has to cover Node and tsx.
 *
 * Run from the repository root (tsx resolves from there):
 *   node --import tsx examples/evaluators/weight-noise-chip.ts [--sigma=0.05] [--fail=<mode>]
 * as `robustness.evaluator.command: [node, --import, tsx, examples/evaluators/weight-noise-chip.ts]`.
 *
 * Flags for testing failure handling: --fail=crash | hang | garbage | error | no-hello | wrong-protocol |
 * bad-result | exit-after-hello.
 */
import * as crypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as readline from 'node:readline';
import type { FoldedNetwork } from '../../models/folded';
import type { FoldedNetworkJson } from '../../evaluator/serialize';
import type { NoiseSettings } from '../../hardware/noise/settings';
import type { HardwareConfig } from '../../hardware/types';

const PROTOCOL = 'imcnas-evaluator/1';
const NAME = 'weight-noise-chip';

interface EvaluateRequest {
  type: 'evaluate';
  id: string;
  candidateId: string;
  weights: { path: string; format: string; sha256: string };
  hardware: HardwareConfig;
  noise: NoiseSettings;
  samples: number;
  sampleSeeds: number[];
  driftSeconds: number[];
  dataset: { name: string; split: 'train' | 'test'; dir?: string; offset: number; count: number };
}

interface Images {
  x: Float32Array;
  y: Int32Array;
}

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key!, value ?? 'true'] as const;
  }),
);
const fail = args.get('fail') ?? '';
const sigmaOverride = args.has('sigma') ? Number(args.get('sigma')) : null;

function send(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** imcnas's modules, loaded on the first request (after the hello line). */
async function engine() {
  const [backend, inference, serialize, fashion, settings, models, library, rng, random] = await Promise.all([
    import('../../tensor/backend'),
    import('../../models/inference'),
    import('../../evaluator/serialize'),
    import('../../data/fashionMnist'),
    import('../../hardware/noise/settings'),
    import('../../hardware/noise/models'),
    import('../../hardware/library'),
    import('../../common/rng'),
    import('../../hardware/noise/random'),
  ]);
  // The wasm backend, as imcnas's own evaluation uses: the same arithmetic gives the same accuracies.
  await backend.initTensorEngine({ backend: 'wasm', env: {} });
  return { inference, serialize, fashion, settings, models, library, rng, random };
}
let loaded: ReturnType<typeof engine> | null = null;
const modules = () => (loaded ??= engine());

/** Reads the weights reference and checks its SHA-256 and format. */
async function loadNetwork(weights: EvaluateRequest['weights']): Promise<FoldedNetwork> {
  const { serialize } = await modules();
  const bytes = await fs.readFile(weights.path);
  const digest = crypto.createHash('sha256').update(bytes).digest('hex');
  if (digest !== weights.sha256)
    throw new Error(`weights file ${weights.path}: SHA-256 ${digest} ≠ ${weights.sha256}`);
  const json = JSON.parse(bytes.toString('utf8')) as FoldedNetworkJson;
  if (json.format !== weights.format)
    throw new Error(`weights file format ${json.format} ≠ ${weights.format}`);
  return serialize.foldedNetworkFromJson(json);
}

const datasets = new Map<string, Promise<{ images: Uint8Array; labels: Uint8Array; pixels: number }>>();

/** The request's images [offset, offset + count) of the IDX split, pixels in [0, 1]. */
async function loadImages(dataset: EvaluateRequest['dataset']): Promise<Images> {
  const { fashion } = await modules();
  if (dataset.name !== 'fashion-mnist' && dataset.name !== 'idx')
    throw new Error(`dataset ${dataset.name}: this evaluator reads fashion-mnist or idx`);
  if (dataset.name === 'idx' && !dataset.dir) throw new Error('dataset idx: needs a dir');
  const dir = dataset.dir ?? fashion.DEBIAN_FASHION_MNIST_DIR;
  const key = `${dir}:${dataset.split}`;
  if (!datasets.has(key))
    datasets.set(
      key,
      fashion
        .loadFashionMnist(dataset.split, dir)
        .then((s) => ({ images: s.images, labels: s.labels, pixels: s.height * s.width })),
    );
  const source = await datasets.get(key)!;
  const { offset, count, split } = dataset;
  if (offset + count > source.labels.length)
    throw new Error(
      `dataset ${split}: images [${offset}, ${offset + count}) beyond its ${source.labels.length}`,
    );
  const x = new Float32Array(count * source.pixels);
  for (let i = 0; i < x.length; i++) x[i] = source.images[offset * source.pixels + i]! / 255;
  return { x, y: Int32Array.from(source.labels.subarray(offset, offset + count)) };
}

/** σ relative to a channel's largest |weight| right after programming, and its growth with time. */
async function noiseModel(request: EvaluateRequest) {
  const { settings, models, library } = await modules();
  const noise = settings.noiseSettings(request.noise);
  const device = library.getDevice(library.DEFAULT_LIBRARY, request.hardware.device);
  const deviceSigma = noise.writeVerify
    ? (device.programmingSigma?.nominal ?? 0)
    : (device.programmingSigmaUnverified?.nominal ?? device.programmingSigma?.nominal ?? 0);
  const sigma = sigmaOverride ?? (noise.programmingSigma ?? deviceSigma) * noise.programmingScale;
  // Only the relaxation entry of the resolved model is used (the gaussian kind accepts any σ).
  const cell = settings.resolveCellNoiseForDevice(device, { ...noise, model: 'gaussian' });
  return { sigma, sigmaAt: (timeS: number) => sigma * models.relaxationGrowth(cell, timeS) };
}

/** One standard normal per weight of the network, from the sample's seed (the chip's programming error). */
async function drawErrors(net: FoldedNetwork, sampleSeed: number): Promise<Float32Array[]> {
  const { random } = await modules();
  return net.layers.map((layer) =>
    random.standardNormals(
      random.streamFor(sampleSeed, 'weight-noise', layer.shape.name),
      layer.kernel.length,
    ),
  );
}

/** The network with w' = w + σ·max|w_c|·z for every weight (z from drawErrors), channel c last in layout. */
function perturb(net: FoldedNetwork, errors: Float32Array[], sigma: number): FoldedNetwork {
  return {
    ...net,
    layers: net.layers.map((layer, l) => {
      const channels = layer.weightScale.length;
      const maxAbs = new Float32Array(channels);
      layer.kernel.forEach((w, i) => {
        const c = i % channels; // conv [kh, kw, cin, cout], depthwise [kh, kw, c, 1], dense [cin, cout]
        maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(w));
      });
      const z = errors[l]!;
      const kernel = layer.kernel.map((w, i) => w + sigma * maxAbs[i % channels]! * z[i]!);
      return { ...layer, kernel };
    }),
  };
}

/** The measurement: accuracy of one chip sample at one time. Replace with your simulator or instrument. */
async function measure(net: FoldedNetwork, images: Images, errors: Float32Array[] | null, sigma: number) {
  const { inference } = await modules();
  const weights = errors && sigma > 0 ? perturb(net, errors, sigma) : net;
  return inference.foldedAccuracy(weights, images.x, images.y);
}

async function evaluate(request: EvaluateRequest): Promise<Record<string, unknown>> {
  const started = Date.now();
  const [net, images, noise] = await Promise.all([
    loadNetwork(request.weights),
    loadImages(request.dataset),
    noiseModel(request),
  ]);
  if (request.sampleSeeds.length !== request.samples)
    throw new Error(`${request.sampleSeeds.length} sample seeds for ${request.samples} samples`);
  const noiseFreeAccuracy = await measure(net, images, null, 0);
  const total = request.samples * request.driftSeconds.length;
  const accuracies = request.driftSeconds.map(() => new Array<number>(request.samples).fill(0));
  let done = 0;
  for (const [j, seed] of request.sampleSeeds.entries()) {
    const errors = await drawErrors(net, seed);
    for (const [i, timeS] of request.driftSeconds.entries()) {
      accuracies[i]![j] = await measure(net, images, errors, noise.sigmaAt(timeS));
      send({
        type: 'progress',
        id: request.id,
        done: ++done,
        total,
        message: `sample ${j + 1}, t = ${timeS} s`,
      });
    }
  }
  if (fail === 'bad-result') accuracies[0]![0] = 1.5;
  return {
    type: 'result',
    id: request.id,
    accuracies,
    noiseFreeAccuracy,
    metrics: {
      layers: net.layers.length,
      weights: net.layers.reduce((sum, layer) => sum + layer.kernel.length, 0),
      images: images.y.length,
      sigma: noise.sigma,
      evaluationSeconds: (Date.now() - started) / 1000,
    },
  };
}

function main(): void {
  if (fail === 'no-hello') {
    setInterval(() => {}, 1000);
    return;
  }
  send({
    type: 'hello',
    protocol: fail === 'wrong-protocol' ? 'something-else/9' : PROTOCOL,
    name: NAME,
    version: '1',
  });
  if (fail === 'exit-after-hello') process.exit(3);
  // One request at a time (the protocol's contract), in arrival order.
  let queue = Promise.resolve();
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const message = JSON.parse(line) as { type: string; id?: string };
    if (message.type === 'shutdown') process.exit(0);
    if (message.type !== 'evaluate') return;
    if (fail === 'crash') {
      process.stderr.write(`${NAME}: simulated crash (segmentation fault in the driver)\n`);
      process.exit(139);
    }
    if (fail === 'hang') return; // never answers
    if (fail === 'garbage') {
      process.stdout.write('Loading bitstream... done\n');
      return;
    }
    if (fail === 'error') {
      send({
        type: 'error',
        id: message.id,
        message: 'chip not calibrated: run the calibration routine first',
      });
      return;
    }
    queue = queue.then(() =>
      evaluate(message as EvaluateRequest).then(send, (error: unknown) =>
        send({
          type: 'error',
          id: message.id,
          message: error instanceof Error ? error.message : String(error),
        }),
      ),
    );
  });
  lines.on('close', () => void queue.then(() => process.exit(0)));
}

main();
