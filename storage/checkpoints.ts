/**
 * Checkpoints: one directory per checkpoint (`<prefix>-NNNNNNNN/`) holding `tensors.bin` (all float32
 * tensors back to back) and `checkpoint.json` (shapes, offsets, the SHA-256 of tensors.bin and any small
 * JSON state such as the step, the RNG state, the loss and the log lines of the steps it covers).
 *
 * A checkpoint commits as one unit: both files are written into a hidden temporary directory, which is
 * renamed to its final name only when complete. A process killed mid-write leaves a temporary directory
 * (ignored, and removed by the next save), never a half-written checkpoint under a checkpoint's name. The
 * hash still guards against later damage (a disk error, a half-copied run directory). Loading takes the
 * newest checkpoint that verifies and reports the ones it had to skip; when none verifies it starts over
 * rather than failing the search for good.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fsyncDirectory, sha256, writeFileAtomic, writeJsonAtomic } from './atomic';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointMeta<State> {
  format: 'imcnas-checkpoint-v1';
  index: number;
  tensorsSha256: string;
  tensors: Array<{ name: string; shape: number[]; offset: number; length: number }>;
  state: State;
  writtenAt: string;
}

export interface LoadedCheckpoint<State> {
  index: number;
  dir: string;
  tensors: Map<string, NamedTensor>;
  state: State;
  /** Newer checkpoints that failed verification, with the reason each was refused. */
  skipped: Array<{ dir: string; reason: string }>;
}

export class CheckpointCorruptError extends Error {
  override name = 'CheckpointCorruptError';
}

export function checkpointDirName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(8, '0')}`;
}

export async function saveCheckpoint<State>(
  root: string,
  prefix: string,
  index: number,
  tensors: Map<string, NamedTensor>,
  state: State,
): Promise<string> {
  const name = checkpointDirName(prefix, index);
  const dir = path.join(root, name);
  await fs.mkdir(root, { recursive: true });
  await removeAbandonedWrites(root, prefix);
  const staging = path.join(root, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const entries: CheckpointMeta<State>['tensors'] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    entries.push({ name, shape: tensor.shape, offset, length: tensor.data.length });
    offset += tensor.data.length;
  }
  const body = new Float32Array(offset);
  for (const entry of entries) body.set(tensors.get(entry.name)!.data, entry.offset);
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const digest = await writeFileAtomic(path.join(staging, 'tensors.bin'), bytes);
  killHereIfInjected();
  const meta: CheckpointMeta<State> = {
    format: 'imcnas-checkpoint-v1',
    index,
    tensorsSha256: digest,
    tensors: entries,
    state,
    writtenAt: new Date().toISOString(),
  };
  await writeJsonAtomic(path.join(staging, 'checkpoint.json'), meta);
  // A checkpoint of the same index exists only if it was refused on load (corrupt): replace it.
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rename(staging, dir);
  await fsyncDirectory(root);
  return dir;
}

/**
 * Fault injection for `npm run bench -- faults`: when IMCNAS_FAULT_KILL_IN_CHECKPOINT names a marker file
 * that does not exist yet, the process creates it and kills itself with SIGKILL between writing the
 * tensors and the metadata of a checkpoint — the worst moment for a crash. Once per marker file.
 */
function killHereIfInjected(): void {
  const marker = process.env.IMCNAS_FAULT_KILL_IN_CHECKPOINT;
  if (!marker || existsSync(marker)) return;
  writeFileSync(marker, `${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Temporary directories of saves that a killed process never finished. */
async function removeAbandonedWrites(root: string, prefix: string): Promise<void> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(`.${prefix}-`) && name.endsWith('.tmp'))
      await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
}

/** Reads and verifies one checkpoint directory; throws CheckpointCorruptError naming what is wrong. */
export async function readCheckpoint<State>(dir: string): Promise<Omit<LoadedCheckpoint<State>, 'skipped'>> {
  let meta: CheckpointMeta<State>;
  try {
    meta = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta<State>;
  } catch (error) {
    throw new CheckpointCorruptError(`${dir}: unreadable checkpoint.json (${(error as Error).message})`);
  }
  if (meta.format !== 'imcnas-checkpoint-v1') {
    throw new CheckpointCorruptError(`${dir}: unknown checkpoint format ${JSON.stringify(meta.format)}`);
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path.join(dir, 'tensors.bin'));
  } catch (error) {
    throw new CheckpointCorruptError(`${dir}: tensors.bin missing (${(error as Error).message})`);
  }
  const digest = sha256(bytes);
  if (digest !== meta.tensorsSha256) {
    throw new CheckpointCorruptError(
      `${dir}: tensors.bin SHA-256 ${digest.slice(0, 12)}… does not match the recorded ${meta.tensorsSha256.slice(0, 12)}…`,
    );
  }
  // Copy into an aligned buffer: Buffer slices from the pool need not be 4-byte aligned.
  const floats = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(floats.buffer).set(bytes);
  const tensors = new Map<string, NamedTensor>();
  for (const entry of meta.tensors) {
    tensors.set(entry.name, {
      shape: entry.shape,
      data: floats.subarray(entry.offset, entry.offset + entry.length),
    });
  }
  return { index: meta.index, dir, tensors, state: meta.state };
}

export async function listCheckpointIndices(root: string, prefix: string): Promise<number[]> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const pattern = new RegExp(`^${prefix}-(\\d{8})$`);
  return names
    .map((name) => pattern.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => b - a);
}

/**
 * The newest checkpoint that verifies, or undefined when there is none. Checkpoints that fail verification
 * are skipped and reported to `onSkip` (and in the result's `skipped`); when every one fails, training
 * starts over from step 0 instead of failing the search for good: recomputation is cheaper than a search
 * that `resume-failed` cannot revive.
 */
export async function loadLatestCheckpoint<State>(
  root: string,
  prefix: string,
  onSkip: (skipped: { dir: string; reason: string }) => void = (skipped) =>
    console.warn(`[checkpoint] skipping ${skipped.reason}`),
): Promise<LoadedCheckpoint<State> | undefined> {
  const skipped: LoadedCheckpoint<State>['skipped'] = [];
  for (const index of await listCheckpointIndices(root, prefix)) {
    const dir = path.join(root, checkpointDirName(prefix, index));
    try {
      return { ...(await readCheckpoint<State>(dir)), skipped };
    } catch (error) {
      if (!(error instanceof CheckpointCorruptError)) throw error;
      skipped.push({ dir, reason: error.message });
      onSkip({ dir, reason: error.message });
    }
  }
  return undefined;
}

/** Keeps the newest `keep` checkpoints; older ones are removed. */
export async function pruneCheckpoints(root: string, prefix: string, keep: number): Promise<void> {
  const indices = await listCheckpointIndices(root, prefix);
  for (const index of indices.slice(keep)) {
    await fs.rm(path.join(root, checkpointDirName(prefix, index)), { recursive: true, force: true });
  }
}
