/**
 * The run configuration: one YAML/JSON file defines a search. Strict objects everywhere (an unknown key is
 * an error, so a typo never silently becomes a default) and defaults for everything a beginner need not
 * decide. The README's configuration reference is generated from these schemas.
 */
import { z } from 'zod';
import { OBJECTIVE_METRICS, type ObjectiveMetric } from '../search/optimizer';
import { SearchSpaceSchema } from '../search/space/schema';
import { NoiseSettingsSchema } from '../hardware/noise/schema';
import { BaselineSchema } from '../search/baseline';

const positiveInt = () => z.number().int().min(1);

export const DatasetSchema = z
  .strictObject({
    name: z
      .enum(['fashion-mnist', 'idx'])
      .default('fashion-mnist')
      .describe('fashion-mnist (Debian package) or idx (dataset.dir)'),
    dir: z
      .string()
      .min(1)
      .optional()
      .describe('directory with the four IDX files; required when name is idx'),
    trainSubset: positiveInt()
      .max(60000)
      .optional()
      .describe('use only this many training images (seeded choice)'),
    validation: z
      .number()
      .int()
      .min(100)
      .max(20000)
      .default(5000)
      .describe('images carved from train for validation'),
  })
  .superRefine((dataset, ctx) => {
    if (dataset.name === 'idx' && !dataset.dir) {
      ctx.addIssue({
        code: 'custom',
        path: ['dir'],
        message: 'required when dataset.name is "idx": the IDX directory',
      });
    }
  });

/**
 * Data-parallel training fields of a training section (supernet, retrain): gradient shards fix the
 * numerics, processes only how many cores compute them (docs/dataParallel.md).
 */
const gradientShardsField = () =>
  z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe(
      'micro-batches per step, each with its own BatchNorm statistics, gradients averaged in a fixed order; the weights depend on it, not on processes (default 1: the whole batch at once)',
    );

const processesField = (defaultText: string) =>
  z
    .union([z.literal('auto'), z.number().int().min(1).max(64)])
    .optional()
    .describe(
      `processes computing a step's gradient shards in parallel (at most gradientShards; the results are identical for any count); ${defaultText}`,
    );

/** batchSize divisible by gradientShards, processes ≤ gradientShards, each naming the fix. */
function checkShards(
  section: { batchSize: number; gradientShards?: number; processes?: number | 'auto' },
  ctx: z.RefinementCtx,
): void {
  const shards = section.gradientShards ?? 1;
  // An invalid count has its own issue already (the field's rule).
  if (!Number.isInteger(shards) || shards < 1) return;
  if (section.batchSize % shards !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['gradientShards'],
      message: `batchSize ${section.batchSize} does not split into ${shards} equal micro-batches: make batchSize a multiple of gradientShards (e.g. ${Math.max(shards, Math.round(section.batchSize / shards) * shards)}) or pick a divisor of it`,
    });
  }
  if (typeof section.processes === 'number' && section.processes > shards) {
    ctx.addIssue({
      code: 'custom',
      path: ['processes'],
      message: `${section.processes} processes need at least as many gradient shards, got gradientShards ${shards}: raise gradientShards to ${section.processes} or lower processes`,
    });
  }
}

export const SupernetSchema = z
  .strictObject({
    epochs: positiveInt().max(1000).default(3).describe('training epochs of the supernet'),
    batchSize: z.number().int().min(1).max(4096).default(64).describe('images per training step'),
    learningRate: z
      .number()
      .gt(0)
      .max(10)
      .default(0.05)
      .describe('peak learning rate (cosine schedule after one warm-up epoch)'),
    epochsPerActivity: positiveInt()
      .default(1)
      .describe('epochs per training activity (one retryable chunk)'),
    checkpointEverySteps: positiveInt().default(50).describe('steps between checkpoints inside an epoch'),
    stepsPerEpoch: positiveInt()
      .optional()
      .describe('cap on steps per epoch (small smoke runs); default: the whole split'),
    noiseAware: z.boolean().default(true).describe('perturb weights with device-like noise each step'),
    noiseSigma: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe('relative weight noise σ (of max |w|) when noiseAware'),
    largestPathShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('share of steps that train the largest path (sandwich rule; 0 = pure SPOS sampling)'),
    inPlaceDistillation: z
      .boolean()
      .optional()
      .describe(
        "a step that samples a path also trains the largest path on the labels and the sampled path on the largest path's predictions (in-place distillation, about twice a one-path step's cost); default true, false = one path per step",
      ),
    gradientShards: gradientShardsField(),
    processes: processesField('default auto = min(gradientShards, CPU cores)'),
    sandwichSmallestPath: z
      .boolean()
      .optional()
      .describe(
        "with inPlaceDistillation, every step also trains the smallest path (fewest bits, narrowest widths, cheapest operators) on the largest path's predictions (BigNAS's full sandwich); default false",
      ),
    lowBitRangeClipping: z
      .boolean()
      .optional()
      .describe(
        'activation ranges of 2-bit grids set by the least-squared-error clip of each batch instead of the running max, in range variables of their own (the supernet and the retrained designs alike); default false',
      ),
  })
  .superRefine((supernet, ctx) => {
    checkShards(supernet, ctx);
    if (supernet.sandwichSmallestPath && supernet.inPlaceDistillation === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['sandwichSmallestPath'],
        message:
          "trains the smallest path on the largest path's predictions, so it needs inPlaceDistillation: remove inPlaceDistillation: false or sandwichSmallestPath",
      });
    }
  });

