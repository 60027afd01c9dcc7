import * as path from 'node:path';
import * as vm from 'node:vm';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { toActivityFailure, withErrorPolicy } from '../../activities/failures';
import { errorReplacer } from '../../client/logging';
import { NON_RETRYABLE_ERROR_TYPES } from '../../common/failures';
import { ConfigError } from '../../common/validation';
import { ChildCancelledError, ChildTaskError, runInChild } from '../../tensor/childProcess';
import { ExternalEvaluatorError } from '../../evaluator/external';

const TASK = path.join(__dirname, '..', 'fixtures', 'tasks.ts');

describe('activity error policy', () => {
  it('fails a deterministic error for good, keeping its type and message', () => {
    for (const error of [new RangeError('objective "x" missing'), new ConfigError(['seed: must be ≥ 0'])]) {
      const failure = toActivityFailure(error) as ApplicationFailure;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.type).toBe(error.name);
      expect(failure.message).toBe(error.message);
      expect(failure.cause).toBe(error);
    }
  });

  it('leaves a transient error retryable', () => {
    const error = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    expect(toActivityFailure(error)).toBe(error);
    expect(
      toActivityFailure(new ExternalEvaluatorError('crashed', 'exited with code 139', '')),
    ).toBeInstanceOf(ExternalEvaluatorError);
  });

  it('a refused filesystem operation is a permission failure, not a retry loop', async () => {
    // As Node reports it (a test running as root cannot provoke a real EACCES).
    const error = Object.assign(new Error("EACCES: permission denied, open '/runs/x/config.yaml'"), {
      code: 'EACCES',
    });
    const failure = toActivityFailure(error) as ApplicationFailure;
    expect(failure.type).toBe('FilesystemPermissionError');
    expect(failure.nonRetryable).toBe(true);
  });

  it("classifies an error from another realm (Node's fs errors as jest's workers see them) the same way", () => {
    const error = vm.runInNewContext(
      "Object.assign(new Error(\"EPERM: operation not permitted, mkdir '/runs/x'\"), { code: 'EPERM' })",
    ) as Error;
    expect(error instanceof Error).toBe(false);
    const failure = toActivityFailure(error) as ApplicationFailure;
    expect(failure.type).toBe('FilesystemPermissionError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/EPERM/);
  });

  it('an evaluator command that cannot start is a setup error', () => {
    const failure = toActivityFailure(
      new ExternalEvaluatorError('spawn', 'ENOENT', ''),
    ) as ApplicationFailure;
    expect(failure.type).toBe('ExternalEvaluatorSetupError');
    expect(failure.nonRetryable).toBe(true);
  });

  it("a child's error keeps the child's type, stack and errno code", async () => {
    const error = await runInChild({ modulePath: TASK, request: { steps: 2, failWith: 'TypeError' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChildTaskError);
    const failure = toActivityFailure(error) as ApplicationFailure;
    expect(failure.type).toBe('TypeError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.cause?.stack).toMatch(/tasks\.ts/);
    const permission = toActivityFailure(
      new ChildTaskError('Error', 'EACCES: permission denied', undefined, 'EACCES'),
    );
    expect((permission as ApplicationFailure).type).toBe('FilesystemPermissionError');
    const transient = toActivityFailure(new ChildTaskError('Error', 'worker busy')) as ApplicationFailure;
    expect(transient.nonRetryable).toBe(false);
    expect(transient.type).toBe('Error');
  });

  it('a cancelled child is a cancellation', () => {
    expect(toActivityFailure(new ChildCancelledError('stopped'))).toBeInstanceOf(CancelledFailure);
  });

  it('wraps an activity, keeping its name', async () => {
    async function tellGeneration(_input: { runDir: string }): Promise<void> {
      throw new RangeError('bad');
    }
    const wrapped = withErrorPolicy(tellGeneration);
    expect(wrapped.name).toBe('tellGeneration');
    await expect(wrapped({ runDir: '/tmp/runs/s1' })).rejects.toMatchObject({
      type: 'RangeError',
      nonRetryable: true,
    });
  });

  it('refuses, before any work, a run directory or search id that could write elsewhere', async () => {
    let ran = 0;
    const wrapped = withErrorPolicy(async (_input: { runDir: string; searchId?: string }) => {
      ran++;
    });
    for (const input of [
      { runDir: 'runs/relative' },
      { runDir: '/tmp/runs/../../etc' },
      { runDir: '/tmp/runs/x', searchId: '../../x' },
      { runDir: '/tmp/runs/x', searchId: 'y' },
      { runDir: '/' },
    ]) {
      await expect(wrapped(input)).rejects.toMatchObject({ type: 'UnsafePathError', nonRetryable: true });
    }
    const previous = process.env.IMCNAS_ARTIFACT_ROOTS;
    process.env.IMCNAS_ARTIFACT_ROOTS = '/srv/imcnas/runs';
    try {
      await expect(wrapped({ runDir: '/tmp/runs/x', searchId: 'x' })).rejects.toThrow(
        /outside this worker's artifact roots \(\/srv\/imcnas\/runs\)/,
      );
      await wrapped({ runDir: '/srv/imcnas/runs/x', searchId: 'x' });
    } finally {
      if (previous === undefined) delete process.env.IMCNAS_ARTIFACT_ROOTS;
      else process.env.IMCNAS_ARTIFACT_ROOTS = previous;
    }
    expect(ran).toBe(1);
  });

  it('the list names real error classes of the product', () => {
    expect(NON_RETRYABLE_ERROR_TYPES).toEqual(
      expect.arrayContaining(['ConfigError', 'DatasetError', 'TypeError']),
    );
  });
});

describe('worker log lines', () => {
  it('carry an error as its type, message and stack, not {}', () => {
    const error = ApplicationFailure.create({
      type: 'RangeError',
      message: 'objective missing',
      nonRetryable: true,
    });
    const line = JSON.parse(JSON.stringify({ error }, errorReplacer)) as {
      error: { type: string; failureType: string; message: string; stack: string };
    };
    expect(line.error.type).toBe('ApplicationFailure');
    expect(line.error.failureType).toBe('RangeError');
    expect(line.error.message).toBe('objective missing');
    expect(line.error.stack).toMatch(/failures\.test\.ts/);
  });

  it('carry an error from another realm (the workflow sandbox) too', () => {
    const error = vm.runInNewContext('new RangeError("objective missing")') as Error;
    const line = JSON.parse(JSON.stringify({ error }, errorReplacer)) as {
      error: { type: string; message: string };
    };
    expect(line.error).toMatchObject({ type: 'RangeError', message: 'objective missing' });
  });
});
