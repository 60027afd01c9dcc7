/**
 * The run directory, `<artifacts.root>/<searchId>/`: every path in it is spelled here and nowhere else.
 *
 *   config.yaml                the validated configuration, every default filled in (written once)
 *   manifest.json              creation time and the configuration's SHA-256 (written once)
 *   supernet/                  stage 1, a training directory (below)
 *   search/gen-NNNN/           stage 2: proposal.json (the generation's candidates and the optimizer state
 *                              before it), evaluations/<key>.json (one per candidate), summary.json
 *   search/state-after-gen-NNNN.json   the optimizer after telling generation NNNN
 *   robust/<key>.json          stage 3: one noisy-chip evaluation per front design; robust/evaluator/ the
 *                              external evaluator's exchange files
 *   final/<key>/               stage 4, a design directory (below)
 *   baseline/<name>/           stage 4's hand-designed baselines, laid out as final/<key>/
 *   export/<key>/<tool>/       `imcnas export` (NeuroSim, …)
 *   timing/<stage>/<label>.json   busy time and attempts of each piece of work
 *   results.json, front.csv, report.html   the search's outputs
 *
 * A training directory holds checkpoints (<prefix>-NNNNNNNN/, storage/checkpoints.ts), the step log
 * train-log.jsonl, history.json, and chunk-until-epoch-NNNN.json, one per finished training activity.
 * A design directory holds train/ (a training directory), final.json (its noisy test), evaluator/ and
 * model/ (folded-network.json, hardware.json, model.onnx, tfjs/).
 *
 * Rules every writer keeps:
 * - each file is written whole and atomically (storage/atomic.ts: temporary file, fsync, rename), so a
 *   reader sees the old file or the new one, never a torn one;
 * - a piece of work writes its result file last, and a retried activity that finds it returns it instead
 *   of redoing the work: idempotency by file, so no finished candidate, chunk or test is ever recomputed;
 * - checkpoints commit as one directory renamed into place, their step-log lines inside them
 *   (storage/checkpoints.ts), so a kill leaves the previous checkpoint, never half of one;
 * - config.yaml and manifest.json are written once; a search id started again with another configuration
 *   is refused (config/identity.ts) rather than mixing two searches in one directory.
 */
import * as path from 'node:path';

export const CONFIG_FILE = 'config.yaml';
export const MANIFEST_FILE = 'manifest.json';
export const RESULTS_FILE = 'results.json';
export const FRONT_CSV = 'front.csv';
export const REPORT_FILE = 'report.html';
export const TRAINING_LOG_FILE = 'train-log.jsonl';
export const TRAINING_HISTORY_FILE = 'history.json';
export const ONNX_MODEL_FILE = 'model.onnx';
export const TFJS_EXPORT_DIR = 'tfjs';

const pad4 = (n: number) => String(n).padStart(4, '0');

/** The run's own files. */
export function runFiles(runDir: string) {
  return {
    config: path.join(runDir, CONFIG_FILE),
    manifest: path.join(runDir, MANIFEST_FILE),
    results: path.join(runDir, RESULTS_FILE),
    frontCsv: path.join(runDir, FRONT_CSV),
    report: path.join(runDir, REPORT_FILE),
  };
}

/** Stage 1's training directory. */
export function supernetDir(runDir: string): string {
  return path.join(runDir, 'supernet');
}

export function searchDir(runDir: string): string {
  return path.join(runDir, 'search');
}

/** `gen-NNNN`: a generation's directory name, also naming its timing records. */
export function generationLabel(generation: number): string {
  return `gen-${pad4(generation)}`;
}

export function generationDir(runDir: string, generation: number): string {
  return path.join(searchDir(runDir), generationLabel(generation));
}

/** A generation's files, by its directory (generationDir) or its name in searchDir. */
export function generationFiles(dir: string) {
  return {
    proposal: path.join(dir, 'proposal.json'),
    summary: path.join(dir, 'summary.json'),
    evaluations: path.join(dir, 'evaluations'),
  };
}

/** The optimizer's state after telling `generation`. */
export function optimizerStateFile(runDir: string, generation: number): string {
  return path.join(searchDir(runDir), `state-after-gen-${pad4(generation)}.json`);
}

/** Stage 3's directory: one `<key>.json` per front design (designResultFile). */
export function robustDir(runDir: string): string {
  return path.join(runDir, 'robust');
}

/** A candidate's or design's result file in a directory of many (evaluations/, robust/). */
export function designResultFile(dir: string, key: string): string {
  return path.join(dir, `${key}.json`);
}

/** A retrained design's directory (a design directory). */
export function finalDir(runDir: string, key: string): string {
  return path.join(finalsDir(runDir), key);
}

export function finalsDir(runDir: string): string {
  return path.join(runDir, 'final');
}

/** A hand-designed baseline's directory (a design directory). */
export function baselineDir(runDir: string, name: string): string {
  return path.join(runDir, 'baseline', name);
}

/** The parts of a design directory (finalDir, baselineDir), and of stage 3's directory for `evaluator`. */
export function designFiles(dir: string) {
  return {
    train: path.join(dir, 'train'),
    final: path.join(dir, 'final.json'),
    model: path.join(dir, 'model'),
    evaluator: path.join(dir, 'evaluator'),
  };
}

/** An exported model directory's files (designFiles(dir).model). */
export function modelFiles(modelDir: string) {
  return {
    foldedNetwork: path.join(modelDir, 'folded-network.json'),
    hardware: path.join(modelDir, 'hardware.json'),
    onnx: path.join(modelDir, ONNX_MODEL_FILE),
    tfjs: path.join(modelDir, TFJS_EXPORT_DIR),
  };
}

/** Where `imcnas export <search> <key> --to <tool>` writes by default. */
export function exportDir(runDir: string, key: string, tool: string): string {
  return path.join(runDir, 'export', key, tool);
}

/** A training directory's record of the activity that trained it until `untilEpoch`. */
export function chunkFile(trainDir: string, untilEpoch: number): string {
  return path.join(trainDir, `chunk-until-epoch-${pad4(untilEpoch)}.json`);
}

export function trainingLogFile(trainDir: string): string {
  return path.join(trainDir, TRAINING_LOG_FILE);
}

export function trainingHistoryFile(trainDir: string): string {
  return path.join(trainDir, TRAINING_HISTORY_FILE);
}

export function timingDir(runDir: string): string {
  return path.join(runDir, 'timing');
}

export function timingStageDir(runDir: string, stage: string): string {
  return path.join(timingDir(runDir), stage);
}

/** A piece of work's timing record; the label is made safe as a file name. */
export function timingFile(runDir: string, stage: string, label: string): string {
  return path.join(timingStageDir(runDir, stage), `${label.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}
