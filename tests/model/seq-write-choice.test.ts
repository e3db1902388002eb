import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { freshTable, type FreshTable } from "../support/table";

/**
 * The measurement behind the per-room `seq` write (model/README.md, "Per-room sequence"):
 * the two ways to give a message the next number in the same write that stores it,
 * in raw DynamoDB calls, side by side on DynamoDB Local.
 *  (a) a counter item: consistent GetItem of the counter, then one TransactWriteItems of
 *      the counter's conditional update and the message's put;
 *  (b) `seq` as the message's sort key: consistent Query for the room's newest message,
 *      then a conditional PutItem (attribute_not_exists) of seq + 1.
 * Both retry a lost race. Printed: round trips, capacity per message and retries per
 * message (consumed capacity as DynamoDB Local reports it) under 1..8 concurrent senders to one room; asserted: numbers unique and gap-free.
 */
let t: FreshTable;
beforeAll(async () => {
  t = await freshTable("model-seq-choice");
});
afterAll(() => t.drop());

type Tally = { roundTrips: number; reads: number; writes: number; retries: number };
const pad = (seq: number) => String(seq).padStart(12, "0");
const canceledBy = (error: unknown, ...codes: string[]) =>
  (error as { name?: string }).name === "TransactionCanceledException" &&
  ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).some((r) =>
    codes.includes(r.Code ?? ""),
  );
const capacityOf = (output: { ConsumedCapacity?: unknown }) =>
  [output.ConsumedCapacity]
    .flat()
    .reduce((sum: number, c) => sum + ((c as { CapacityUnits?: number } | undefined)?.CapacityUnits ?? 0), 0);
const jitter = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));

async function sendWithCounter(room: string, text: string, tally: Tally) {
  for (let attempt = 1; ; attempt++) {
    const head = await t.doc.send(
      new GetCommand({
        TableName: t.tableName,
        Key: { pk: `room#${room}#events`, sk: "head" },
        ConsistentRead: true,
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    tally.roundTrips++;
    tally.reads += capacityOf(head);
    const last = (head.Item?.seq as number | undefined) ?? 0;
    try {
      const written = await t.doc.send(
        new TransactWriteCommand({
          ReturnConsumedCapacity: "TOTAL",
          TransactItems: [
            {
              Put: {
                TableName: t.tableName,
                Item: { pk: `room#${room}#events`, sk: "head", seq: last + 1 },
                ConditionExpression: last === 0 ? "attribute_not_exists(pk)" : "seq = :last",
                ...(last === 0 ? {} : { ExpressionAttributeValues: { ":last": last } }),
              },
            },
            {
              Put: {
                TableName: t.tableName,
                Item: { pk: `room#${room}#events`, sk: `seq#${pad(last + 1)}`, seq: last + 1, text },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
          ],
        }),
      );
      tally.roundTrips++;
      tally.writes += capacityOf(written);
      return last + 1;
    } catch (error) {
      tally.roundTrips++;
      if (!canceledBy(error, "ConditionalCheckFailed", "TransactionConflict")) throw error;
      tally.retries++;
      await jitter(attempt);
    }
  }
}

async function sendWithSortKey(room: string, text: string, tally: Tally) {
  for (let attempt = 1; ; attempt++) {
    const newest = await t.doc.send(
      new QueryCommand({
        TableName: t.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `room#${room}#events` },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    tally.roundTrips++;
    tally.reads += capacityOf(newest);
    const last = (newest.Items?.[0]?.seq as number | undefined) ?? 0;
    try {
      const written = await t.doc.send(
        new PutCommand({
          TableName: t.tableName,
          Item: { pk: `room#${room}#events`, sk: `seq#${pad(last + 1)}`, seq: last + 1, text },
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      tally.roundTrips++;
      tally.writes += capacityOf(written);
      return last + 1;
    } catch (error) {
      tally.roundTrips++;
      if ((error as { name?: string }).name !== "ConditionalCheckFailedException") throw error;
      tally.retries++;
      await jitter(attempt);
    }
  }
}

const strategies = { counter: sendWithCounter, sortKey: sendWithSortKey };

async function run(strategy: keyof typeof strategies, senders: number, perSender: number, text: string) {
  const room = `${strategy}-${senders}-${text.length}`;
  const tally: Tally = { roundTrips: 0, reads: 0, writes: 0, retries: 0 };
  const seqs = (
    await Promise.all(
      Array.from({ length: senders }, async () => {
        const mine: number[] = [];
        for (let i = 0; i < perSender; i++) mine.push(await strategies[strategy](room, text, tally));
        return mine;
      }),
    )
  ).flat();
  const messages = senders * perSender;
  expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: messages }, (_, i) => i + 1));
  return {
    strategy,
    senders,
    textBytes: text.length,
    roundTripsPerMessage: +(tally.roundTrips / messages).toFixed(2),
    readUnitsPerMessage: +(tally.reads / messages).toFixed(2),
    writeUnitsPerMessage: +(tally.writes / messages).toFixed(2),
    retriesPerMessage: +(tally.retries / messages).toFixed(2),
  };
}

it("measures both ways of numbering a room's messages; each gives unique, gap-free numbers", async () => {
  const rows = [];
  for (const text of ["x".repeat(100), "x".repeat(16_000)]) {
    for (const strategy of ["counter", "sortKey"] as const) rows.push(await run(strategy, 1, 20, text));
  }
  for (const senders of [2, 4, 8]) {
    for (const strategy of ["counter", "sortKey"] as const)
      rows.push(await run(strategy, senders, 10, "x".repeat(100)));
  }
  console.table(rows);
});
