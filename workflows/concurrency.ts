/** Fan-out helpers for workflow code (deterministic: no timers, no randomness). */
import { isCancellation } from '@temporalio/workflow';

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight; settles every item (allSettled semantics), except
 * that a cancellation propagates at once (a stop-now must not wait for the rest).
 */
export async function boundedAllSettled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index]!, index) };
      } catch (reason) {
        if (isCancellation(reason)) throw reason;
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The innermost message of an activity failure (the activity's own error, not "Activity task failed"). */
export function causeOf(reason: unknown): string {
  let error = reason as { message?: string; cause?: unknown } | undefined;
  while (error?.cause) error = error.cause as typeof error;
  return error?.message ?? String(reason);
}
