import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareRun } from '../../activities/run';
import { validateConfig } from '../../config/load';
import { RunConflictError } from '../../config/identity';

describe('prepareRun', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-run-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('records the configuration hash; the same configuration again reuses the run directory', async () => {
    const input = { searchId: 's1', runDir: path.join(root, 's1'), config: validateConfig({ name: 's1' }) };
    const first = await prepareRun(input);
    const again = await prepareRun(input);
    expect(again).toEqual(first);
    const text = await fs.readFile(path.join(input.runDir, 'config.yaml'), 'utf8');
    expect(validateConfig(JSON.parse(JSON.stringify(input.config)))).toEqual(input.config);
    expect(text).toContain('name: s1');
  });

  it('refuses a run directory made with a different configuration, saying how to start anew or resume', async () => {
    const runDir = path.join(root, 's1');
    await prepareRun({ searchId: 's1', runDir, config: validateConfig({ name: 's1' }) });
    const edited = validateConfig({ name: 's1', seed: 99 });
    const error = (await prepareRun({ searchId: 's1', runDir, config: edited }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(RunConflictError);
    expect(error.message).toMatch(/different configuration/);
    expect(error.message).toMatch(/--id <new-id>/);
    expect(error.message).toMatch(/imcnas resume-failed s1/);
    // Nothing was overwritten.
    expect(await fs.readFile(path.join(runDir, 'config.yaml'), 'utf8')).not.toContain('seed: 99');
  });
});
