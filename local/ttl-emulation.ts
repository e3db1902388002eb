import {
  DeleteItemCommand,
  DescribeTimeToLiveCommand,
  type AttributeValue,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { tableDefinition } from "../model/table";

/**
 * Default delay between an item's expiry and its deletion on the local stack (`npm start`).
 * AWS deletes expired items "within a few days"; DynamoDB Local about 10 s after expiry
 * (measured 9.9-10.8 s), too short to look at the expired-but-present state by hand.
 * A minute leaves time to close a tab and see `listrooms` still count it while `members`
 * no longer lists it, and the cleanup still arrives within the same session.
 */
export const defaultTtlDelayMs = 60_000;

export type TtlEmulationOptions = {
  client: DynamoDBClient;
  tableName: string;
  /** How long an expired item stays readable. */
  ttlDelayMs?: number;
  /** Sweep period. */
  sweepEveryMs?: number;
  /** The clock expiry is judged by (tests move it ahead instead of waiting); default `Date.now`. */
  now?: () => number;
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
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error) => console.error("ttl emulation:", error));
  const attribute = tableDefinition.ttlAttribute;
  // A table kept from an earlier run (`npm start` with its data folder) has it off already.
  const { TimeToLiveDescription } = await options.client.send(
    new DescribeTimeToLiveCommand({ TableName: options.tableName }),
  );
  if (TimeToLiveDescription?.TimeToLiveStatus !== "DISABLED") {
    await options.client.send(
      new UpdateTimeToLiveCommand({
        TableName: options.tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: false },
      }),
    );
  }
  const keys = [tableDefinition.partitionKey, tableDefinition.sortKey];

  async function sweep(): Promise<number> {
    const cutoff = String(Math.floor((now() - ttlDelayMs) / 1000));
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
