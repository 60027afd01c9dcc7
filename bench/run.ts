/**
 * Benchmark runner: `npm run bench` runs every benchmark, `npm run bench -- <name>` runs one.
 * Each benchmark is `bench/<name>.ts` exporting `run(): Promise<BenchFigures>`; the runner writes
 * `bench/results/<name>.json` with the figures plus the machine and the date. Benchmarks measure; tests
 * never assert timings.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../storage/atomic';

export type BenchFigures = Record<string, number | string | boolean | null | readonly number[]>;
export interface Benchmark {
  run(): Promise<BenchFigures>;
}

export const BENCHMARKS = [
  'tensor',
  'hardware',
  'robustness',
  'supernet',
  'search',
  'nsga2',
  'pipeline',
  'faults',
  'robustSearch',
  'robustGap',
  'fidelity',
  'onnx',
  'variation',
  'searchReal',
  'baseline',
  'aihwkit',
  'chipAccuracy',
  'designDrops',
  'standaloneRepeat',
  'scaling',
  'finalNoise',
  'supernetQuick',
  'medium',
  'sandwichCost',
] as const;

async function runOne(name: string): Promise<void> {
  const file = path.join(__dirname, `${name}.ts`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bench = require(file) as Benchmark;
  console.error(`[bench] ${name}: running`);
  const started = Date.now();
  const figures = await bench.run();
  const result = {
    ...figures,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    date: new Date().toISOString(),
    bench_wall_s: (Date.now() - started) / 1000,
  };
  const out = path.join(__dirname, 'results', `${name}.json`);
  await writeJsonAtomic(out, result);
  console.log(JSON.stringify({ bench: name, file: path.relative(process.cwd(), out), ...result }));
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${BENCHMARKS.join(', ')}`);
    process.exit(2);
  }
  const names = requested.length > 0 ? requested : [...BENCHMARKS];
  for (const name of names) {
    await runOne(name);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  });
}
