import {
  DeleteItemCommand,
  type AttributeValue,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { tableDefinition } from "../model/table";

/**
 * Default delay between an item's expiry and its deletion on the local stack. AWS
 * deletes expired items "within a few days"; DynamoDB Local after about 1 s, which
 * hides the expired-but-present state. 10 s keeps that state long enough for a test
 * or a person to act in it, and short enough that cleanup is seen in one session.
 */
export const defaultTtlDelayMs = 10_000;

export type TtlEmulationOptions = {
  client: DynamoDBClient;
  tableName: string;
  /** How long an expired item stays readable. */
  ttlDelayMs?: number;
  /** Sweep period. */
  sweepEveryMs?: number;
  onError?: (error: unknown) => void;
};

export type TtlEmulation = {
  /** Deletes the items expired for longer than the delay now; returns how many. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
};

/**
 * Turns DynamoDB Local's own TTL off on the table and deletes expired items itself,
 * `ttlDelayMs` after their expiry, each with a DeleteItem that writes a REMOVE to the
 * stream (as a request's delete: DynamoDB Local cannot write AWS's TTL userIdentity).
 *
 * @example
 * const ttl = await startTtlEmulation({ client, tableName, ttlDelayMs: 10_000 });
 * await ttl.stop();
 */
export async function startTtlEmulation(options: TtlEmulationOptions): Promise<TtlEmulation> {
  const ttlDelayMs = options.ttlDelayMs ?? defaultTtlDelayMs;
  const sweepEveryMs = options.sweepEveryMs ?? 1_000;
  const onError = options.onError ?? ((error) => console.error("ttl emulation:", error));
  const attribute = tableDefinition.ttlAttribute;
  await options.client.send(
    new UpdateTimeToLiveCommand({
      TableName: options.tableName,
      TimeToLiveSpecification: { AttributeName: attribute, Enabled: false },
    }),
  );
  const keys = [tableDefinition.partitionKey, tableDefinition.sortKey];

  async function sweep(): Promise<number> {
    const cutoff = String(Math.floor((Date.now() - ttlDelayMs) / 1000));
    let deleted = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      // A Scan: this emulates DynamoDB's internal TTL process and runs only on the
      // local stack; runtime code never scans the table.
      const page = await options.client.send(
        new ScanCommand({
          TableName: options.tableName,
          FilterExpression: "#ttl < :cutoff",
          ProjectionExpression: keys.map((_, i) => `#k${i}`).join(", "),
          ExpressionAttributeNames: {
            "#ttl": attribute,
            ...Object.fromEntries(keys.map((k, i) => [`#k${i}`, k])),
          },
          ExpressionAttributeValues: { ":cutoff": { N: cutoff } },
          ExclusiveStartKey: start,
        }),
      );
      for (const key of page.Items ?? []) {
        try {
          await options.client.send(
            new DeleteItemCommand({
              TableName: options.tableName,
              Key: key,
              // As DynamoDB's TTL: an item whose expiry moved on since the scan stays.
              ConditionExpression: "#ttl < :cutoff",
              ExpressionAttributeNames: { "#ttl": attribute },
              ExpressionAttributeValues: { ":cutoff": { N: cutoff } },
            }),
          );
          deleted++;
        } catch (error) {
          if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return deleted;
  }

  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sweep().catch(onError);
      for (let waited = 0; waited < sweepEveryMs && !stopped; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    sweep,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
