import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CheckpointCorruptError,
  checkpointDirName,
  listCheckpointIndices,
  loadLatestCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  type NamedTensor,
} from '../../storage/checkpoints';

function tensors(seed: number): Map<string, NamedTensor> {
  return new Map([
    ['w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6].map((v) => v * seed)) }],
    ['b', { shape: [3], data: Float32Array.from([seed, -seed, 0.5]) }],
  ]);
}

describe('checkpoints', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-ckpt-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('round-trips tensors and state', async () => {
    await saveCheckpoint(root, 'step', 3, tensors(2), { step: 3, rng: { s: [1, 2, 3, 4] } });
    const loaded = await loadLatestCheckpoint<{ step: number }>(root, 'step');
    expect(loaded?.index).toBe(3);
    expect(loaded?.state.step).toBe(3);
    expect(Array.from(loaded!.tensors.get('w')!.data)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(loaded!.tensors.get('b')!.shape).toEqual([3]);
    expect(loaded!.skipped).toEqual([]);
  });

  it('refuses a corrupt newest checkpoint, says why, and falls back to the previous one', async () => {
    await saveCheckpoint(root, 'step', 1, tensors(1), { step: 1 });
    const newest = await saveCheckpoint(root, 'step', 2, tensors(2), { step: 2 });
    const bin = path.join(newest, 'tensors.bin');
    const bytes = await fs.readFile(bin);
    bytes[5] ^= 0xff;
    await fs.writeFile(bin, bytes);
    const loaded = await loadLatestCheckpoint<{ step: number }>(root, 'step');
    expect(loaded?.index).toBe(1);
    expect(loaded?.skipped[0].reason).toMatch(/SHA-256 .* does not match/);
  });

  it('treats a checkpoint without its checkpoint.json as incomplete', async () => {
    await saveCheckpoint(root, 'step', 1, tensors(1), { step: 1 });
    const partial = path.join(root, checkpointDirName('step', 2));
    await fs.mkdir(partial);
    await fs.writeFile(path.join(partial, 'tensors.bin'), Buffer.alloc(8));
    expect((await loadLatestCheckpoint(root, 'step'))?.index).toBe(1);
  });

  it('fails loudly when every checkpoint is corrupt, and returns undefined when there is none', async () => {
    expect(await loadLatestCheckpoint(root, 'step')).toBeUndefined();
    const only = await saveCheckpoint(root, 'step', 1, tensors(1), { step: 1 });
    await fs.writeFile(path.join(only, 'tensors.bin'), Buffer.alloc(4));
    await expect(loadLatestCheckpoint(root, 'step')).rejects.toThrow(CheckpointCorruptError);
  });

  it('prunes all but the newest checkpoints', async () => {
    for (const i of [1, 2, 3, 4]) await saveCheckpoint(root, 'step', i, tensors(i), {});
    await pruneCheckpoints(root, 'step', 2);
    expect(await listCheckpointIndices(root, 'step')).toEqual([4, 3]);
  });
});
