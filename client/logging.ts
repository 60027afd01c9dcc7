/**
 * The worker's logs as JSON lines (one object per line: time, level, message and the SDK's context such as
 * workflowId and activityType), so a cluster's log pipeline can index them. Installed once per process.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

export function installJsonLogging(
  level: LogLevel = (process.env.IMCNAS_LOG_LEVEL as LogLevel) ?? 'INFO',
): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const { sdkComponent, taskToken: _taskToken, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      process.stderr.write(
        `${JSON.stringify({
          time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
          level: entry.level.toLowerCase(),
          component: sdkComponent,
          message: entry.message,
          ...meta,
        })}\n`,
      );
    }),
  });
}
