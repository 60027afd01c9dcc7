import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DatasetError, loadIdxPair, parseIdx, readIdxFile } from '../../data/idx';
import { fashionMnistInstalled, loadFashionMnist } from '../../data/fashionMnist';

function idx(dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

describe('IDX loader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-idx-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('parses dims and data', () => {
    const parsed = parseIdx(idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), 'x');
    expect(parsed.dims).toEqual([2, 2, 2]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('rejects a bad magic number, a wrong type and a truncated body with the file named', () => {
    const good = idx([2, 2], [1, 2, 3, 4]);
    const badMagic = Buffer.from(good);
    badMagic[0] = 0x1f;
    expect(() => parseIdx(badMagic, 'a.idx')).toThrow(/a\.idx: not an IDX file/);
    const badType = Buffer.from(good);
    badType[2] = 0x0d;
    expect(() => parseIdx(badType, 'b.idx')).toThrow(/b\.idx: IDX element type 0xd unsupported/);
    expect(() => parseIdx(good.subarray(0, good.length - 1), 'c.idx')).toThrow(/c\.idx: .*truncated/);
  });

  it('rejects a corrupt gzip file and a missing file', async () => {
    const gz = gzipSync(idx([2], [0, 1]));
    const corrupt = path.join(dir, 'corrupt.gz');
    await fs.writeFile(corrupt, gz.subarray(0, gz.length - 6));
    await expect(readIdxFile(corrupt)).rejects.toThrow(DatasetError);
    await expect(readIdxFile(path.join(dir, 'none.gz'))).rejects.toThrow(/file not found/);
  });

  it('rejects image/label count mismatch and out-of-range labels', async () => {
    const images = path.join(dir, 'img.gz');
    const labels = path.join(dir, 'lab.gz');
    await fs.writeFile(images, gzipSync(idx([2, 1, 1], [0, 255])));
    await fs.writeFile(labels, gzipSync(idx([3], [0, 1, 2])));
    await expect(loadIdxPair({ images, labels })).rejects.toThrow(/2 images but lab\.gz holds 3 labels/);
    await fs.writeFile(labels, gzipSync(idx([2], [0, 12])));
    await expect(loadIdxPair({ images, labels })).rejects.toThrow(/label 12 at index 1/);
  });
});

describe('Fashion-MNIST from the Debian package', () => {
  it('is installed (npm test installs it) and has the published sizes and a balanced label set', async () => {
    expect(fashionMnistInstalled()).toBe(true);
    const test = await loadFashionMnist('test');
    expect([test.count, test.height, test.width]).toEqual([10000, 28, 28]);
    const perClass = new Array(10).fill(0);
    for (const label of test.labels) perClass[label]++;
    expect(perClass).toEqual(new Array(10).fill(1000));
    const train = await loadFashionMnist('train');
    expect(train.count).toBe(60000);
  });
});
