import { promises as fs } from 'node:fs';
import { TRAINING_LOG_FILE } from '../../storage/runLayout';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  parseStepLog,
  readStepLog,
  readTrainingHistory,
  reconcileStepLog,
  recordEpochIfMissing,
} from '../../models/trainingHistory';

const line = (globalStep: number, pid = 1) =>
  `${JSON.stringify({ globalStep, epoch: 0, loss: 1 / globalStep, attempt: 1, pid })}\n`;

describe('training log', () => {
  let dir: string;
  let warn: jest.SpyInstance;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-log-'));
    warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(async () => {
    warn.mockRestore();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const write = (text: string) => fs.writeFile(path.join(dir, TRAINING_LOG_FILE), text);
  const steps = async () => (await readStepLog(dir)).map((entry) => entry.globalStep);

  it('skips a torn line instead of failing every later read, and says so', async () => {
    await write(line(1) + line(2) + '{"globalStep":3,"ep' + '\n' + line(4));
    expect(await steps()).toEqual([1, 2, 4]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/:3: unreadable line skipped/));
    const bad: number[] = [];
    expect(parseStepLog('{"x":1}\nnot json\n', (n) => bad.push(n))).toEqual([]);
    expect(bad).toEqual([1, 2]);
  });

  it('restores the lines a kill between checkpoint and append lost, from the checkpoint', async () => {
    await write(line(1) + line(2));
    // The checkpoint at step 4 carries steps 3 and 4; the append after it never happened.
    await reconcileStepLog(dir, 4, [line(3), line(4)]);
    expect(await steps()).toEqual([1, 2, 3, 4]);
  });

  it('drops a torn last line and lines beyond the checkpoint training resumes from', async () => {
    // Steps 5-6 belonged to a newer checkpoint that was lost; they are about to be trained again.
    await write(line(1) + line(2) + line(3) + line(4) + line(5) + line(6) + '{"globalSt');
    await reconcileStepLog(dir, 4, [line(3), line(4)]);
    expect(await steps()).toEqual([1, 2, 3, 4]);
    const text = await fs.readFile(path.join(dir, TRAINING_LOG_FILE), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('leaves a consistent log untouched (no rewrite)', async () => {
    await write(line(1) + line(2));
    const before = (await fs.stat(path.join(dir, TRAINING_LOG_FILE))).ino;
    await reconcileStepLog(dir, 2, [line(2)]);
    expect((await fs.stat(path.join(dir, TRAINING_LOG_FILE))).ino).toBe(before);
    await reconcileStepLog(dir, 0, []);
    expect(await steps()).toEqual([]);
  });

  it('adds an epoch missing from the history once, computing its mean loss from the log', async () => {
    await write(line(1) + line(2));
    await recordEpochIfMissing(dir, 0, 2, 0.5);
    await recordEpochIfMissing(dir, 0, 2, 0.9);
    const history = await readTrainingHistory(dir);
    expect(history?.epochs).toHaveLength(1);
    expect(history?.epochs[0]).toMatchObject({ epoch: 1, globalStep: 2, validationAccuracy: 0.5 });
    expect(history?.epochs[0]!.meanLoss).toBeCloseTo((1 + 0.5) / 2, 12);
  });
});
