/**
 * Error policy at the activity boundary (the list of deterministic errors is common/failures.ts): an
 * error of a deterministic type fails for good with its own type, message and stack, so the workflow
 * failure, `temporal workflow describe` and `imcnas status` all name the cause; anything else is retried
 * with backoff. Errors from a child process keep the child's type and stack.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { isNonRetryableType, PERMISSION_ERROR_CODES } from '../common/failures';
import * as path from 'node:path';
import { types } from 'node:util';
import { checkRunDir, checkSearchId, UnsafePathError } from '../storage/runPaths';
import { ChildCancelledError, ChildTaskError } from '../tensor/childProcess';

function typeOf(name: string, code: string | undefined): string {
  return code !== undefined && PERMISSION_ERROR_CODES.includes(code) ? 'FilesystemPermissionError' : name;
}

export function toActivityFailure(error: unknown): unknown {
  if (error instanceof ChildCancelledError) return new CancelledFailure(error.message);
  if (error instanceof ApplicationFailure || error instanceof CancelledFailure) return error;
  if (error instanceof ChildTaskError) {
    // Re-create the child's error so its stack (the useful one) travels with the failure.
    const cause = new Error(error.message);
    cause.name = error.childErrorName;
    if (error.childStack) cause.stack = error.childStack;
    const type = typeOf(error.childErrorName, error.childCode);
    return ApplicationFailure.create({
      type,
      message: error.message,
      nonRetryable: isNonRetryableType(type),
      cause,
    });
  }
  // Not `instanceof Error`: an error from another realm (Node's own fs errors seen from jest's vm context,
  // where the integration tests run their workers) fails it, and a permission error would then be retried.
  if (!(error instanceof Error || types.isNativeError(error))) return error;
  const type = typeOf(error.name, (error as NodeJS.ErrnoException).code);
  if (!isNonRetryableType(type)) return error;
  return ApplicationFailure.create({ type, message: error.message, nonRetryable: true, cause: error });
}

/**
 * Wraps an activity so every error it throws goes through the policy above, and so no activity writes
 * outside a safe run directory (storage/runPaths.ts): every input names its run directory.
 */
export function withErrorPolicy<Args extends [{ runDir: string; searchId?: string }], Result>(
  activity: (...args: Args) => Promise<Result>,
): (...args: Args) => Promise<Result> {
  const wrapped = async (...args: Args) => {
    try {
      const [{ runDir, searchId }] = args;
      checkRunDir(runDir);
      if (searchId !== undefined) {
        checkSearchId(searchId);
        if (path.basename(runDir) !== searchId)
          throw new UnsafePathError(`run directory ${runDir} does not belong to search ${searchId}`);
      }
      return await activity(...args);
    } catch (error) {
      throw toActivityFailure(error);
    }
  };
  // Temporal registers activities by property name, but logs and stack traces read the function's name.
  Object.defineProperty(wrapped, 'name', { value: activity.name });
  return wrapped;
}
