import { epochBatches, gatherBatch, loadSplits } from '../../data/dataset';

describe('dataset splits', () => {
  it('carves a seeded validation split from train and keeps test whole', async () => {
    const a = await loadSplits({ name: 'fashion-mnist', validation: 1000, trainSubset: 2000 }, 7);
    const b = await loadSplits({ name: 'fashion-mnist', validation: 1000, trainSubset: 2000 }, 7);
    const c = await loadSplits({ name: 'fashion-mnist', validation: 1000, trainSubset: 2000 }, 8);
    expect([a.train.count, a.validation.count, a.test.count]).toEqual([2000, 1000, 10000]);
    expect(a.validation.y).toEqual(b.validation.y);
    expect(a.validation.x.subarray(0, 784)).toEqual(b.validation.x.subarray(0, 784));
    expect(Array.from(a.validation.y.subarray(0, 50))).not.toEqual(
      Array.from(c.validation.y.subarray(0, 50)),
    );
    expect(Math.max(...a.train.x.subarray(0, 784 * 10))).toBeLessThanOrEqual(1);
  });

  it('cuts a seeded permutation into batches covering every index once', () => {
    const batches = epochBatches(10, 4, 1, 0);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epochBatches(10, 4, 1, 0)).toEqual(batches);
    expect(epochBatches(10, 4, 1, 1)).not.toEqual(batches);
  });

  it('gathers batch rows', () => {
    const split = {
      x: Float32Array.from([0, 0, 1, 1, 2, 2]),
      y: Int32Array.from([5, 6, 7]),
      count: 3,
      height: 1,
      width: 2,
      channels: 1,
      numClasses: 10,
    };
    const batch = gatherBatch(split, [2, 0]);
    expect(Array.from(batch.x)).toEqual([2, 2, 0, 0]);
    expect(Array.from(batch.y)).toEqual([7, 5]);
  });
});
