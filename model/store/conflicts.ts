import { causeName, StillConflictingError, TransactionCanceledError } from "./errors";

/**
 * DynamoDB cancels a transaction that races another on the same item: retry those
 * with jittered backoff. Running out of attempts is an error, never a silent "no".
 * Conditions that failed are the caller's to read.
 */
export async function retryConflicts<T extends { canceled: boolean; data: unknown }>(
  run: () => Promise<T>,
  attempts: number,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await run();
    const conflicted =
      result.canceled &&
      (result.data as { code?: string }[]).some((reason) => reason.code === "TransactionConflict");
    if (!conflicted) return result;
    if (attempt >= attempts) throw new StillConflictingError(attempts, result.data);
    await conflictBackoff(attempt);
  }
}

/**
 * A single-item write that meets a transaction holding its item fails with
 * TransactionConflictException, which the SDK does not retry (it is not a throttle):
 * retry it as a conflicting transaction is retried.
 */
export async function retryItemConflicts<T>(run: () => Promise<T>, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (causeName(error) !== "TransactionConflictException" || attempt >= attempts) throw error;
    }
    await conflictBackoff(attempt);
  }
}

const conflictBackoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));

/** Throws unless the transaction committed. */
export function assertCommitted(operation: string) {
  return (result: { canceled: boolean; data: unknown }) => {
    if (result.canceled) throw new TransactionCanceledError(operation, result.data);
  };
}
