import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { connectionId, rawPartition, recordCommands, testClock } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  t = await freshTable("model-cleanup");
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

describe("rooms of a connection (access pattern 2: $disconnect and 410 cleanup)", () => {
  it("the connection's own record lists its rooms: one consistent GetItem, no index", async () => {
    const conn = await store.connect({ connectionId: "multi-room-0001=", name: "mo", defaultRoom: "lobby" });
    for (const room of ["alpha", "beta", "gamma"]) expect(await store.join(conn, room)).toBe("joined");
    const other = await store.connect({ connectionId: "multi-room-0002=", name: "ot", defaultRoom: "alpha" });
    await store.join(other, "beta");

    const recorder = recordCommands(t.client);
    const record = await store.getConnection(conn.connectionId);
    recorder.stop();
    expect([...(record?.rooms ?? [])].sort()).toEqual(["alpha", "beta", "gamma", "lobby"]);
    expect(record?.roomCount).toBe(4);
    expect(recorder.names()).toEqual(["GetItemCommand"]);
    expect(recorder.calls[0].input).toMatchObject({
      ConsistentRead: true,
      Key: { pk: "conn#multi-room-0001=" },
    });
  });

  it("disconnect deletes the record, returns it, and deletes every membership it listed", async () => {
    const conn = await store.connect({
      connectionId: "leaving-all-001=",
      name: "la",
      defaultRoom: "d-lobby",
    });
    await store.join(conn, "d-one");
    await store.join(conn, "d-two");
    const stayer = await store.connect({
      connectionId: "staying-0000001=",
      name: "st",
      defaultRoom: "d-one",
    });

    const recorder = recordCommands(t.client);
    const removed = await store.disconnect(conn.connectionId);
    recorder.stop();
    expect([...(removed?.rooms ?? [])].sort()).toEqual(["d-lobby", "d-one", "d-two"]);
    // No read first: the delete returns the record (ALL_OLD), then one batch deletes the memberships.
    expect(recorder.names()).toEqual(["DeleteItemCommand", "BatchWriteItemCommand"]);
    expect(recorder.calls[0].input.ReturnValues).toBe("ALL_OLD");
    expect(await store.getConnection(conn.connectionId)).toBeUndefined();
    expect(await rawPartition(t, `conn#${conn.connectionId}`)).toEqual([]);
    for (const room of ["d-lobby", "d-one", "d-two"]) {
      expect((await store.membersOf(room)).map((m) => m.connectionId)).toEqual(
        room === "d-one" ? [stayer.connectionId] : [],
      );
    }
  });

  it("cleanup also removes memberships that have expired but are not yet deleted", async () => {
    const clock = testClock();
    const old = createChatStore(t.service, { now: clock.now, connectionTtlSeconds: 60 });
    const conn = await old.connect({
      connectionId: "stale-conn-0001=",
      name: "stale",
      defaultRoom: "s-lobby",
    });
    await old.join(conn, "s-room");

    const later = createChatStore(t.service, { now: () => clock.now() + 3_600_000 });
    expect(await later.getConnection(conn.connectionId)).toBeUndefined(); // expired for reads
    expect(await later.getMembership("s-room", conn.connectionId)).toBeUndefined();
    // Still in the table (and counted) until deleted: what a replay of its join checks.
    expect(await later.getMembership("s-room", conn.connectionId, { expired: true })).toMatchObject({
      room: "s-room",
      connectionId: conn.connectionId,
    });
    expect([...((await later.disconnect(conn.connectionId))?.rooms ?? [])].sort()).toEqual([
      "s-lobby",
      "s-room",
    ]);
    expect(await rawPartition(t, "s-room")).toEqual([]);
    expect(await rawPartition(t, "s-lobby")).toEqual([]);
    expect(await rawPartition(t, `conn#${conn.connectionId}`)).toEqual([]);
  });

  it("a leave racing a disconnect still removes the membership when the connection is gone", async () => {
    const conn = await store.connect({ connectionId: "race-conn-00001=", name: "rc", defaultRoom: "race" });
    // The connection item disappears first (as if $disconnect deleted it).
    await t.service.entities.connection.delete({ connectionId: conn.connectionId }).go();
    expect(await store.leave(conn.connectionId, "race")).toBe(true);
    expect(await rawPartition(t, "race")).toEqual([]);
  });

  it("no membership is orphaned when a join races a disconnect (50 races)", async () => {
    // There is no index any more: disconnect reads the rooms from the record it deletes
    // (one strongly consistent delete), and join's transaction needs that record. A lagging
    // index cannot orphan a membership because nothing reads one; what is left to race is this.
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 50; i++) {
      const id = connectionId(`racer${i}`);
      const conn = await store.connect({ connectionId: id, name: `r${i}`, defaultRoom: "race-home" });
      // Alternate which request leaves first, so both orders of arrival are raced.
      const [joined] =
        i % 2 === 0
          ? await Promise.all([store.join(conn, "race-room"), store.disconnect(id)])
          : await Promise.all([store.disconnect(id), store.join(conn, "race-room")]).then(([, j]) => [j]);
      outcomes[joined] = (outcomes[joined] ?? 0) + 1;
    }
    const orphans = [...(await rawPartition(t, "race-room")), ...(await rawPartition(t, "race-home"))];
    expect(orphans).toEqual([]);
    for (let i = 0; i < 50; i++)
      expect(await rawPartition(t, `conn#${connectionId(`racer${i}`)}`)).toEqual([]);
    expect(Object.keys(outcomes).every((o) => o === "joined" || o === "no-connection")).toBe(true);
    console.log(`join racing disconnect, 50 races: ${JSON.stringify(outcomes)}, 0 orphaned memberships`);
  });
});

describe("removeGone (410 cleanup, in bulk)", () => {
  it("removes connections older than the grace period with their memberships; keeps young ones", async () => {
    const clock = testClock();
    const timed = createChatStore(t.service, { now: clock.now });
    const old = await timed.connect({ connectionId: "gone-old-00001=", name: "o", defaultRoom: "g-room" });
    await timed.join(old, "g-other");
    clock.advance(60_000);
    const young = await timed.connect({ connectionId: "gone-young-001=", name: "y", defaultRoom: "g-room" });
    clock.advance(5_000);

    const result = await timed.removeGone(
      "g-room",
      [old.connectionId, young.connectionId, "never-here-001="],
      30,
    );
    expect(result).toEqual({ removed: 2, kept: 1 });
    expect(await rawPartition(t, `conn#${old.connectionId}`)).toEqual([]);
    expect(await rawPartition(t, "g-other")).toEqual([]);
    expect((await rawPartition(t, "g-room")).map((m) => m.sk)).toEqual([young.connectionId]);
    expect(await timed.getConnection(young.connectionId)).toBeDefined();
  });
});
