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

process.once('message', (message: ParentToChild) => {
  void (async () => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const task = require(message.modulePath) as Record<string, ChildModule<unknown, unknown>['run']>;
      const entry = task[message.exportName];
      if (typeof entry !== 'function')
        throw new Error(`${message.modulePath} exports no function ${message.exportName}`);
      const result = await entry(message.request, {
        report: (progress) => void send({ type: 'progress', progress }),
      });
      await send({ type: 'result', result });
      process.exit(0);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      await send({ type: 'error', name: err.name, message: err.message, stack: err.stack });
      process.exit(1);
    }
  })();
});

// The parent going away (worker killed) must not leave an orphan burning a core.
process.on('disconnect', () => process.exit(2));
