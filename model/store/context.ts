import type { ChatService } from "../service";
import { conflictRetry, retryConflicts } from "./conflicts";
import { untilProcessed } from "./unprocessed";

export type StoreOptions = {
  /** Milliseconds since the epoch; injectable so expiry can be tested. */
  now?: () => number;
  /** API Gateway closes a connection after 2 h: its items expire a little later. */
  connectionTtlSeconds?: number;
  /** How long a clientId is remembered. */
  clientIdTtlSeconds?: number;
  /** History retention; 0 keeps messages forever. */
  messageTtlSeconds?: number;
  maxRoomsPerConnection?: number;
  /** Transaction attempts when DynamoDB cancels one for a conflicting write. */
  conflictAttempts?: number;
  /** Told of every write tried again because a concurrent one took its item or its room's next seq. */
  onConflict?: () => void;
  /** Requests a batch operation may make for the items DynamoDB leaves unprocessed. */
  unprocessedAttempts?: number;
};

export const defaultStoreOptions = {
  connectionTtlSeconds: 2 * 60 * 60 + 5 * 60,
  clientIdTtlSeconds: 24 * 60 * 60,
  messageTtlSeconds: 0,
  maxRoomsPerConnection: 20,
  conflictAttempts: 8,
  unprocessedAttempts: 8,
};

/** What every part of the store shares: the entities, the settings and the clock. */
export type StoreContext = ReturnType<typeof createStoreContext>;

export function createStoreContext(service: ChatService, options: StoreOptions) {
  const settings = { ...defaultStoreOptions, ...options };
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  /** How every write that met a concurrent one is tried again. */
  const conflicts = conflictRetry(settings.conflictAttempts, options.onConflict);
  /** A transaction whose conflicts with concurrent writes are retried. */
  const transact: ChatService["transaction"]["write"] = (fn) => {
    const write = service.transaction.write(fn);
    return { ...write, go: (options) => retryConflicts(() => write.go(options), conflicts) };
  };
  /** DynamoDB deletes expired items lazily (days on AWS): reads skip them. */
  const live = <T extends { expiresAt?: number }>(item: T | null | undefined): item is T =>
    !!item && (item.expiresAt === undefined || item.expiresAt > nowSeconds());
  /** A batch request repeated, after a backoff, for what DynamoDB left unprocessed. */
  const untilAllProcessed = <T>(
    items: readonly T[],
    request: (items: readonly T[]) => Promise<readonly T[]>,
  ) => untilProcessed(items, request, { maxAttempts: settings.unprocessedAttempts });
  /** A transaction tried once: for callers that retry with fresh reads of their own. */
  const writeOnce: ChatService["transaction"]["write"] = (fn) => service.transaction.write(fn);
  const { documentClient, table } = service;
  return {
    entities: service.entities,
    documentClient,
    table,
    settings,
    now,
    nowSeconds,
    transact,
    conflicts,
    writeOnce,
    untilAllProcessed,
    live,
  };
}
