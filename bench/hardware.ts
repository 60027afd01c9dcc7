/**
 * Hardware cost-model benchmark: evaluations per second of a 20-layer network (the search's hot path),
 * cycling through varied chip configurations, plus the calibration figures beside their anchors.
 * Run: npx tsx bench/run.ts hardware
 */
import { calibrationTable } from '../hardware/calibration';
import { evaluateNetwork } from '../hardware/cost';
import { mobileNetLike20 } from '../hardware/networks';
import type { HardwareConfig } from '../hardware/types';
import { validateHardware } from '../hardware/validate';

type Figures = Record<string, number | string | boolean | null>;

/** Chip configurations a search would visit: devices, array sizes, ADCs, nodes, execution modes. */
function configurations(): HardwareConfig[] {
  const configs: HardwareConfig[] = [];
  const devices: Array<[string, number]> = [
    ['rram', 2],
    ['sram', 1],
    ['pcm', 2],
    ['fefet', 3],
    ['mram', 1],
  ];
  for (const [device, bitsPerCell] of devices) {
    for (const size of [64, 128, 256]) {
      for (const [adcBits, adcType] of [
        [4, 'flash'],
        [5, 'sar'],
        [8, 'sar'],
      ] as const) {
        for (const techNode of [45, 22] as const) {
          configs.push({
            device,
            rows: size,
            cols: size,
            adcBits,
            adcType,
            dacBits: 1,
            bitsPerCell,
            colsPerAdc: 8,
            techNode,
            executionMode: size === 128 ? 'pipelined' : 'layer-by-layer',
          });
        }
      }
    }
  }
  for (const config of configs) {
    const problems = validateHardware(config);
    if (problems.length > 0) throw new Error(`bench configuration invalid: ${problems.join('; ')}`);
  }
  return configs;
}

function measureEvaluationsPerSecond(minSeconds: number): {
  perSecond: number;
  checksum: number;
  count: number;
} {
  const layers = mobileNetLike20();
  const configs = configurations();
  let checksum = 0;
  // Warm-up so the JIT has compiled the hot path before timing.
  for (let i = 0; i < 20000; i++) checksum += evaluateNetwork(layers, configs[i % configs.length]).energyJ;
  let count = 0;
  const started = process.hrtime.bigint();
  let elapsedS = 0;
  while (elapsedS < minSeconds) {
    for (let i = 0; i < 10000; i++) {
      checksum += evaluateNetwork(layers, configs[count % configs.length]).edap;
      count++;
    }
    elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  }
  return { perSecond: count / elapsedS, checksum, count };
}

export async function run(): Promise<Figures> {
  const { perSecond, checksum, count } = measureEvaluationsPerSecond(3);
  const figures: Figures = {
    network_evals_per_s: Math.round(perSecond),
    network_layers: mobileNetLike20().length,
    network_evals_timed: count,
    configurations_cycled: configurations().length,
    // Keeps the timed loop's results observable (and the loop from being optimised away).
    checksum_finite: Number.isFinite(checksum),
  };
  for (const row of calibrationTable()) {
    const key = row.id
      .replace(/[.-]/g, '_')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toLowerCase();
    figures[key] = Number(row.model.toPrecision(5));
    figures[`${key}_within_band`] = row.within;
  }
  return figures;
}