const METRIC_NAMES = Object.keys(OBJECTIVE_METRICS) as [ObjectiveMetric, ...ObjectiveMetric[]];

export const ObjectiveSchema = z
  .strictObject({
    metric: z.enum(METRIC_NAMES).describe(`one of ${METRIC_NAMES.join(', ')}`),
    goal: z.enum(['min', 'max']).optional().describe("defaults to the metric's natural direction"),
  })
  .superRefine((objective, ctx) => {
    const natural = OBJECTIVE_METRICS[objective.metric];
    if (objective.goal && objective.goal !== natural) {
      ctx.addIssue({
        code: 'custom',
        path: ['goal'],
        message: `${objective.metric} is always ${natural === 'max' ? 'maximized' : 'minimized'}; set goal: ${natural} or omit it`,
      });
    }
  });

const maxBudget = (unit: string) =>
  z.strictObject({ max: z.number().gt(0).describe(`upper bound in ${unit}`) });

export const ConstraintsSchema = z.strictObject({
  areaMm2: maxBudget('mm²').optional().describe('chip area budget'),
  latencyS: maxBudget('s').optional().describe('latency per image budget'),
  energyJ: maxBudget('J').optional().describe('energy per image budget'),
  accuracy: z
    .strictObject({ min: z.number().min(0).max(1).describe('lowest acceptable validation accuracy (0–1)') })
    .optional()
    .describe('least acceptable accuracy'),
  robustAccuracyMean: z
    .strictObject({
      min: z.number().min(0).max(1).describe('lowest acceptable mean noisy-chip accuracy (0–1)'),
    })
    .optional()
    .describe("least acceptable mean accuracy over stage 2's noisy chips (evolution.robust*)"),
  robustAccuracyP5: z
    .strictObject({
      min: z.number().min(0).max(1).describe('lowest acceptable 5th-percentile noisy-chip accuracy (0–1)'),
    })
    .optional()
    .describe("least acceptable 5th percentile over stage 2's noisy chips (evolution.robust*)"),
  chipAccuracy: z
    .strictObject({
      min: z.number().min(0).max(1).describe('lowest acceptable noise-free chip accuracy (0–1)'),
    })
    .optional()
    .describe(
      "least acceptable accuracy on stage 2's noise-free simulated chip (ADC/DAC quantization and bit slicing; evolution.chipImages)",
    ),
});

/** Stage 2's noise models for robust objectives (models/tasks/searchRobustness.ts). */
export const ROBUST_MODELS = ['chip', 'weight', 'weight-adc'] as const;
export type RobustModel = (typeof ROBUST_MODELS)[number];

