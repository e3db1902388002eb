import { createChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { rawPartition, recordCommands, testClock } from "./helpers";

let t: FreshTable;
beforeAll(async () => {
  t = await freshTable("model-connections");
});
afterAll(() => t.drop());

describe("connections (access pattern 5: GetItem by id)", () => {
  it("connect records the connection and joins its default room", async () => {
    const clock = testClock();
    const store = createChatStore(t.service, { now: clock.now });
    const conn = await store.connect({
      connectionId: "Kx1-aaaaaaaaaaa=",
      name: "alice",
      defaultRoom: "lobby",
    });

    expect(conn).toMatchObject({
      connectionId: "Kx1-aaaaaaaaaaa=",
      name: "alice",
      defaultRoom: "lobby",
      roomCount: 1,
    });
    expect(conn.connectedAt).toBe(clock.now());
    expect(conn.expiresAt).toBeGreaterThan(clock.now() / 1000 + 2 * 60 * 60);
    expect(await store.getConnection("Kx1-aaaaaaaaaaa=")).toEqual(conn);
    expect(await store.getMembership("lobby", "Kx1-aaaaaaaaaaa=")).toMatchObject({ name: "alice" });
    expect(conn.rooms).toEqual(["lobby"]);
    expect((await store.getConnection("Kx1-aaaaaaaaaaa="))?.rooms).toEqual(["lobby"]);
  });

  it("an unknown connection is undefined", async () => {
    const store = createChatStore(t.service);
    expect(await store.getConnection("nobody-here-000=")).toBeUndefined();
  });

  it("keeps the userId when authenticated, and the client's session id", async () => {
    const store = createChatStore(t.service);
    await store.connect({
      connectionId: "auth-conn-00001=",
      name: "bob",
      userId: "sub-42",
      sessionId: "tab-7",
      defaultRoom: "lobby",
    });
    expect(await store.getConnection("auth-conn-00001=")).toMatchObject({
      userId: "sub-42",
      sessionId: "tab-7",
      name: "bob",
    });
  });

  it("connection ids are case-sensitive: abcD= and abcd= are different connections", async () => {
    const store = createChatStore(t.service);
    await store.connect({ connectionId: "abcD=", name: "upper", defaultRoom: "case-room" });
    await store.connect({ connectionId: "abcd=", name: "lower", defaultRoom: "case-room" });

    expect((await store.getConnection("abcD="))?.name).toBe("upper");
    expect((await store.getConnection("abcd="))?.name).toBe("lower");
    expect((await store.membersOf("case-room")).map((m) => m.connectionId).sort()).toEqual([
      "abcD=",
      "abcd=",
    ]);

    // The keys keep the original case (ElectroDB casing is off for them).
    const [item] = await rawPartition(t, "conn#abcD=");
    expect(item).toMatchObject({ pk: "conn#abcD=", sk: "connection", name: "upper" });

    expect((await store.disconnect("abcD="))?.rooms).toEqual(["case-room"]);
    expect(await store.getConnection("abcD=")).toBeUndefined();
    expect((await store.getConnection("abcd="))?.name).toBe("lower");
    expect((await store.membersOf("case-room")).map((m) => m.connectionId)).toEqual(["abcd="]);
  });

  it("reads ignore an expired connection even before DynamoDB deletes it", async () => {
    const clock = testClock();
    const writer = createChatStore(t.service, { now: clock.now, connectionTtlSeconds: 60 });
    await writer.connect({ connectionId: "expiring-conn-1=", name: "ghost", defaultRoom: "haunted" });

    const justBefore = createChatStore(t.service, { now: () => clock.now() + 59_000 });
    expect(await justBefore.getConnection("expiring-conn-1=")).toBeDefined();
    expect(await justBefore.getMembership("haunted", "expiring-conn-1=")).toBeDefined();
    expect(await justBefore.membersOf("haunted")).toHaveLength(1);

    const later = createChatStore(t.service, { now: () => clock.now() + 61_000 });
    expect(await later.getConnection("expiring-conn-1=")).toBeUndefined();
    expect(await later.getMembership("haunted", "expiring-conn-1=")).toBeUndefined();
    // The items are still in the table: only reads treat them as gone.
    expect(await rawPartition(t, "conn#expiring-conn-1=")).toHaveLength(1);
    expect(await rawPartition(t, "haunted")).toHaveLength(1);
    // The member lookup ignores it (TTL's deletion, through the stream, moves the count).
    expect(await later.membersOf("haunted")).toEqual([]);
    expect(await rawPartition(t, "haunted")).toHaveLength(1);
  });

  it("every connection-bearing item carries the TTL attribute", async () => {
    const clock = testClock();
    const store = createChatStore(t.service, { now: clock.now });
    const conn = await store.connect({
      connectionId: "ttl-check-00001=",
      name: "tilly",
      defaultRoom: "ttl-room",
    });
    await store.join(conn, "ttl-other");
    await store.post({
      room: "ttl-room",
      from: "tilly",
      connectionId: conn.connectionId,
      session: `connection:${conn.connectionId}`,
      text: "hi",
      clientId: "c-1",
    });
    const withConnectionTtl = [
      ...(await rawPartition(t, "conn#ttl-check-00001=")),
      ...(await rawPartition(t, "ttl-room")),
      ...(await rawPartition(t, "ttl-other")),
    ];
    expect(withConnectionTtl).toHaveLength(3);
    for (const item of withConnectionTtl) expect(item.ttl).toBe(conn.expiresAt);
    const [clientIdRecord] = await rawPartition(t, "room#ttl-room#clientids");
    expect(clientIdRecord.ttl).toBe(Math.floor(clock.now() / 1000) + 24 * 60 * 60);
  });

  it("disconnect removes the connection and is idempotent", async () => {
    const store = createChatStore(t.service);
    await store.connect({ connectionId: "bye-bye-0000001=", name: "carol", defaultRoom: "lobby-2" });
    expect(await store.disconnect("bye-bye-0000001=")).toMatchObject({ name: "carol", rooms: ["lobby-2"] });
    expect(await store.getConnection("bye-bye-0000001=")).toBeUndefined();
    expect(await rawPartition(t, "lobby-2")).toEqual([]);
    expect(await store.disconnect("bye-bye-0000001=")).toBeUndefined();
    expect(await store.disconnect("never-existed-0=")).toBeUndefined();
  });

  it("disconnect works when called unbound (handlers may destructure the store)", async () => {
    const store = createChatStore(t.service);
    await store.connect({ connectionId: "unbound-000001=", name: "dora", defaultRoom: "lobby-3" });
    const { disconnect } = store;
    expect((await disconnect("unbound-000001="))?.rooms).toEqual(["lobby-3"]);
  });
});

describe("no hot keys: connect and join write only the connection's own items", () => {
  /** The keys (`pk`/`sk`) every write command of the recorded calls touched. */
  function writtenKeys(calls: ReturnType<typeof recordCommands>["calls"]) {
    type Key = { pk: string; sk: string };
    type TransactItem = {
      Put?: { Item: Key };
      Update?: { Key: Key };
      Delete?: { Key: Key };
      ConditionCheck?: { Key: Key };
    };
    return calls.flatMap((call) => {
      const items = (call.input.TransactItems as TransactItem[] | undefined) ?? [];
      const single = (call.input.Item ?? call.input.Key) as Key | undefined;
      const keys = items.map((i) => i.Put?.Item ?? i.Update?.Key ?? i.Delete?.Key ?? i.ConditionCheck?.Key);
      return [...keys, ...(single && call.command !== "GetItemCommand" ? [single] : [])].map(
        (k) => `${k?.pk} | ${k?.sk}`,
      );
    });
  }

  it("connect writes conn#<id> and <room>/<id>; join the same record and <room>/<id>; nothing under rooms#", async () => {
    const store = createChatStore(t.service);
    const recorder = recordCommands(t.client);
    const conn = await store.connect({
      connectionId: "hot-key-check-1=",
      name: "h",
      defaultRoom: "hk-lobby",
    });
    const connectCalls = [...recorder.calls];
    recorder.clear();
    expect(await store.join(conn, "hk-room")).toBe("joined");
    const joinCalls = [...recorder.calls];
    recorder.stop();

    expect(connectCalls.map((c) => c.command)).toEqual(["TransactWriteItemsCommand"]);
    expect(writtenKeys(connectCalls)).toEqual([
      "conn#hot-key-check-1= | connection",
      "hk-lobby | hot-key-check-1=",
    ]);
    expect(joinCalls.map((c) => c.command)).toEqual(["TransactWriteItemsCommand"]);
    expect(writtenKeys(joinCalls).sort()).toEqual([
      "conn#hot-key-check-1= | connection",
      "hk-room | hot-key-check-1=",
    ]);
    const everything = JSON.stringify([...connectCalls, ...joinCalls].map((c) => c.input));
    expect(everything).not.toMatch(/rooms#/);
    expect(everything).not.toMatch(/"room#/);
  });
});
