import { DeleteTableCommand, type ConsumedCapacity, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";

/**
 * Asks DynamoDB for the capacity of every call made through `client` (and the
 * document clients and ElectroDB services built on it) and adds it up.
 * `take()` returns the read units and requests since the last take.
 */
export function meterCapacity(client: DynamoDBClient) {
  let units = 0;
  let requests = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
        .ConsumedCapacity;
      for (const entry of [consumed ?? []].flat()) units += entry.CapacityUnits ?? 0;
      requests++;
      return result;
    },
    { step: "initialize", name: "benchConsumedCapacity" },
  );
  return {
    take() {
      const taken = { units, requests };
      units = 0;
      requests = 0;
      return taken;
    },
  };
}

/** An item's size as DynamoDB bills it: attribute names plus values (strings and numbers here). */
export function itemSizeBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name);
    if (typeof value === "string") size += Buffer.byteLength(value);
    // Numbers: about one byte per two significant digits, plus one.
    else if (typeof value === "number")
      size += Math.ceil(String(Math.abs(value)).replace(/\D|^0+/g, "").length / 2) + 1;
    else throw new Error(`itemSizeBytes: unsupported attribute ${name}`);
  }
  return size;
}

/** Read units of one read returning exactly `sizes` (eventually consistent: 0.5 per 4 KB, rounded up). */
export const readUnitsOneRequest = (sizes: number[]) =>
  Math.ceil(sizes.reduce((a, b) => a + b, 0) / 4096) * 0.5;

/** Read units of reading each item on its own (GetItem / BatchGetItem: every item rounded up to 4 KB). */
export const readUnitsPerItem = (sizes: number[]) =>
  sizes.reduce((a, size) => a + Math.ceil(size / 4096) * 0.5, 0);

/**
 * Writes `items` with BatchWriteItem, 25 at a time, `concurrency` batches in
 * flight, retrying what DynamoDB left unprocessed: the fast way to seed a table.
 */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: Record<string, unknown>[],
  concurrency = 16,
): Promise<void> {
  const limit = pLimit(concurrency);
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        let requests = batch.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 0)
            await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** Math.min(attempt, 6)));
          const { UnprocessedItems } = await doc.send(
            new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
          );
          requests = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
        }
      }),
    ),
  );
}

/** Deletes a benchmark's tables, so DynamoDB Local does not carry their items into the next one. */
export async function dropTables(client: DynamoDBClient, tableNames: string[]): Promise<void> {
  for (const TableName of tableNames) await client.send(new DeleteTableCommand({ TableName }));
}
