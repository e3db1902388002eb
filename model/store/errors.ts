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

/** A batch operation that DynamoDB left items of unprocessed after every allowed attempt. */
export class StillUnprocessedError extends Error {
  override readonly name = "StillUnprocessedError";
  constructor(
    readonly attempts: number,
    readonly left: number,
  ) {
    super(`${left} item(s) still unprocessed after ${attempts} batch requests`);
  }
}

/** Concurrent sends to one room kept taking the next seq first, after every allowed attempt. */
export class RoomBusyError extends Error {
  override readonly name = "RoomBusyError";
  constructor(
    readonly room: string,
    readonly attempts: number,
  ) {
    super(`room ${room}: every one of ${attempts} attempts to number a message met a concurrent send`);
  }
}

/** `$connect` found every slot of a connection cap taken by a live connection. */
export class ConnectionCapError extends Error {
  override readonly name = "ConnectionCapError";
  constructor(
    /** Whose cap: `user#<subject>` or `ip#<address>`. */
    readonly owner: string,
    readonly cap: number,
  ) {
    super(`${owner} already has ${cap} live connections`);
  }
}

/** A join's guard (store/access.ts) did not hold: the room's access changed since it was read. */
export class JoinGuardError extends Error {
  override readonly name = "JoinGuardError";
  constructor(readonly room: string) {
    super(`room ${room}: its access changed while joining`);
  }
}
