import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readJsonIfExists, sha256, writeFileAtomic, writeJsonAtomic } from '../../storage/atomic';

describe('atomic writes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-atomic-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes the content, returns its SHA-256 and leaves no temp file', async () => {
    const file = path.join(dir, 'nested', 'a.bin');
    const digest = await writeFileAtomic(file, Buffer.from('hello'));
    expect(digest).toBe(sha256('hello'));
    expect(await fs.readFile(file, 'utf8')).toBe('hello');
    expect(await fs.readdir(path.dirname(file))).toEqual(['a.bin']);
  });

  it('replaces an existing file whole', async () => {
    const file = path.join(dir, 'm.json');
    await writeJsonAtomic(file, { step: 1 });
    await writeJsonAtomic(file, { step: 2, more: 'x'.repeat(10000) });
    expect((await readJsonIfExists<{ step: number }>(file))?.step).toBe(2);
  });

  it('returns undefined for a missing file', async () => {
    expect(await readJsonIfExists(path.join(dir, 'none.json'))).toBeUndefined();
  });
});
