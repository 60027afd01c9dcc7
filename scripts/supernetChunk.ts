/**
 * One stage-1 chunk of examples/quick.yaml (its first epoch of four, as the demo's first training
 * activity runs it) with a chosen gradient-shard and process count; prints the wall time, the largest
 * path's validation accuracy and, with two or more processes, where the leader's time went:
 *   nice -n 10 npx tsx scripts/supernetChunk.ts <gradientShards> <processes>
 * The demo-sized companion of `npm run bench -- scaling` (docs/dataParallel.md).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile, validateConfig } from '../config/load';
import * as supernetTraining from '../tasks/supernetTraining';

async function main(): Promise<void> {
  const [shardsText = '1', processesText = '1'] = process.argv.slice(2);
  const gradientShards = Number(shardsText);
  const processes = Number(processesText);
  const quick = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  // validateConfig names the field and the fix when the counts do not fit the batch size.
  const config = validateConfig({ ...quick, supernet: { ...quick.supernet, gradientShards, processes } });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-supernet-chunk-'));
  try {
    let details: Record<string, unknown> | undefined;
    const started = performance.now();
    const result = await supernetTraining.run(
      { dir, config, untilEpoch: 1, attempt: 1 },
      { report: (progress) => (details = progress.details ?? details) },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        gradientShards,
        processes,
        steps: result.stepsRun,
        chunk_s: Number(seconds.toFixed(1)),
        validation_accuracy: result.validationAccuracy,
        ...(details?.dataParallel ? { dataParallel: details.dataParallel } : {}),
        load_average: os.loadavg()[0],
      }),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

void main();
