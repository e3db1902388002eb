import { createChatStore, type ChatStore, type Connection } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { connectionId, rawPartition, recordCommands } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  t = await freshTable("model-members");
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

async function connectAll(prefix: string, count: number, room: string): Promise<Connection[]> {
  const connections: Connection[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) =>
      store.connect({
        connectionId: connectionId(`${prefix}${i + j}`),
        name: `${prefix}-${i + j}`,
        defaultRoom: room,
      }),
    );
    connections.push(...(await Promise.all(batch)));
  }
  return connections;
}

describe("members of a room (access pattern 1)", () => {
  it("come back from one Query on the room's member partition, and only that room's members", async () => {
    const red = await connectAll("red", 7, "red");
    await connectAll("blue", 5, "blue");
    // A blue member also in red, and traffic in both rooms: none of it may leak into red's members.
    const [blue0] = await connectAll("both", 1, "blue");
    expect(await store.join(blue0, "red")).toBe("joined");
    await store.post({
      room: "red",
      from: "x",
      connectionId: red[0].connectionId,
      session: "session:s",
      text: "hi",
    });
    await store.post({
      room: "blue",
      from: "x",
      connectionId: blue0.connectionId,
      session: "session:s",
      text: "yo",
    });

    const recorder = recordCommands(t.client);
    const members = await store.membersOf("red");
    recorder.stop();

    expect(members.map((m) => m.connectionId).sort()).toEqual(
      [...red.map((c) => c.connectionId), blue0.connectionId].sort(),
    );
    expect(members.every((m) => m.room === "red")).toBe(true);
    expect(recorder.names()).toEqual(["QueryCommand"]);
    const [query] = recorder.calls;
    expect(query.input.IndexName).toBeUndefined();
    expect(query.input.KeyConditionExpression).toMatch(/#pk = :pk/);
    expect(Object.values(query.input.ExpressionAttributeValues as object)).toContain("red");
    // Every item read was a red membership: nothing else shares the partition.
    expect(query.count).toBe(8);
  });

  it("membership items stay lean: the bare room and connection id as keys, name, expiry, entity", async () => {
    const [conn] = await connectAll("lean", 1, "lean-room");
    const [item] = await rawPartition(t, "lean-room");
    expect(Object.keys(item).sort()).toEqual(["e", "n", "pk", "sk", "ttl", "v"]);
    expect(item).toEqual({
      pk: "lean-room",
      sk: conn.connectionId,
      n: "lean-0",
      ttl: conn.expiresAt,
      e: "membership",
      v: "2",
    });
  });

  it("an empty or unknown room has no members", async () => {
    expect(await store.membersOf("nobody-here")).toEqual([]);
  });

  it("reads every page when the room spans several DynamoDB pages (small page size)", async () => {
    const members = await connectAll("pg", 130, "paged");
    const recorder = recordCommands(t.client, { queryLimit: 25 });
    const found = await store.membersOf("paged");
    recorder.stop();

    expect(found).toHaveLength(130);
    expect(new Set(found.map((m) => m.connectionId))).toEqual(new Set(members.map((m) => m.connectionId)));
    const queries = recorder.of("QueryCommand");
    expect(queries.length).toBeGreaterThanOrEqual(6); // 130 / 25 -> 6 pages (a 7th may come back empty)
    expect(queries[0].input.ExclusiveStartKey).toBeUndefined();
    for (let i = 1; i < queries.length; i++) {
      expect(queries[i].input.ExclusiveStartKey).toEqual(queries[i - 1].lastEvaluatedKey);
    }
    expect(queries[queries.length - 1].lastEvaluatedKey).toBeUndefined();
  }, 60_000);

  it("reads past DynamoDB's 1 MB page limit with no forced Limit", async () => {
    // 320 memberships of ~3.5 KB each is ~1.1 MB: DynamoDB must cut the Query into two pages.
    const padding = "p".repeat(3500);
    const count = 320;
    const { membership } = t.service.entities;
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    for (let i = 0; i < count; i += 25) {
      const items = Array.from({ length: Math.min(25, count - i) }, (_, j) => ({
        room: "big",
        connectionId: connectionId(`big${i + j}`),
        name: `${i + j}-${padding}`,
        expiresAt,
      }));
      const { unprocessed } = await membership.put(items).go();
      expect(unprocessed).toEqual([]);
    }
    const recorder = recordCommands(t.client);
    const found = await store.membersOf("big");
    recorder.stop();

    expect(found).toHaveLength(count);
    expect(new Set(found.map((m) => m.connectionId)).size).toBe(count);
    const queries = recorder.of("QueryCommand");
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(queries[0].lastEvaluatedKey).toBeDefined();
    expect(queries[1].input.ExclusiveStartKey).toEqual(queries[0].lastEvaluatedKey);
    expect(queries[0].count).toBeLessThan(count);
  }, 60_000);

  it("skips expired members on every page", async () => {
    const { membership } = t.service.entities;
    const now = Math.floor(Date.now() / 1000);
    const items = Array.from({ length: 60 }, (_, i) => ({
      room: "mixed",
      connectionId: connectionId(`mx${i}`),
      name: `m${i}`,
      expiresAt: i % 3 === 0 ? now - 10 : now + 3600,
    }));
    await membership.put(items).go();
    const recorder = recordCommands(t.client, { queryLimit: 7 });
    const found = await store.membersOf("mixed");
    recorder.stop();
    expect(found).toHaveLength(40);
    expect(found.every((m) => m.expiresAt > now)).toBe(true);
    expect(recorder.of("QueryCommand").length).toBeGreaterThanOrEqual(9);
  });
});

describe("joining and leaving", () => {
  it("join is idempotent: a second join changes nothing", async () => {
    const [conn] = await connectAll("idem", 1, "idem-home");
    expect(await store.join(conn, "idem-room")).toBe("joined");
    expect(await store.join(conn, "idem-room")).toBe("already-member");
    expect(await store.join(conn, "idem-home")).toBe("already-member");
    expect(await rawPartition(t, "idem-room")).toHaveLength(1);
    expect(await store.getConnection(conn.connectionId)).toMatchObject({
      roomCount: 2,
      rooms: expect.arrayContaining(["idem-home", "idem-room"]),
    });
  });

  it("the rooms-per-connection cap returns too-many-rooms", async () => {
    const capped = createChatStore(t.service, { maxRoomsPerConnection: 3 });
    const conn = await capped.connect({
      connectionId: "cap-conn-000001=",
      name: "cap",
      defaultRoom: "cap-0",
    });
    expect(await capped.join(conn, "cap-1")).toBe("joined");
    expect(await capped.join(conn, "cap-2")).toBe("joined");
    expect(await capped.join(conn, "cap-3")).toBe("too-many-rooms");
    // Nothing was written for the refused join.
    expect(await capped.getMembership("cap-3", conn.connectionId)).toBeUndefined();
    expect(await rawPartition(t, "cap-3")).toEqual([]);
    // Joining a room it is already in is still fine at the cap.
    expect(await capped.join(conn, "cap-1")).toBe("already-member");
    // Leaving frees a slot.
    expect(await capped.leave(conn.connectionId, "cap-2")).toBe(true);
    expect(await capped.join(conn, "cap-3")).toBe("joined");
    const record = await capped.getConnection(conn.connectionId);
    expect([...(record?.rooms ?? [])].sort()).toEqual(["cap-0", "cap-1", "cap-3"]);
    expect(record?.roomCount).toBe(3);
  });

  it("the default cap is 20 rooms", async () => {
    const [conn] = await connectAll("cap20-", 1, "r0");
    for (let i = 1; i < 20; i++) expect(await store.join(conn, `r${i}`)).toBe("joined");
    expect(await store.join(conn, "r20")).toBe("too-many-rooms");
    expect((await store.getConnection(conn.connectionId))?.rooms).toHaveLength(20);
    expect(await store.getMembership("r20", conn.connectionId)).toBeUndefined();
  });

  it("joining without a stored connection returns no-connection", async () => {
    const ghost: Connection = {
      connectionId: "ghost-conn-0001=",
      name: "ghost",
      defaultRoom: "lobby",
      roomCount: 1,
      connectedAt: Date.now(),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
    expect(await store.join(ghost, "somewhere")).toBe("no-connection");
    expect(await store.getMembership("somewhere", ghost.connectionId)).toBeUndefined();
  });

  it("leave removes the membership; leaving twice or a room never joined is false", async () => {
    const [conn] = await connectAll("leaver", 1, "leave-home");
    await store.join(conn, "leave-room");
    expect(await store.leave(conn.connectionId, "leave-room")).toBe(true);
    expect(await store.getMembership("leave-room", conn.connectionId)).toBeUndefined();
    expect(await store.membersOf("leave-room")).toEqual([]);
    expect(await store.leave(conn.connectionId, "leave-room")).toBe(false);
    expect(await store.leave(conn.connectionId, "never-joined")).toBe(false);
    expect(await store.getConnection(conn.connectionId)).toMatchObject({
      rooms: ["leave-home"],
      roomCount: 1,
    });
  });
});
