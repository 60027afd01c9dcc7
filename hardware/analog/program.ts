/**
 * A network programmed onto a chip design (ChipProgram): the layer plans (plan.ts), the device's noise
 * model and the calibrated ADC ranges, shared by every Monte-Carlo sample of one candidate; sampling it
 * gives the chip instances (chip.ts).
 */
import type { FoldedLayer, FoldedLayers, LinearOp } from '../folded';
import type { DeviceParams } from '../devices';
import { DEFAULT_LIBRARY, getDevice, type HardwareLibrary } from '../library';
import type { HardwareConfig } from '../types';
import { type CellNoiseModel, type NoiseSettings, resolveCellNoiseForDevice } from '../noise/settings';
import { PartialSumHistogram, adcTransfer, mseOptimalRange } from './adc';
import { AnalogChip } from './chip';
import { AnalogChipError, planLayer, type LayerPlan } from './plan';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

export interface ChipProgramOptions {
  library?: HardwareLibrary;
  /**
   * Upper bound on the floats of one expanded input block ([cycles·pixels, rows]); bounds memory per call.
   * Default 2^22 (16 MB).
   */
  maxBlockFloats?: number;
}

/**
 * A network programmed onto a chip design: the mapping, the target cell levels and the ADC ranges. Shared
 * by every Monte-Carlo sample of one candidate (build it once, sample it many times).
 */
export class ChipProgram {
  readonly device: DeviceParams;
  readonly model: CellNoiseModel;
  readonly plans: LayerPlan[];
  private readonly byName = new Map<string, LayerPlan>();
  private readonly byLayer = new Map<FoldedLayer, LayerPlan>();
  readonly maxBlockFloats: number;

  constructor(
    readonly network: FoldedLayers,
    readonly hw: HardwareConfig,
    readonly noise: NoiseSettings,
    options: ChipProgramOptions = {},
  ) {
    this.device = getDevice(options.library ?? DEFAULT_LIBRARY, hw.device);
    this.model = resolveCellNoiseForDevice(this.device, noise);
    this.maxBlockFloats = options.maxBlockFloats ?? 1 << 22;
    for (const key of ['rows', 'cols', 'adcBits', 'dacBits', 'bitsPerCell'] as const) {
      if (!(Number.isInteger(hw[key]) && hw[key] >= 1))
        throw new AnalogChipError(`hardware.${key}: must be a positive integer, got ${hw[key]}`);
    }
    this.plans = network.layers.map((layer, index) =>
      planLayer(layer, index, hw, this.device, noise.idealAdc),
    );
    for (const plan of this.plans) {
      this.byName.set(plan.layer.shape.name, plan);
      this.byLayer.set(plan.layer, plan);
    }
  }

  planFor(layer: FoldedLayer): LayerPlan {
    const plan = this.byLayer.get(layer) ?? this.byName.get(layer.shape.name);
    if (!plan) throw new AnalogChipError(`layer "${layer.shape.name}" is not part of the programmed network`);
    return plan;
  }

  /** Cells the chip holds (both cells of every pair, off-diagonal depthwise cells included). */
  get cellCount(): number {
    return this.plans.reduce((sum, plan) => sum + plan.cellCount, 0);
  }

  /**
   * Calibrates every layer's ADC range from noise-free partial sums: `runNetwork` must run the network on
   * the calibration images with the LinearOp it is given (e.g. `op => forwardFolded(net, images, op)`).
   * Returns the histograms it calibrated from, per layer (plans order) and read class (cycle·slices +
   * slice), for error models that need the partial sums' distribution (readoutError.ts).
   */
  calibrateAdc(runNetwork: (linearOp: LinearOp) => void): PartialSumHistogram[][] {
    // One histogram per read class (input cycle c, weight slice s) of every layer.
    const histograms = this.plans.map((plan) =>
      Array.from(
        { length: plan.input.widths.length * plan.slices.widths.length },
        () => new PartialSumHistogram(plan.worstCasePartialSum),
      ),
    );
    const chip = new AnalogChip(this, [], 0, { calibration: histograms });
    try {
      runNetwork(chip.linearOp);
    } finally {
      chip.dispose();
    }
    this.plans.forEach((plan, i) => {
      const classes = histograms[i]!;
      if (classes.every((histogram) => histogram.count === 0)) return; // layer never ran: keep its range
      const S = plan.slices.widths.length;
      let range: number;
      if (this.noise.adcRange === 'mse') {
        range = mseOptimalRange(
          classes.map((histogram, k) => ({
            histogram,
            // A read's error reaches the output multiplied by its shift-add weight 2^(input + slice shift).
            weight: 2 ** (plan.input.shifts[math.floor(k / S)]! + plan.slices.shifts[k % S]!),
          })),
          this.hw.adcBits,
          plan.signedPartialSums,
        );
      } else {
        const merged = new PartialSumHistogram(plan.worstCasePartialSum);
        for (const histogram of classes) merged.merge(histogram);
        range = merged.percentile(this.noise.adcRangePercentile);
      }
      plan.calibratedRange = math.max(1, range);
      plan.adc = adcTransfer(
        this.hw.adcBits,
        plan.signedPartialSums,
        plan.calibratedRange,
        this.noise.idealAdc,
      );
    });
    return histograms;
  }

  /** ADC ranges as small JSON (to store with results, or to restore with setAdcRanges). */
  adcRanges(): Record<string, number | null> {
    return Object.fromEntries(this.plans.map((plan) => [plan.layer.shape.name, plan.calibratedRange]));
  }

  setAdcRanges(ranges: Record<string, number | null>): void {
    for (const plan of this.plans) {
      const range = ranges[plan.layer.shape.name];
      if (range === undefined || range === null) continue;
      plan.calibratedRange = range;
      plan.adc = adcTransfer(this.hw.adcBits, plan.signedPartialSums, range, this.noise.idealAdc);
    }
  }

  /** N chip instances (one per seed) at `timeS` seconds after programming, batched in one LinearOp. */
  sample(seeds: number[], timeS = 0): AnalogChip {
    if (seeds.length === 0) throw new AnalogChipError('sample: at least one seed is needed');
    return new AnalogChip(this, seeds, timeS, {});
  }

  /** The noise-free chip (every cell at its target) with this program's ADCs. */
  ideal(): AnalogChip {
    return new AnalogChip(this, [], 0, {});
  }
}

/**
 * One chip instance as a LinearOp (the common case): programs `net` onto `hw`, optionally calibrates the
 * ADC ranges, and samples the chip of `seed` at `timeS` seconds after programming.
 */
export function createAnalogChip(
  net: FoldedLayers,
  hw: HardwareConfig,
  noise: NoiseSettings,
  seed: number,
  options: ChipProgramOptions & { timeS?: number; calibrate?: (linearOp: LinearOp) => void } = {},
): AnalogChip {
  const program = new ChipProgram(net, hw, noise, options);
  if (options.calibrate) program.calibrateAdc(options.calibrate);
  return program.sample([seed], options.timeS ?? 0);
}
