import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFashionMnist } from '../../data/fashionMnist';
import { validateConfig } from '../../config/load';
import { firstImages, referencedImages, testImages } from '../../tasks/evaluationImages';
import type { Split } from '../../data/dataset';

function split(count: number): Split {
  const x = new Float32Array(count * 4 * 3);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 37) % 256) / 255;
  const y = Int32Array.from({ length: count }, (_, i) => i % 10);
  return { x, y, count, height: 4, width: 3, channels: 1 } as Split;
}

describe('evaluation images for an external evaluator', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-images-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes a selection as an IDX pair the reference points to; loading it gives the same images', async () => {
    const data = firstImages(split(7), 5);
    const referenced = await referencedImages(dir, data);
    expect(referenced.reference).toMatchObject({ name: 'idx', split: 'train', offset: 0, count: 5 });
    const loaded = await loadFashionMnist('train', referenced.reference!.dir!);
    expect(loaded.count).toBe(5);
    expect(Array.from(loaded.labels)).toEqual(Array.from(data.labels));
    expect(Array.from(Float32Array.from(loaded.images, (b) => b / 255))).toEqual(Array.from(data.images));
    // Written once per content: a second call reuses the files.
    const again = await referencedImages(dir, data);
    expect(again.reference!.dir).toBe(referenced.reference!.dir);
    expect((await fs.readdir(dir)).length).toBe(1);
  });

  it("references the test split's first images where the dataset keeps them", () => {
    const config = validateConfig({ name: 'x' });
    const data = testImages(config, split(9), 6);
    expect(data.reference).toEqual({
      name: 'fashion-mnist',
      split: 'test',
      dir: '/usr/share/datasets/fashion-mnist',
      offset: 0,
      count: 6,
    });
  });
});
