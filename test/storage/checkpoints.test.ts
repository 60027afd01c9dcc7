import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
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

  it('starts over (no checkpoint) when every checkpoint is corrupt, reporting each one it skipped', async () => {
    expect(await loadLatestCheckpoint(root, 'step')).toBeUndefined();
    const only = await saveCheckpoint(root, 'step', 1, tensors(1), { step: 1 });
    await fs.writeFile(path.join(only, 'tensors.bin'), Buffer.alloc(4));
    const reported: string[] = [];
    expect(await loadLatestCheckpoint(root, 'step', (s) => reported.push(s.reason))).toBeUndefined();
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/SHA-256/);
  });

  it('a save killed mid-write leaves no checkpoint under a checkpoint name; the next save cleans it up', async () => {
    // What a process killed between tensors.bin and checkpoint.json leaves behind: a staging directory.
    const abandoned = path.join(root, `.${checkpointDirName('step', 1)}.4242.deadbeef.tmp`);
    await fs.mkdir(abandoned, { recursive: true });
    await fs.writeFile(path.join(abandoned, 'tensors.bin'), Buffer.alloc(8));
    expect(await listCheckpointIndices(root, 'step')).toEqual([]);
    expect(
      await loadLatestCheckpoint(root, 'step', (s) => {
        throw new Error(`unexpected skip: ${s.reason}`);
      }),
    ).toBeUndefined();
    await saveCheckpoint(root, 'step', 1, tensors(1), { step: 1 });
    expect((await fs.readdir(root)).sort()).toEqual([checkpointDirName('step', 1)]);
    expect((await loadLatestCheckpoint<{ step: number }>(root, 'step'))?.state.step).toBe(1);
  });

  it('replaces a refused checkpoint of the same index when it is saved again', async () => {
    const dir = await saveCheckpoint(root, 'step', 1, tensors(1), { step: 1 });
    await fs.writeFile(path.join(dir, 'tensors.bin'), Buffer.alloc(4));
    await saveCheckpoint(root, 'step', 1, tensors(3), { step: 1 });
    const loaded = await loadLatestCheckpoint<{ step: number }>(root, 'step');
    expect(Array.from(loaded!.tensors.get('w')!.data)).toEqual([3, 6, 9, 12, 15, 18]);
  });

  it('prunes all but the newest checkpoints', async () => {
    for (const i of [1, 2, 3, 4]) await saveCheckpoint(root, 'step', i, tensors(i), {});
    await pruneCheckpoints(root, 'step', 2);
    expect(await listCheckpointIndices(root, 'step')).toEqual([4, 3]);
  });
});
