/**
 * Finds a retrained design in a run directory (final/<key>/model: folded-network.json + hardware.json,
 * written by stage 4) and exports it to NeuroSim with the traces of the first test images of the run's
 * dataset. Designs of the front that were not retrained have no trained folded weights on disk, so they
 * cannot give real weight traces; the error says so and lists the keys that can.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadFashionMnist, DEBIAN_FASHION_MNIST_DIR } from '../../data/fashionMnist';
import type { FoldedNetworkJson } from '../evaluator/serialize';
import { foldedNetworkFromJson } from '../evaluator/serialize';
import type { HardwareConfig } from '../types';
import type { NeuroSimExportResult } from './neurosim';
import { exportToNeuroSim, NeuroSimExportError } from './neurosim';

export interface RunDesignExportOptions {
  runDir: string;
  designKey: string;
  /** Default: <runDir>/export/<key>/neurosim. */
  outDir?: string;
  /** Test images traced (default 4). */
  images?: number;
  /** Dataset directory (default: the run config's dataset.dir, else the Fashion-MNIST package's). */
  datasetDir?: string;
}

interface HardwareFile {
  description?: string;
  hardware: HardwareConfig;
}

async function readJson<T>(file: string, what: string): Promise<T> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (error) {
    throw new NeuroSimExportError([`${what}: cannot read ${file} (${(error as Error).message})`]);
  }
}

/** The dataset directory the run was configured with (config.yaml dataset.dir), if any. */
async function runDatasetDir(runDir: string): Promise<string | undefined> {
  const file = path.join(runDir, 'config.yaml');
  if (!existsSync(file)) return undefined;
  const config = parseYaml(await fs.readFile(file, 'utf8')) as { dataset?: { dir?: unknown } } | null;
  const dir = config?.dataset?.dir;
  return typeof dir === 'string' ? dir : undefined;
}

export async function exportRunDesignToNeuroSim(
  options: RunDesignExportOptions,
): Promise<NeuroSimExportResult> {
  const { runDir, designKey } = options;
  const modelDir = path.join(runDir, 'final', designKey, 'model');
  if (!existsSync(modelDir)) {
    const finalDir = path.join(runDir, 'final');
    const retrained = existsSync(finalDir)
      ? (await fs.readdir(finalDir)).filter((k) => existsSync(path.join(finalDir, k, 'model')))
      : [];
    throw new NeuroSimExportError([
      `designKey: ${designKey} has no retrained model in ${finalDir} (the traces need its trained weights); ` +
        (retrained.length > 0
          ? `export one of the retrained designs: ${retrained.join(', ')}`
          : 'this run retrained no design; raise retrain.count and resume it'),
    ]);
  }
  const json = await readJson<FoldedNetworkJson>(
    path.join(modelDir, 'folded-network.json'),
    'folded network',
  );
  const network = foldedNetworkFromJson(json);
  const hardwareFile = await readJson<HardwareFile>(path.join(modelDir, 'hardware.json'), 'hardware');
  const images = options.images ?? 4;
  const dir = options.datasetDir ?? (await runDatasetDir(runDir)) ?? DEBIAN_FASHION_MNIST_DIR;
  const test = await loadFashionMnist('test', dir);
  const [h, w, c] = network.architecture.inputShape;
  if (test.height !== h || test.width !== w || c !== 1)
    throw new NeuroSimExportError([
      `dataset: test images are ${test.height}×${test.width}×1, the design reads ${h}×${w}×${c}; pass the run's dataset directory with --dataset-dir`,
    ]);
  const count = Math.min(images, test.count);
  const pixels = h * w;
  const x = new Float32Array(count * pixels);
  // the trainer's pixels: bytes / 255 (data/dataset.ts)
  for (let i = 0; i < x.length; i++) x[i] = test.images[i]! / 255;
  return exportToNeuroSim({
    network,
    hardware: hardwareFile.hardware,
    images: x,
    imageCount: count,
    labels: Int32Array.from(test.labels.subarray(0, count)),
    outDir: options.outDir ?? path.join(runDir, 'export', designKey, 'neurosim'),
    source: {
      runDir: path.resolve(runDir),
      designKey,
      description: hardwareFile.description,
      dataset: { dir, split: 'test', first: count },
    },
  });
}
