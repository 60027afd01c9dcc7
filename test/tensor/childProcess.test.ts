import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  ChildCancelledError,
  ChildExitedError,
  ChildStalledError,
  ChildTaskError,
  runInChild,
  type ChildProgress,
} from '../../tensor/childProcess';
import type { CountRequest } from '../fixtures/tasks';

const TASK = path.join(__dirname, '..', 'fixtures', 'tasks.ts');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('runInChild', () => {
  it('runs the task in another process and relays its progress', async () => {
    const progress: ChildProgress[] = [];
    const result = await runInChild<CountRequest, { sum: number; pid: number }>({
      modulePath: TASK,
      request: { steps: 10 },
      onProgress: (p) => progress.push(p),
    });
    expect(result.sum).toBe(55);
    expect(result.pid).not.toBe(process.pid);
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('re-raises the child error with its name (so policies can classify it)', async () => {
    const error = await runInChild({
      modulePath: TASK,
      request: { steps: 5, failWith: 'DatasetError' },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ChildTaskError);
    expect((error as ChildTaskError).childErrorName).toBe('DatasetError');
    expect((error as ChildTaskError).message).toBe('bad input file');
  });

  it('kills a child that stops making progress', async () => {
    let child: ChildProcess | undefined;
    const error = await runInChild({
      modulePath: TASK,
      request: { steps: 100, stallAfter: 3 },
      stallTimeoutMs: 1500,
      onSpawn: (c) => (child = c),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ChildStalledError);
    await exited(child!);
    expect(alive(child!.pid!)).toBe(false);
  });

  it('kills the child when the caller aborts', async () => {
    const controller = new AbortController();
    let child: ChildProcess | undefined;
    const pending = runInChild({
      modulePath: TASK,
      request: { steps: 100000 },
      signal: controller.signal,
      onSpawn: (c) => (child = c),
      onProgress: (p) => p.step === 5 && controller.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(ChildCancelledError);
    await exited(child!);
    expect(alive(child!.pid!)).toBe(false);
  });

  it('reports a child that dies without a result', async () => {
    let killTarget: number | undefined;
    const pending = runInChild({
      modulePath: TASK,
      request: { steps: 100000 },
      onProgress: function (this: void, p) {
        if (p.step === 3) process.kill(killTarget!, 'SIGKILL');
      },
      onSpawn: (c) => (killTarget = c.pid),
    });
    await expect(pending).rejects.toBeInstanceOf(ChildExitedError);
  });

  it('a child whose parent is killed with -9 exits although it never yields to its event loop', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-orphan-'));
    const pidFile = path.join(dir, 'child.pid');
    const parent = spawn(
      process.execPath,
      [
        '--import',
        require.resolve('tsx'),
        path.join(__dirname, '..', 'fixtures', 'orphanParent.ts'),
        pidFile,
      ],
      { stdio: 'ignore' },
    );
    try {
      let childPid = 0;
      while (!childPid) {
        childPid = Number(await fs.readFile(pidFile, 'utf8').catch(() => '0'));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(alive(childPid)).toBe(true);
      process.kill(parent.pid!, 'SIGKILL');
      // No time limit asserted: the child must go on its own (jest's timeout is the bound), where before
      // it trained on until its next checkpoint.
      while (alive(childPid)) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      parent.kill('SIGKILL');
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
