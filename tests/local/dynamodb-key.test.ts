/** @jest-environment node */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { createDynamoClient } from "../../model/client";
import { accessKeyFileName } from "../../local/data-key";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { silentLogger } from "../support/local-stack";

// DynamoDB Local listens on every interface and has no option to narrow that. Without
// -sharedDb it keeps a database per access key: `npm start`'s persisted data gets a random
// key of its own, so a client without it (here: over loopback, with the well-known local key)
// finds no table at all. Only loopback addresses are used.
const dataDir = mkdtempSync(join(tmpdir(), "roomcast-key-"));
let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ port: 0, dataDir, logger: silentLogger });
});
afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("the data folder's key is random, kept there for its owner only, and carried by the stack's endpoint", () => {
  const file = join(dataDir, accessKeyFileName);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const endpoint = new URL(stack.dynamodbEndpoint);
  expect(endpoint.hostname).toBe("127.0.0.1");
  expect(endpoint.username).toMatch(/^[0-9a-f]{32}$/);
});

test("a client with another key sees no table and cannot read an item", async () => {
  const own = createDynamoClient(stack.dynamodbEndpoint);
  const { port } = new URL(stack.dynamodbEndpoint);
  const other = createDynamoClient(`http://127.0.0.1:${port}`);
  try {
    expect((await own.send(new ListTablesCommand({}))).TableNames).toContain(stack.tableName);
    expect((await other.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    await expect(
      other.send(
        new GetItemCommand({ TableName: stack.tableName, Key: { pk: { S: "rooms#0" }, sk: { S: "x" } } }),
      ),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  } finally {
    own.destroy();
    other.destroy();
  }
});