export const EvolutionSchema = z.strictObject({
  algorithm: z
    .enum(['nsga2', 'random'])
    .default('nsga2')
    .describe('nsga2, or random search with the same budget'),
  population: z.number().int().min(4).max(1000).default(20).describe('candidates per generation'),
  generations: positiveInt().max(10000).default(10).describe('generations of the evolutionary search'),
  crossover: z
    .enum(['uniform', 'block'])
    .default('block')
    .describe('block keeps genes of one block/array together'),
  tournament: z
    .enum(['dominance-crowding', 'rank-crowding'])
    .default('dominance-crowding')
    .describe(
      "NSGA-II parent selection: pymoo's dominance-then-crowding over permutations, or Deb's rank-then-crowding",
    ),
  bnRecalBatches: positiveInt()
    .max(1000)
    .default(10)
    .describe('training batches to recalibrate BatchNorm per candidate'),
  validationImages: z
    .number()
    .int()
    .min(100)
    .max(20000)
    .default(2000)
    .describe('validation images per candidate'),
  candidatesPerActivity: positiveInt().max(100).default(4).describe('candidates evaluated per activity'),
  maxParallelEvaluations: positiveInt()
    .max(1000)
    .default(4)
    .describe('evaluation activities in flight at once'),
  generationsPerRun: positiveInt().default(5).describe('continue-as-new after this many generations'),
  robustSamples: positiveInt()
    .max(1000)
    .default(3)
    .describe('noisy chips per candidate when an objective or constraint is robustAccuracyMean/P5'),
  robustImages: z
    .number()
    .int()
    .min(20)
    .max(20000)
    .default(200)
    .describe('validation images per noisy chip of a stage-2 candidate'),
  robustModel: z
    .enum(ROBUST_MODELS)
    .default('chip')
    .describe(
      "chip: the simulated chip of stage 3 (ADC, bit slicing, per-read noise); weight: the device model's weight-level noise only (faster, no ADC); weight-adc: weight plus the DAC/ADC readout and depthwise leakage modelled digitally per layer (each read class's ADC gain, the rest as output noise) from the chip's ADC calibration; no bit-serial simulation (docs/robust-search.md)",
    ),
  chipImages: z
    .number()
    .int()
    .min(20)
    .max(20000)
    .default(500)
    .describe(
      'validation images of the noise-free simulated chip when an objective or constraint is chipAccuracy',
    ),
  robustDriftSeconds: z
    .number()
    .min(0)
    .optional()
    .describe("time after programming stage 2's noisy chips are read at; default robustness.reportAt"),
});

export const ExternalEvaluatorSchema = z.strictObject({
  command: z
    .array(z.string().min(1))
    .min(1)
    .describe('program and arguments speaking the JSON-lines protocol'),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .default(600)
    .describe('seconds one request may take before the evaluator is killed'),
  passEnv: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))
    .default([])
    .describe(
      "the worker's environment variables the command may see besides PATH, HOME, LANG, LC_ALL, TZ, TMPDIR and USER (nothing else is passed: not the worker's Temporal credentials)",
    ),
});

export const RobustnessSchema = z
  .strictObject({
    samples: positiveInt().max(10000).default(10).describe('Monte-Carlo chips per candidate'),
    driftSeconds: z
      .array(z.number().min(0))
      .min(1)
      .default([1, 3600, 86400])
      .describe('times after programming'),
    reportAt: z
      .number()
      .min(0)
      .optional()
      .describe(
        'the drift time (one of driftSeconds) headline accuracies and the winner use; default the longest',
      ),
    topK: positiveInt().max(1000).default(5).describe('front candidates evaluated on the noisy chip'),
    images: z
      .number()
      .int()
      .min(100)
      .max(10000)
      .default(2000)
      .describe('validation images per noisy evaluation (the test set stays for the final models)'),
    evaluator: z
      .union([z.literal('builtin'), ExternalEvaluatorSchema])
      .default('builtin')
      .describe(
        'builtin (the simulated chip) or { command, timeoutSeconds } speaking the JSON-lines protocol',
      ),
    noise: NoiseSettingsSchema.default({}).describe(
      "overrides of the device library's nominal noise for every noisy chip (stages 3 and 4, and device-model noise-aware retraining)",
    ),
  })
  .superRefine((robustness, ctx) => {
    if (robustness.reportAt !== undefined && !robustness.driftSeconds.includes(robustness.reportAt)) {
      ctx.addIssue({
        code: 'custom',
        path: ['reportAt'],
        message: `must be one of driftSeconds (${robustness.driftSeconds.join(', ')}), got ${robustness.reportAt}`,
      });
    }
  });

