import { causeName, StillConflictingError, TransactionCanceledError } from "./errors";

/** How a write that met a concurrent one is tried again: attempts in all, and the wait before the next. */
export type ConflictRetry = { attempts: number; backoff(attempt: number): Promise<void> };

/**
 * Jittered, doubling waits before each next attempt; `onConflict` is told of every retry
 * (the TransactionConflicts metric).
 */
export function conflictRetry(attempts: number, onConflict?: () => void): ConflictRetry {
  return {
    attempts,
    backoff(attempt) {
      onConflict?.();
      return new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
    },
  };
}

/**
 * DynamoDB cancels a transaction that races another on the same item: retry those
 * with jittered backoff. Running out of attempts is an error, never a silent "no".
 * Conditions that failed are the caller's to read.
 */
export async function retryConflicts<T extends { canceled: boolean; data: unknown }>(
  run: () => Promise<T>,
  retry: ConflictRetry,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await run();
    const conflicted =
      result.canceled &&
      (result.data as { code?: string }[]).some((reason) => reason.code === "TransactionConflict");
    if (!conflicted) return result;
    if (attempt >= retry.attempts) throw new StillConflictingError(retry.attempts, result.data);
    await retry.backoff(attempt);
  }
}

/**
 * A single-item write that meets a transaction holding its item fails with
 * TransactionConflictException, which the SDK does not retry (it is not a throttle):
 * retry it as a conflicting transaction is retried.
 */
export async function retryItemConflicts<T>(run: () => Promise<T>, retry: ConflictRetry): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (causeName(error) !== "TransactionConflictException" || attempt >= retry.attempts) throw error;
    }
    await retry.backoff(attempt);
  }
}

/** Throws unless the transaction committed. */
export function assertCommitted(operation: string) {
  return (result: { canceled: boolean; data: unknown }) => {
    if (result.canceled) throw new TransactionCanceledError(operation, result.data);
  };
}
