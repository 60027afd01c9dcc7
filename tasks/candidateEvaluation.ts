/**
 * Stage 2 evaluation as a child-process task: for each candidate, the accuracy its architecture inherits
 * from the supernet (BatchNorm recalibrated on training batches, then validation images) and its chip's
 * energy, latency and area from the cost model. Each result is written to its own file as soon as it is
 * known, so a killed worker never re-evaluates a finished candidate.
 */
import { designResultFile } from '../storage/runLayout';
import type { CandidateResult, ProposedCandidate } from '../contracts';
import type { RobustModel, RunConfig } from '../config/schema';
import { hardwareMetrics, needsChipAccuracy, needsRobustMetrics } from '../search/evolution';
import { decode } from '../search/space/codec';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic';
import type { ChildContext } from '../tensor/childProcess';
import { searchChipAccuracy, searchRobustness } from './searchRobustness';
import { loadTrainedSupernet, pathAccuracy, recalibrationSeed, stageData, stageSpace } from './shared';

export interface CandidateEvaluationRequest {
  /** Where each candidate's result file goes: `<dir>/<key>.json`. */
  dir: string;
  runDir: string;
  generation: number;
  config: RunConfig;
  candidates: ProposedCandidate[];
}

export interface StoredEvaluation extends CandidateResult {
  genome: number[];
  generation: number;
  /** Each noisy chip's accuracy, when robust metrics were measured. */
  robust?: { accuracies: number[]; driftSeconds: number; model: RobustModel };
}

export function evaluationFile(dir: string, key: string): string {
  return designResultFile(dir, key);
}

export async function run(
  request: CandidateEvaluationRequest,
  context: ChildContext,
): Promise<CandidateResult[]> {
  const { config } = request;
  const results: CandidateResult[] = [];
  const pending: ProposedCandidate[] = [];
  for (const candidate of request.candidates) {
    const stored = await readJsonIfExists<StoredEvaluation>(evaluationFile(request.dir, candidate.key));
    if (stored) results.push({ key: stored.key, metrics: stored.metrics });
    else pending.push(candidate);
  }
  if (pending.length === 0) return results;
  const splits = await stageData(config);
  const space = stageSpace(config);
  const supernet = await loadTrainedSupernet(request.runDir, config);
  const measureRobust = needsRobustMetrics(config.objectives, config.constraints);
  const measureChip = needsChipAccuracy(config.objectives, config.constraints);
  context.report({ step: results.length, total: request.candidates.length, message: 'supernet loaded' });
  for (const candidate of pending) {
    const decoded = decode(space, candidate.genome);
    const accuracy = pathAccuracy(
      supernet,
      decoded,
      splits.train,
      splits.validation,
      {
        calibrationBatches: config.evolution.bnRecalBatches,
        batchSize: config.supernet.batchSize,
        images: config.evolution.validationImages,
        // Every candidate of a search recalibrates on the same images, so accuracies compare fairly.
        seed: recalibrationSeed(config),
      },
      (message, fraction) =>
        // A heartbeat every validation batch, not once per candidate: a slow candidate is not a dead one.
        context.report({
          step: results.length + fraction,
          total: request.candidates.length,
          message: `${candidate.key}: ${message}`,
        }),
    );
    // Likewise the noise-free chip's accuracy: one deterministic chip simulation per candidate.
    const subnet = measureRobust || measureChip ? supernet.extractSubnet(decoded) : null;
    if (measureChip) {
      context.report({
        step: results.length,
        total: request.candidates.length,
        message: `${candidate.key}: noise-free chip`,
      });
    }
    const chip = measureChip ? searchChipAccuracy(subnet!, decoded.hardware, config, splits) : null;
    // The noisy accuracy only when an objective or a constraint asks for it: it costs chip simulations.
    // pathAccuracy left the BatchNorm statistics recalibrated for this path, so the subnet folds them.
    const robust = measureRobust
      ? await searchRobustness(
          subnet!,
          decoded.hardware,
          candidate.key,
          config,
          splits,
          config.evolution.robustModel,
          (message) => context.report({ step: results.length, total: request.candidates.length, message }),
        )
      : null;
    const stored: StoredEvaluation = {
      key: candidate.key,
      genome: candidate.genome,
      generation: request.generation,
      metrics: {
        accuracy,
        ...hardwareMetrics(space, candidate.genome),
        ...(robust && {
          robustAccuracyMean: robust.robustAccuracyMean,
          robustAccuracyP5: robust.robustAccuracyP5,
        }),
        ...(chip && { chipAccuracy: chip.chipAccuracy }),
      },
      ...(robust && {
        robust: { accuracies: robust.accuracies, driftSeconds: robust.driftSeconds, model: robust.model },
      }),
    };
    await writeJsonAtomic(evaluationFile(request.dir, candidate.key), stored);
    results.push({ key: stored.key, metrics: stored.metrics });
    context.report({
      step: results.length,
      total: request.candidates.length,
      message: `${candidate.key}: accuracy ${(accuracy * 100).toFixed(2)} %${chip ? ` (noise-free chip ${(chip.chipAccuracy * 100).toFixed(2)} %)` : ''}${robust ? ` (noisy ${(robust.robustAccuracyMean * 100).toFixed(2)} %)` : ''}, EDAP ${stored.metrics.edap.toExponential(3)} J·s·mm²`,
    });
  }
  supernet.dispose();
  // Keep the order of the request (stored ones first otherwise).
  const byKey = new Map(results.map((r) => [r.key, r]));
  return request.candidates.map((c) => byKey.get(c.key)!);
}
