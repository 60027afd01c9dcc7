import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { withReference } from '../../scripts/configReference';

describe('README configuration reference', () => {
  it('is the one generated from the schemas (run `npx tsx scripts/configReference.ts` after a schema change)', async () => {
    const readme = await fs.readFile(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(withReference(readme)).toBe(readme);
  });

  it('lists every section of the run configuration', async () => {
    const readme = await fs.readFile(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const field of [
      '`name`',
      '`space.hardware.adcBits`',
      '`evolution.population`',
      '`robustness.samples`',
      '`retrain.epochs`',
      '`temporal.address`',
    ]) {
      expect(readme).toContain(`| ${field} |`);
    }
  });
});
