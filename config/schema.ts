/**
 * The run configuration: one YAML/JSON file defines a search. Strict objects everywhere (an unknown key is
 * an error, so a typo never silently becomes a default) and defaults for everything a beginner need not
 * decide. The README's configuration reference is generated from these schemas.
 */
import { z } from 'zod';

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

export const SupernetSchema = z.strictObject({
  epochs: positiveInt().max(1000).default(3).describe('training epochs of the supernet'),
  batchSize: z.number().int().min(1).max(4096).default(64),
  learningRate: z.number().gt(0).max(10).default(0.05),
  epochsPerActivity: positiveInt().default(1).describe('epochs per training activity (one retryable chunk)'),
  checkpointEverySteps: positiveInt().default(50).describe('steps between checkpoints inside an epoch'),
  stepsPerEpoch: positiveInt()
    .optional()
    .describe('cap on steps per epoch (small smoke runs); default: the whole split'),
});

export const ArtifactsSchema = z.strictObject({
  root: z
    .string()
    .min(1)
    .default('./runs')
    .describe('artifact root; a shared filesystem when workers are many'),
});

export const TemporalSchema = z.strictObject({
  address: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port')
    .default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  taskQueuePrefix: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('imcnas')
    .describe('queues are <prefix>-orchestration, -training, -evaluation'),
  heartbeatTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
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
    .default(1),
  dataset: DatasetSchema.prefault({}),
  supernet: SupernetSchema.prefault({}),
  artifacts: ArtifactsSchema.prefault({}),
  temporal: TemporalSchema.prefault({}),
});

export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
