/**
 * Exports one design of a run directory to aihwkit (interop/aihwkit.ts): a retrained design with its
 * retrained weights, or any design of the run's space with the supernet's inherited weights (as
 * tasks/neurosimExport.ts loads them), under the run's own chip noise settings and drift times.
 */
import { exportDir, runFiles } from '../storage/runLayout';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../config/load';
import {
  AihwkitExportError,
  exportToAihwkit,
  type AihwkitExportResult,
  type AihwkitExportRequest,
} from '../interop/aihwkit';
import { noiseSettings, type NoiseSettings } from '../hardware/noise';
import { loadRunDesign } from './neurosimExport';

/** The drift times of issue 18's cross-check when the run names none: 1 s, 1 h, 1 day, 30 days. */
export const DEFAULT_AIHWKIT_DRIFT_SECONDS = [1, 3600, 86400, 2592000];

export interface RunDesignAihwkitOptions {
  runDir: string;
  designKey: string;
  /** Default: <runDir>/export/<key>/aihwkit. */
  outDir?: string;
  /** Default: the run's robustness.driftSeconds, else DEFAULT_AIHWKIT_DRIFT_SECONDS. */
  driftSeconds?: number[];
}

export async function exportRunDesignToAihwkit(
  options: RunDesignAihwkitOptions,
): Promise<AihwkitExportResult> {
  const { runDir, designKey } = options;
  const design = await loadRunDesign(runDir, designKey, (problems) => new AihwkitExportError(problems));
  const configFile = runFiles(runDir).config;
  const config = existsSync(configFile) ? await loadConfigFile(configFile) : undefined;
  const request: AihwkitExportRequest = {
    network: design.network,
    hardware: design.hardware,
    noise: noiseSettings(config?.robustness.noise as Partial<NoiseSettings> | undefined),
    driftSeconds: options.driftSeconds ?? config?.robustness.driftSeconds ?? DEFAULT_AIHWKIT_DRIFT_SECONDS,
    outDir: options.outDir ?? exportDir(runDir, designKey, 'aihwkit'),
    source: {
      runDir: path.resolve(runDir),
      designKey,
      description: design.description,
      weights: design.weights,
    },
  };
  return exportToAihwkit(request);
}
