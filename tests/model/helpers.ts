import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
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

/** A connection id in API Gateway's style: 16 characters, often ending in `=`. */
export function connectionId(seed: string | number): string {
  return `C${String(seed).padStart(14, "0")}=`.slice(-16);
}
