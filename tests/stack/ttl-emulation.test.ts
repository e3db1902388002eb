import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { normalizeStreamRecord } from "../../handlers/delivery/stream-records";
import { tableDefinition } from "../../model/table";
import { startStreamMapping } from "../../local/stream-mapping";
import { startTtlEmulation } from "../../local/ttl-emulation";
import { streamTable } from "../support/stream-table";

test("an expired item stays readable for the delay, then goes with a REMOVE on the stream", async () => {
  const table = await streamTable();
  const ttl = await startTtlEmulation({
    client: table.client,
    tableName: table.tableName,
    ttlDelayMs: 3_000,
    sweepEveryMs: 200,
  });
  const seen: DynamoDBRecord[] = [];
  const mapping = await startStreamMapping({
    dynamodb: table.client,
    tableName: table.tableName,
    pollMs: 50,
    handler: async (event) => void seen.push(...event.Records),
  });
  try {
    const expiredAt = Math.floor(Date.now() / 1000) - 1;
    const Key = { pk: { S: "expired" }, sk: { S: "item" } };
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: { ...Key, [tableDefinition.ttlAttribute]: { N: String(expiredAt) } },
      }),
    );
    const read = async () =>
      (await table.client.send(new GetItemCommand({ TableName: table.tableName, Key }))).Item;
    const start = Date.now();
    let lastSeen = start;
    while (Date.now() - start < 10_000 && (await read())) {
      lastSeen = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const goneAfterExpiry = Date.now() - expiredAt * 1000;
    console.log(
      `ttl emulation: readable until ${lastSeen - expiredAt * 1000} ms after expiry, gone at ${goneAfterExpiry} ms`,
    );
    expect(lastSeen - expiredAt * 1000).toBeGreaterThanOrEqual(2_000); // DynamoDB Local alone: gone in ~1 s
    expect(goneAfterExpiry).toBeLessThan(6_000);
    await mapping.idle();
    expect(seen.map((r) => normalizeStreamRecord(r))).toEqual([
      expect.objectContaining({ kind: "insert" }),
      expect.objectContaining({ kind: "remove", oldImage: expect.objectContaining({ pk: "expired" }) }),
    ]);
  } finally {
    await mapping.stop();
    await ttl.stop();
    await table.drop();
  }
});
