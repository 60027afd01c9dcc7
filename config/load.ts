/** Reads a run configuration from YAML or JSON and validates it before anything starts. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { baselineProblems } from '../search/baseline';
import { isAccuracyMetric } from '../search/optimizer';
import { RunConfigSchema, type RunConfig } from './schema';
import { ConfigError, parseOrThrow } from '../common/validation';

export function validateConfig(value: unknown): RunConfig {
  const config = parseOrThrow(RunConfigSchema, value);
  // A baseline network takes the dataset's image shape and classes from the search space.
  const problems = [
    ...baselineProblems(config.baseline, config.space.network),
    ...winnerPolicyProblems(config),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** cheapest-near-best ranks designs on a hardware objective: the search must have one. */
function winnerPolicyProblems(config: RunConfig): string[] {
  if (config.retrain.choose !== 'cheapest-near-best') return [];
  if (config.objectives.some((objective) => !isAccuracyMetric(objective.metric))) return [];
  return [
    'retrain.choose: cheapest-near-best picks the cheapest design on the first hardware objective, and objectives has none: add one (e.g. { metric: edap }) or use most-accurate',
  ];
}

export async function loadConfigFile(file: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  let value: unknown;
  try {
    value = path.extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError([
      `${file}: not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    ]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([`${file}: must hold a mapping of settings (name, seed, dataset, …)`]);
  }
  return validateConfig(value);
}

/** The text of a run directory's config.yaml: the validated configuration, every default filled in. */
export function configFileText(config: RunConfig): string {
  return toYaml(config);
}
