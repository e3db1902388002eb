import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { rawPartition, recordCommands, testClock } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  t = await freshTable("model-cleanup");
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

describe("rooms of a connection (access pattern 2: $disconnect and 410 cleanup)", () => {
  it("a connection in several rooms is found with one Query on the connection index", async () => {
    const conn = await store.connect({ connectionId: "multi-room-0001=", name: "mo", defaultRoom: "lobby" });
    for (const room of ["alpha", "beta", "gamma"]) expect(await store.join(conn, room)).toBe("joined");
    // Someone else in the same rooms must not show up.
    const other = await store.connect({ connectionId: "multi-room-0002=", name: "ot", defaultRoom: "alpha" });
    await store.join(other, "beta");

    const recorder = recordCommands(t.client);
    const rooms = await store.roomsOf(conn.connectionId);
    recorder.stop();
    expect(rooms.sort()).toEqual(["alpha", "beta", "gamma", "lobby"]);
    expect(recorder.names()).toEqual(["QueryCommand"]);
    expect(recorder.calls[0].input.IndexName).toBe("gsi1");
    expect(Object.values(recorder.calls[0].input.ExpressionAttributeValues as object)).toContain(
      "conn#multi-room-0001=",
    );
  });

  it("disconnect leaves every room, deletes the connection and moves the counts", async () => {
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

    expect((await store.disconnect(conn.connectionId)).sort()).toEqual(["d-lobby", "d-one", "d-two"]);
    expect(await store.getConnection(conn.connectionId)).toBeUndefined();
    expect(await store.roomsOf(conn.connectionId)).toEqual([]);
    expect(await rawPartition(t, `conn#${conn.connectionId}`)).toEqual([]);
    for (const room of ["d-lobby", "d-one", "d-two"]) {
      expect((await store.membersOf(room)).map((m) => m.connectionId)).toEqual(
        room === "d-one" ? [stayer.connectionId] : [],
      );
    }
    const counts = Object.fromEntries((await store.listRooms()).map((r) => [r.room, r.members]));
    expect(counts["d-one"]).toBe(1);
    expect(counts["d-lobby"]).toBeUndefined();
    expect(counts["d-two"]).toBeUndefined();
  });

  it("cleanup also finds and removes memberships that have expired but are not yet deleted", async () => {
    const clock = testClock();
    const old = createChatStore(t.service, { now: clock.now, connectionTtlSeconds: 60 });
    const conn = await old.connect({
      connectionId: "stale-conn-0001=",
      name: "stale",
      defaultRoom: "s-lobby",
    });
    await old.join(conn, "s-room");

    const later = createChatStore(t.service, { now: () => clock.now() + 3_600_000 });
    expect((await later.roomsOf(conn.connectionId)).sort()).toEqual(["s-lobby", "s-room"]);
    expect((await later.disconnect(conn.connectionId)).sort()).toEqual(["s-lobby", "s-room"]);
    expect(await later.membersOf("s-room")).toEqual([]);
    expect(await rawPartition(t, "room#s-room#members")).toEqual([]);
    expect(await rawPartition(t, `conn#${conn.connectionId}`)).toEqual([]);
  });

  it("a leave racing a disconnect still removes the membership when the connection is gone", async () => {
    const conn = await store.connect({ connectionId: "race-conn-00001=", name: "rc", defaultRoom: "race" });
    // The connection item disappears first (as if $disconnect deleted it).
    await t.service.entities.connection.delete({ connectionId: conn.connectionId }).go();
    expect(await store.leave(conn.connectionId, "race")).toBe(true);
    expect(await store.membersOf("race")).toEqual([]);
    expect((await store.listRooms()).find((r) => r.room === "race")).toBeUndefined();
  });
});
