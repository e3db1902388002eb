import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { wsClient, type ClientOptions } from "../support/events";
import { startChat, type Chat } from "./harness";

// The per-user and per-IP caps on live connections, at `$connect`, on DynamoDB Local.
// Each test uses source addresses of its own (documentation ranges), so their slots never meet.

let chat: Chat;
beforeAll(async () => {
  chat = await startChat({ maxConnectionsPerUser: "2", maxConnectionsPerIp: "3" });
});
afterAll(() => chat.close());

/** `$connect`'s status for a new client with these options. */
async function connectStatus(options: ClientOptions) {
  const client = wsClient(options);
  const { statusCode } = await chat.run(client.connectEvent({ room: "caps" }));
  return { client, statusCode };
}

/** The slot items of an owner (`ip#…`, `user#…`): a Query of its partition. */
async function slotsOf(owner: string) {
  const { Items } = await chat.table.doc.send(
    new QueryCommand({
      TableName: chat.table.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": `slots#${owner}` },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

test("the (cap+1)th connection from one IP is refused with 429 and writes nothing; another IP is not affected", async () => {
  const sourceIp = "198.51.100.10";
  for (let i = 0; i < 3; i++) expect((await connectStatus({ sourceIp })).statusCode).toBe(200);
  await chat.settle();
  const itemsBefore = await chat.items();

  const refused = await connectStatus({ sourceIp });
  expect(refused.statusCode).toBe(429);
  expect(await chat.deps.store.getConnection(refused.client.connectionId)).toBeUndefined();
  expect(await chat.items()).toEqual(itemsBefore);
  expect(chat.logs()).toContainEqual(
    expect.objectContaining({
      msg: "connection cap reached",
      connectionId: refused.client.connectionId,
      owner: `ip#${sourceIp}`,
      cap: 3,
    }),
  );
  // Lambda flushes after every invocation (handlers/lambda.ts); the harness invokes routes directly.
  chat.deps.metrics.flush();
  expect(chat.metricLines.join("\n")).toContain("ConnectionCapRefusals");

  expect((await connectStatus({ sourceIp: "198.51.100.11" })).statusCode).toBe(200);
});

test("a disconnect frees its slot at once", async () => {
  const sourceIp = "198.51.100.20";
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await chat.connect({ room: "caps" }, { sourceIp }));
  expect((await connectStatus({ sourceIp })).statusCode).toBe(429);

  await chat.disconnect(held[1]);
  expect(await slotsOf(`ip#${sourceIp}`)).toHaveLength(2);
  expect((await connectStatus({ sourceIp })).statusCode).toBe(200);
  expect((await connectStatus({ sourceIp })).statusCode).toBe(429);
});

test("one user's connections count together from any address; guests count only against their IP", async () => {
  const authorizer = { sub: "user-caps-1", name: "capped" };
  expect((await connectStatus({ sourceIp: "198.51.100.30", authorizer })).statusCode).toBe(200);
  expect((await connectStatus({ sourceIp: "198.51.100.31", authorizer })).statusCode).toBe(200);
  const refused = await connectStatus({ sourceIp: "198.51.100.32", authorizer });
  expect(refused.statusCode).toBe(429);
  expect(chat.logs()).toContainEqual(
    expect.objectContaining({ connectionId: refused.client.connectionId, owner: "user#user-caps-1" }),
  );
  // The same address still has room for others: the user's cap refused, not the IP's.
  expect((await connectStatus({ sourceIp: "198.51.100.32" })).statusCode).toBe(200);
  expect(
    (await connectStatus({ sourceIp: "198.51.100.32", authorizer: { sub: "user-caps-2", name: "other" } }))
      .statusCode,
  ).toBe(200);
});

test("a connection whose $disconnect was lost stops counting when it expires", async () => {
  const sourceIp = "198.51.100.40";
  for (let i = 0; i < 3; i++) await chat.connect({ room: "caps" }, { sourceIp });
  expect((await connectStatus({ sourceIp })).statusCode).toBe(429);

  // No $disconnect came for one of them, and its time is up (DynamoDB has not deleted it yet).
  const [lost] = await slotsOf(`ip#${sourceIp}`);
  await chat.table.doc.send(
    new UpdateCommand({
      TableName: chat.table.tableName,
      Key: { pk: lost.pk, sk: lost.sk },
      UpdateExpression: "SET #ttl = :past",
      ExpressionAttributeNames: { "#ttl": "ttl" },
      ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 1 },
    }),
  );
  const { client, statusCode } = await connectStatus({ sourceIp });
  expect(statusCode).toBe(200);
  // The expired slot was taken over by the new connection.
  expect(await slotsOf(`ip#${sourceIp}`)).toContainEqual(
    expect.objectContaining({ sk: lost.sk, connectionId: client.connectionId }),
  );
  expect((await connectStatus({ sourceIp })).statusCode).toBe(429);
});

test("handshakes racing for the last slots: exactly the cap gets in", async () => {
  const sourceIp = "198.51.100.50";
  const statuses = await Promise.all(
    Array.from({ length: 10 }, async () => (await connectStatus({ sourceIp })).statusCode),
  );
  expect(statuses.filter((s) => s === 200)).toHaveLength(3);
  expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  expect(await slotsOf(`ip#${sourceIp}`)).toHaveLength(3);
});

test.each(["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"])(
  "connections from the loopback address %s are never capped",
  async (sourceIp) => {
    const authorizer = { sub: `user-loopback-${sourceIp}`, name: "local" };
    for (let i = 0; i < 5; i++) expect((await connectStatus({ sourceIp, authorizer })).statusCode).toBe(200);
    expect(await slotsOf(`ip#${sourceIp}`)).toEqual([]);
  },
);
