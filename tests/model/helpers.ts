import { createThrottleWatch } from "../../handlers/delivery/throttle-watch";
import { createSessionStore } from "../../model/sessions";
import { randomBytes } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { readConfig } from "../../handlers/config";
import type { Deps } from "../../handlers/deps";
import { createLogger } from "../../handlers/log";
import { createMetrics } from "../../handlers/metrics";
import { createProtocol } from "../../handlers/protocol";
import { createRateLimiter } from "../../handlers/rate-limits";
import { createCursors, randomCursorSecret } from "../../handlers/cursors";
import { streamWorker } from "../../handlers/delivery/stream-worker";
import { startStreamMapping } from "../../local/stream-mapping";
import { roomDirectoryShards } from "../../model/entities/room";
import type { ChatStore } from "../../model/store";
import type { FreshTable } from "../support/table";

/** A settable clock for `createChatStore(service, { now })`, in milliseconds. */
export function testClock(start = Date.UTC(2030, 0, 1)) {
  let current = start;
  const now = () => current;
  return {
    now,
    set(ms: number) {
      current = ms;
    },
    advance(ms: number) {
      current += ms;
    },
  };
}

export type RecordedCall = {
  command: string;
  input: Record<string, unknown>;
  consumedCapacity?: number;
  count?: number;
  lastEvaluatedKey?: unknown;
};

/**
 * Records every command sent through `client` (and the document client built on
 * it): its name, input, returned item count, LastEvaluatedKey and — with
 * `consumedCapacity: true` — the capacity DynamoDB reports for it.
 * `queryLimit` forces a small page size on Query so pagination can be exercised
 * with a few items.
 */
export function recordCommands(
  client: DynamoDBClient,
  options: { consumedCapacity?: boolean; queryLimit?: number } = {},
) {
  const calls: RecordedCall[] = [];
  const name = `recorder-${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = context.commandName ?? "unknown";
      if (options.consumedCapacity) input.ReturnConsumedCapacity = "TOTAL";
      if (options.queryLimit && command === "QueryCommand") input.Limit = options.queryLimit;
      const result = await next(args);
      const output = result.output as {
        ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
        Count?: number;
        LastEvaluatedKey?: unknown;
      };
      const capacity = output.ConsumedCapacity;
      calls.push({
        command,
        input: { ...input },
        consumedCapacity: Array.isArray(capacity)
          ? capacity.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0)
          : capacity?.CapacityUnits,
        count: output.Count,
        lastEvaluatedKey: output.LastEvaluatedKey,
      });
      return result;
    },
    { step: "initialize", name },
  );
  return {
    calls,
    names: () => calls.map((c) => c.command),
    of: (command: string) => calls.filter((c) => c.command === command),
    clear: () => calls.splice(0, calls.length),
    stop: () => client.middlewareStack.remove(name),
  };
}

/** Raw key-condition Query on one partition of the table (bypasses the store and ElectroDB). */
export async function rawPartition(t: FreshTable, pk: string) {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await t.doc.send(
      new QueryCommand({
        TableName: t.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** The raw message items of a room, in seq order (its partition also holds the room's head). */
export async function storedMessages(t: FreshTable, room: string) {
  return (await rawPartition(t, `room#${room}#messages`)).filter((item) => item.e === "message");
}

/** A connection id in API Gateway's style: 16 characters, often ending in `=`. */
export function connectionId(seed: string | number): string {
  return `C${String(seed).padStart(14, "0")}=`.slice(-16);
}

/** A random connection id in API Gateway's style (16 characters of base64): spread over every slice. */
export function randomConnectionId(): string {
  return randomBytes(12).toString("base64");
}

/** The raw items of the room directory: every `rooms#<shard>` partition. */
export async function directoryItems(t: FreshTable) {
  const shards = await Promise.all(
    Array.from({ length: roomDirectoryShards }, (_, shard) => rawPartition(t, `rooms#${shard}`)),
  );
  return shards.flat();
}

/**
 * The real stream worker on the table's real stream (DynamoDB Local, through the
 * local event source mapping): membership changes move the room directory,
 * removed connections take their memberships along — the only way counts are
 * written. Deliveries go nowhere (no one listens in a model test). Start it before
 * the writes it must see: the mapping reads from the stream's end (LATEST).
 * `counted` holds what each batch's `applyRoomChanges` returned.
 */
export async function startStreamWorker(t: FreshTable, store: ChatStore) {
  const counted: Map<string, number>[] = [];
  const errors: unknown[] = [];
  const config = readConfig({ TABLE_NAME: t.tableName, MANAGEMENT_ENDPOINT: "http://127.0.0.1:9" });
  const deps: Deps = {
    config,
    store: {
      ...store,
      async applyRoomChanges(changes) {
        const counts = await store.applyRoomChanges(changes);
        counted.push(counts);
        return counts;
      },
    },
    sessions: createSessionStore(t.service, { sessionTtlSeconds: config.sessionTtlSeconds }),
    delivery: { broadcast: async (ids) => ({ delivered: ids.length, gone: [], failed: [], throttled: [] }) },
    protocol: createProtocol(config),
    limiter: createRateLimiter(config),
    cursors: createCursors(randomCursorSecret()),
    // The stream worker closes no connection.
    closeConnection: async () => {},
    throttles: createThrottleWatch(),
    log: createLogger({ service: "model-tests" }, (line) => {
      if (line.includes('"level":"error"')) errors.push(line);
    }),
    metrics: createMetrics({ namespace: "roomcast", service: "roomcast", write: () => {} }),
  };
  const mapping = await startStreamMapping({
    dynamodb: t.client,
    tableName: t.tableName,
    pollMs: 50,
    handler: (event) => streamWorker.handle(event, deps),
    onError: (error) => errors.push(error),
  });
  return {
    mapping,
    counted,
    errors,
    /** The highest count any batch left `room` at. */
    peak: (room: string) => Math.max(0, ...counted.map((c) => c.get(room) ?? 0)),
    /** Waits until the stream is read to its end (every write so far is counted). */
    // Generous: DynamoDB Local slows down under a whole test run on 2 cores.
    settled: () => mapping.idle(120_000),
    stop: () => mapping.stop(),
  };
}

/** Polls `check` every 100 ms until it returns true; false after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
