/**
 * The search trains on dataset.trainSubset; the final models train on every training image unless
 * retrain.trainImages says otherwise; validation and test are the same images for both.
 */
import { validateConfig } from '../../config/load';
import { stageData } from '../../tasks/shared';

describe('stage data', () => {
  it('gives retraining the whole training split and the search its subset, with one validation split', async () => {
    const config = validateConfig({ name: 'x', seed: 3, dataset: { trainSubset: 2000, validation: 500 } });
    const search = await stageData(config, 'search');
    const searchValidation = search.validation.y.slice();
    const searchTrainCount = search.train.count;
    const retrain = await stageData(config, 'retrain');
    expect(searchTrainCount).toBe(2000);
    expect(retrain.train.count).toBe(60000 - 500);
    expect(retrain.validation.y).toEqual(searchValidation);
    expect(retrain.test.count).toBe(10000);

    const capped = await stageData(
      { ...config, retrain: { ...config.retrain, trainImages: 3000 } },
      'retrain',
    );
    expect(capped.train.count).toBe(3000);
  });
});
