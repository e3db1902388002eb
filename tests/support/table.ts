import { randomUUID } from "node:crypto";
import { DeleteTableCommand, UpdateTableCommand } from "@aws-sdk/client-dynamodb";
import { createDocumentClient, createDynamoClient } from "../../model/client";
import { ensureTable } from "../../model/create-table";
import { createChatService } from "../../model/service";

/**
 * A fresh table on the run's DynamoDB Local. Call in `beforeAll`; `drop()` in `afterAll`.
 *
 * `stream: false` for a test that never reads the stream: DynamoDB Local keeps every stream
 * record ever written and every later request pays for them. The table is still the one
 * `ensureTable` creates (same keys, indexes and TTL), its stream turned off afterwards.
 */
export async function freshTable(prefix = "roomcast-test", { stream = true }: { stream?: boolean } = {}) {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint)
    throw new Error(
      "DYNAMODB_ENDPOINT is not set: run the tests through jest (tests/support/dynamodb-environment.ts)",
    );
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  const client = createDynamoClient(endpoint);
  const doc = createDocumentClient(client);
  await ensureTable(client, tableName);
  if (!stream)
    await client.send(
      new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } }),
    );
  return {
    endpoint,
    tableName,
    client,
    doc,
    service: createChatService(doc, tableName),
    async drop() {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}

export type FreshTable = Awaited<ReturnType<typeof freshTable>>;
