/** The DynamoDB error behind an ElectroDB error. */
export const causeName = (error: unknown) => (error as { cause?: { name?: string } }).cause?.name;

/** A conditional write whose condition did not hold: the caller's answer, not a fault. */
export const isConditionFailure = (error: unknown) => causeName(error) === "ConditionalCheckFailedException";

/** A transaction DynamoDB canceled for a reason the caller did not expect; `reasons` are DynamoDB's. */
export class TransactionCanceledError extends Error {
  override readonly name = "TransactionCanceledError";
  constructor(
    readonly operation: string,
    readonly reasons: unknown,
  ) {
    super(`${operation} transaction canceled: ${JSON.stringify(reasons)}`);
  }
}

/** A write that kept meeting concurrent writes to its items after every allowed attempt. */
export class StillConflictingError extends Error {
  override readonly name = "StillConflictingError";
  constructor(
    readonly attempts: number,
    readonly reasons: unknown,
  ) {
    super(`transaction still conflicting after ${attempts} attempts: ${JSON.stringify(reasons)}`);
  }
}
