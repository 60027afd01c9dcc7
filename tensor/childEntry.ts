/**
 * Entry point of every forked worker child: waits for one `run` message, loads the named module, runs it,
 * sends the result (or the error) back and exits. One task per process keeps memory bounded and makes a
 * killed task leave nothing behind but its atomic checkpoints.
 */
import type { ChildModule, ChildToParent, ParentToChild } from './childProcess';

function send(message: ChildToParent): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

// The parent going away (worker killed) must not leave an orphan burning a core. 'disconnect' arrives
// only when the event loop turns, which a long synchronous training loop rarely lets it do; the parent id,
// read live from the OS, changes the moment the parent dies. Checked on every progress report (every
// training step, every evaluation batch) and by a timer for the time between them.
const parentPid = process.ppid;
function exitIfOrphaned(): void {
  if (process.ppid !== parentPid) process.exit(2);
}
process.on('disconnect', () => process.exit(2));
setInterval(exitIfOrphaned, 250).unref();

process.once('message', (message: ParentToChild) => {
  void (async () => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const task = require(message.modulePath) as Record<string, ChildModule<unknown, unknown>['run']>;
      const entry = task[message.exportName];
      if (typeof entry !== 'function')
        throw new Error(`${message.modulePath} exports no function ${message.exportName}`);
      const result = await entry(message.request, {
        report: (progress) => {
          exitIfOrphaned();
          void send({ type: 'progress', progress });
        },
      });
      await send({ type: 'result', result });
      process.exit(0);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      const code = (err as NodeJS.ErrnoException).code;
      await send({
        type: 'error',
        name: err.name,
        message: err.message,
        stack: err.stack,
        ...(typeof code === 'string' ? { code } : {}),
      });
      process.exit(1);
    }
  })();
});
