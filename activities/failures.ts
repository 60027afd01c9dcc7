/**
 * Error policy at the activity boundary: bad configuration, bad data and corrupt artifacts fail for good
 * (retrying cannot fix them; the user must), everything else is retried with backoff.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ChildCancelledError, ChildTaskError } from '../tensor/childProcess';

export const NON_RETRYABLE_ERROR_TYPES = ['ConfigError', 'DatasetError', 'CheckpointCorruptError'];

export function toActivityFailure(error: unknown): unknown {
  if (error instanceof ChildCancelledError) return new CancelledFailure(error.message);
  const name =
    error instanceof ChildTaskError ? error.childErrorName : error instanceof Error ? error.name : '';
  if (NON_RETRYABLE_ERROR_TYPES.includes(name)) {
    return ApplicationFailure.create({ type: name, message: (error as Error).message, nonRetryable: true });
  }
  return error;
}
