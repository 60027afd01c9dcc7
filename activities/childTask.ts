/**
 * Every CPU-heavy activity runs its work the same way: in a forked child process (tensor/childProcess.ts),
 * with the child's progress relayed as heartbeats (a pointer and a message, never weights), the
 * activity's cancellation killing the child, a stall watchdog, and the error policy of failures.ts.
 */
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import { runInChild } from '../tensor/childProcess';

const TASKS_DIR = path.join(__dirname, '..', 'tasks');

/** Kill a child that reports nothing for this long: far above any single training step or evaluation. */
const STALL_TIMEOUT_MS = Number(process.env.IMCNAS_STALL_TIMEOUT_MS ?? 10 * 60_000);

/**
 * The activity heartbeats on this period while its child lives, repeating the child's last report. A heartbeat
 * says "this worker is alive", which is what the server's heartbeat timeout detects; how fast the child
 * progresses (a Monte-Carlo batch on a loaded machine can take longer than the timeout, and so can starting
 * the child) is the stall watchdog's business. The SDK throttles what it sends to the server.
 */
const HEARTBEAT_PERIOD_MS = 1000;

export async function runChildTask<Request, Result>(
  task: string,
  exportName: string,
  request: Request,
): Promise<Result> {
  const context = Context.current();
  let last: { step: number; total?: number; message?: string } = { step: 0, message: 'starting' };
  const beat = () => context.heartbeat(last);
  beat();
  const timer = setInterval(beat, HEARTBEAT_PERIOD_MS);
  try {
    return await runInChild<Request, Result>({
      modulePath: path.join(TASKS_DIR, `${task}${path.extname(__filename)}`),
      exportName,
      request,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      signal: context.cancellationSignal,
      onSpawn: (child) =>
        context.log.info('child task started', {
          task,
          exportName,
          pid: child.pid,
          attempt: context.info.attempt,
        }),
      onProgress: (progress) => {
        last = { step: progress.step, total: progress.total, message: progress.message };
        beat();
      },
    });
  } finally {
    clearInterval(timer);
  }
}
