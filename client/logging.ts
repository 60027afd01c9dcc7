/**
 * The worker's logs as JSON lines (one object per line: time, level, message and the SDK's context such as
 * workflowId and activityType), so a cluster's log pipeline can index them. Installed once per process.
 * The SDK's native core logs are forwarded into the same lines (otherwise core prints its own colored
 * text to the console, among a demo's progress lines).
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { types } from 'node:util';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * The SDK warns when a worker serves no workflows; imcnas's training and evaluation workers are
 * activity-only by design (worker.ts), so the warning says nothing a user should act on.
 */
const EXPECTED_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks']);

/**
 * `file`: write the lines to this file (appended, its folder created) instead of stderr, e.g. the demo,
 * whose terminal shows progress and results only.
 */
export function installJsonLogging(
  level: LogLevel = (process.env.IMCNAS_LOG_LEVEL as LogLevel) ?? 'INFO',
  file?: string,
): void {
  if (installed) return;
  installed = true;
  let out: { write(line: string): unknown } = process.stderr;
  if (file) {
    mkdirSync(path.dirname(file), { recursive: true });
    out = createWriteStream(file, { flags: 'a' });
  }
  Runtime.install({
    telemetryOptions: { logging: { forward: {}, filter: { core: level, other: 'ERROR' } } },
    logger: new DefaultLogger(level, (entry) => {
      if (EXPECTED_WARNINGS.has(entry.message)) return;
      const { sdkComponent, taskToken: _taskToken, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      out.write(
        `${JSON.stringify(
          {
            time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
            level: entry.level.toLowerCase(),
            component: sdkComponent,
            message: entry.message,
            ...meta,
          },
          errorReplacer,
        )}\n`,
      );
    }),
  });
}

/**
 * JSON.stringify writes an Error as `{}` (its fields are not enumerable): a failed activity's log line
 * would hide its cause. Errors become their type, message, failure type, stack and cause — also an error
 * from another realm (a vm context, such as the workflow sandbox or jest's), which fails `instanceof Error`.
 */
export function errorReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Error || types.isNativeError(value))) return value;
  const failureType = (value as { type?: unknown }).type;
  return {
    type: value.name,
    ...(typeof failureType === 'string' ? { failureType } : {}),
    message: value.message,
    stack: value.stack,
    ...(value.cause !== undefined ? { cause: value.cause } : {}),
  };
}