export const RetrainSchema = z
  .strictObject({
    count: positiveInt().max(100).default(1).describe('designs retrained from scratch'),
    choose: z
      .enum(['most-accurate', 'cheapest-near-best'])
      .optional()
      .describe(
        'which noisy-tested designs are retrained: most-accurate (the default) by the noisy mean at reportAt; cheapest-near-best the best on the first hardware objective (e.g. edap) among those within accuracyTolerance of the best noisy mean',
      ),
    accuracyTolerance: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'cheapest-near-best: accuracy (a fraction: 0.01 is one point) a design may lose to the best noisy mean; default 0.01',
      ),
    epochs: positiveInt().max(1000).default(5).describe('training epochs of each retrained design'),
    batchSize: z.number().int().min(1).max(4096).default(64).describe('images per training step'),
    learningRate: z.number().gt(0).max(10).default(0.05).describe('peak learning rate'),
    noiseAware: z.boolean().default(true).describe('perturb weights with noise each step'),
    noiseModel: z
      .enum(['device', 'gaussian'])
      .default('device')
      .describe(
        "device: the design's own chip noise (its device, bits per cell, drift at robustness.reportAt); gaussian: σ = supernet.noiseSigma",
      ),
    trainImages: positiveInt()
      .max(60000)
      .optional()
      .describe(
        'training images per retrained design (seeded choice); default: all of them, whatever dataset.trainSubset',
      ),
    epochsPerActivity: positiveInt()
      .default(1)
      .describe('epochs per retraining activity (one retryable chunk)'),
    testImages: z
      .number()
      .int()
      .min(100)
      .max(10000)
      .default(10000)
      .describe('test images the final models are measured on (the whole Fashion-MNIST test set by default)'),
    gradientShards: gradientShardsField(),
    processes: processesField(
      'default 1 per design (stage 4 already trains its designs side by side, one per core); auto = min(gradientShards, CPU cores)',
    ),
  })
  .superRefine(checkShards);

export const ArtifactsSchema = z.strictObject({
  root: z
    .string()
    .min(1)
    .default('./runs')
    .describe('artifact root; a shared filesystem when workers are many'),
});

export const FailuresSchema = z.strictObject({
  maxDroppedShare: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe(
      'a stage whose failed evaluations exceed this share fails the search; below it the search completes flagged partial (a stage with no result always fails)',
    ),
});

export const TemporalSchema = z.strictObject({
  address: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port')
    .default('127.0.0.1:7233')
    .describe('host:port of the Temporal frontend (TEMPORAL_ADDRESS wins)'),
  namespace: z.string().min(1).default('default').describe('namespace (TEMPORAL_NAMESPACE wins)'),
  taskQueuePrefix: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('imcnas')
    .describe('queues are <prefix>-orchestration, -training, -evaluation'),
  heartbeatTimeoutSeconds: z
    .number()
    .int()
    .min(5)
    .max(3600)
    .default(120)
    .describe('a training or evaluation activity silent this long is retried elsewhere'),
});

export const RunConfigSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,59}$/i, 'must be 1–60 letters, digits, dots, dashes or underscores')
    .describe('search name; the search id is <name> unless --id is given'),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(1)
    .describe('every random choice derives from it: the same config and seed reproduce the same search'),
  dataset: DatasetSchema.prefault({}),
  space: SearchSpaceSchema.prefault({}),
  objectives: z
    .array(ObjectiveSchema)
    .min(1)
    .max(6)
    .default(() => [{ metric: 'accuracy' as const }, { metric: 'edap' as const }])
    .describe('what the search optimizes (Pareto front over all)'),
  constraints: ConstraintsSchema.prefault({}),
  supernet: SupernetSchema.prefault({}),
  evolution: EvolutionSchema.prefault({}),
  robustness: RobustnessSchema.prefault({}),
  retrain: RetrainSchema.prefault({}),
  failures: FailuresSchema.prefault({}),
  baseline: BaselineSchema.optional().describe(
    'hand-designed networks on a fixed chip, retrained and tested as stage 4 does the found designs; omit for none',
  ),
  artifacts: ArtifactsSchema.prefault({}),
  temporal: TemporalSchema.prefault({}),
});

export type RunConfig = z.output<typeof RunConfigSchema>;

/** The drift time headline accuracies and the winner use: robustness.reportAt, else the longest. */
export function reportAtSeconds(config: Pick<RunConfig, 'robustness'>): number {
  return config.robustness.reportAt ?? Math.max(...config.robustness.driftSeconds);
}

/** The drift time stage 2's noisy chips are read at: evolution.robustDriftSeconds, else reportAt. */
export function searchDriftSeconds(config: Pick<RunConfig, 'robustness' | 'evolution'>): number {
  return config.evolution.robustDriftSeconds ?? reportAtSeconds(config);
}
export type RunConfigInput = z.input<typeof RunConfigSchema>;
