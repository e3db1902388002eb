import { roomShard, createChatStore, type ChatStore } from "../../model/store";
import { roomDirectoryShards } from "../../model/entities/room";
import { freshTable, type FreshTable } from "../support/table";
import { marshall } from "@aws-sdk/util-dynamodb";
import { passesFilters, streamFilterPatterns } from "../../model/stream-filter";
import { connectionId, directoryItems, rawPartition, recordCommands, startStreamWorker } from "./helpers";

let t: FreshTable;
let store: ChatStore;
let worker: Awaited<ReturnType<typeof startStreamWorker>>;
beforeAll(async () => {
  t = await freshTable("model-rooms");
  store = createChatStore(t.service);
  worker = await startStreamWorker(t, store);
});
afterAll(async () => {
  await worker.stop();
  await t.drop();
});
afterEach(() => expect(worker.errors).toEqual([]));

/** The counts once the stream worker has read every write so far. */
const counts = async () => {
  await worker.settled();
  return Object.fromEntries((await store.listRooms()).map((r) => [r.room, r.members]));
};

describe("room list with member counts (access pattern 4), counted from the stream", () => {
  it("is empty on an empty table", async () => {
    expect(await store.listRooms()).toEqual([]);
  });

  it("counts stay right as members join, leave, rejoin and disconnect", async () => {
    const a = await store.connect({ connectionId: "room-list-aaaa1=", name: "a", defaultRoom: "lobby" });
    const b = await store.connect({ connectionId: "room-list-bbbb1=", name: "b", defaultRoom: "lobby" });
    const c = await store.connect({ connectionId: "room-list-cccc1=", name: "c", defaultRoom: "games" });
    expect(await counts()).toEqual({ lobby: 2, games: 1 });

    await store.join(a, "games");
    await store.join(a, "music");
    expect(await counts()).toEqual({ lobby: 2, games: 2, music: 1 });

    // Idempotent join does not count twice.
    expect(await store.join(a, "games")).toBe("already-member");
    expect(await counts()).toEqual({ lobby: 2, games: 2, music: 1 });

    await store.leave(a.connectionId, "music");
    expect(await counts()).toEqual({ lobby: 2, games: 2 }); // an empty room drops out of the list
    await store.leave(a.connectionId, "music"); // leaving twice does not count twice
    expect(await counts()).toEqual({ lobby: 2, games: 2 });

    await store.join(a, "music"); // rejoin
    await store.join(b, "music");
    expect(await counts()).toEqual({ lobby: 2, games: 2, music: 2 });

    await store.disconnect(a.connectionId);
    expect(await counts()).toEqual({ lobby: 1, games: 1, music: 1 });
    await store.disconnect(a.connectionId); // a repeated $disconnect changes nothing
    expect(await counts()).toEqual({ lobby: 1, games: 1, music: 1 });

    await store.disconnect(b.connectionId);
    await store.disconnect(c.connectionId);
    expect(await counts()).toEqual({});
    expect(await directoryItems(t)).toEqual([]);
  });

  it("concurrent joins and leaves keep an exact count", async () => {
    const conns = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.connect({ connectionId: connectionId(`conc${i}`), name: `n${i}`, defaultRoom: "home" }),
      ),
    );
    await Promise.all(conns.map((c) => store.join(c, "busy")));
    expect((await counts()).busy).toBe(20);
    await Promise.all(conns.slice(0, 7).map((c) => store.leave(c.connectionId, "busy")));
    expect((await counts()).busy).toBe(13);
    expect(await store.membersOf("busy")).toHaveLength(13);
    await Promise.all(conns.map((c) => store.disconnect(c.connectionId)));
    expect(await counts()).toEqual({});
  });

  it("a connection removed without $disconnect (a 410) takes its memberships and counts along", async () => {
    // removeGone deletes the record; the stream worker deletes the memberships it listed.
    const gone = await store.connect({ connectionId: "gone-410-00001=", name: "g", defaultRoom: "g-one" });
    await store.join(gone, "g-two");
    await store.connect({ connectionId: "stays-410-0001=", name: "s", defaultRoom: "g-two" });
    expect(await counts()).toMatchObject({ "g-one": 1, "g-two": 2 });
    expect(await store.removeGone("g-one", [gone.connectionId], 0)).toEqual({ removed: 1, kept: 0 });
    const after = await counts();
    expect(after["g-one"]).toBeUndefined();
    expect(after["g-two"]).toBe(1);
    await store.disconnect("stays-410-0001=");
    expect(await counts()).toEqual({});
  });

  it("300 throwaway rooms that empty leave no directory item, and listRooms reads only what it returns", async () => {
    const ids = Array.from({ length: 300 }, (_, i) => connectionId(`throw${i}`));
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids
          .slice(i, i + 50)
          .map((id, j) =>
            store.connect({ connectionId: id, name: `t${i + j}`, defaultRoom: `throwaway-${i + j}` }),
          ),
      );
    }
    await store.connect({ connectionId: "keeper-0000001=", name: "k", defaultRoom: "kept" });
    expect(Object.keys(await counts())).toHaveLength(301);
    for (let i = 0; i < ids.length; i += 50)
      await Promise.all(ids.slice(i, i + 50).map((id) => store.disconnect(id)));

    expect(await counts()).toEqual({ kept: 1 });
    const directory = await directoryItems(t);
    expect(directory).toHaveLength(1);
    expect(directory[0]).toMatchObject({ pk: `rooms#${roomShard("kept")}`, sk: "room#kept", members: 1 });

    const recorder = recordCommands(t.client, { consumedCapacity: true });
    expect(await store.listRooms()).toEqual([{ room: "kept", members: 1 }]);
    recorder.stop();
    const queries = recorder.of("QueryCommand");
    expect(recorder.names()).toEqual(Array(roomDirectoryShards).fill("QueryCommand"));
    expect(queries.reduce((sum, q) => sum + (q.count ?? 0), 0)).toBe(1);
    const rcu = queries.reduce((sum, q) => sum + (q.consumedCapacity ?? 0), 0);
    console.log(
      `listRooms after 300 throwaway rooms emptied: ${directory.length} directory item(s), ` +
        `${queries.length} Query (one per shard), ${rcu} RCU`,
    );
    await store.disconnect("keeper-0000001=");
    expect(await counts()).toEqual({});
    // 600 room changes, each counted by a transaction (its marker and the entry): slow on a loaded DynamoDB Local.
  }, 300_000);

  it("is one Query per directory shard", async () => {
    const recorder = recordCommands(t.client);
    await store.listRooms();
    recorder.stop();
    expect(recorder.names()).toEqual(Array(roomDirectoryShards).fill("QueryCommand"));
    const values = recorder.calls.flatMap((c) => Object.values(c.input.ExpressionAttributeValues as object));
    expect(values.filter((v) => String(v).startsWith("rooms#")).sort()).toEqual(
      Array.from({ length: roomDirectoryShards }, (_, s) => `rooms#${s}`),
    );
  });
});

describe("applyRoomChanges: the directory's only writer", () => {
  /** A membership change as the stream worker reads it: by default each sequence number is another member. */
  const change = (room: string, delta: number, sequenceNumber: string, member = `m${sequenceNumber}`) => ({
    room,
    connectionId: connectionId(member),
    delta,
    sequenceNumber,
  });
  const listed = async () => Object.fromEntries((await store.listRooms()).map((r) => [r.room, r.members]));
  /** Empties the rooms a test left members in, each with a change of its own. */
  const emptyRooms = async (...rooms: string[]) => {
    for (const room of rooms) {
      const { members } = (await store.roomInfo(room))!;
      await store.applyRoomChanges([change(room, -members, "99999", `${room}-reset`)]);
    }
  };

  it("a retried stream batch counts once", async () => {
    const batch = [change("retry-room", 1, "100"), change("retry-room", 1, "200"), change("other", 1, "300")];
    expect(await store.applyRoomChanges(batch)).toEqual(
      new Map([
        ["retry-room", 2],
        ["other", 1],
      ]),
    );
    // The same batch handed over again (Lambda retries a batch whose invocation failed).
    expect(await store.applyRoomChanges(batch)).toEqual(
      new Map([
        ["retry-room", 2],
        ["other", 1],
      ]),
    );
    // A retry from the middle (ReportBatchItemFailures) counts only what is new.
    expect(
      (await store.applyRoomChanges([batch[1], change("retry-room", -1, "1000", "m100")])).get("retry-room"),
    ).toBe(1);
    expect(await listed()).toMatchObject({ "retry-room": 1, other: 1 });
    await emptyRooms("retry-room", "other");
  });

  it("marks each counted record for longer than the stream keeps it, out of the stream worker's filter", async () => {
    await store.applyRoomChanges([change("marked", 1, "70"), change("marked", -1, "71", "m70")]);
    const markers = await rawPartition(t, "room#marked#counted");
    expect(markers.map((m) => m.sk).sort()).toEqual([
      `${connectionId("m70")}#70`,
      `${connectionId("m70")}#71`,
    ]);
    for (const marker of markers) {
      // The stream keeps a record 24 h: a replay within that time still finds its marker.
      expect(marker.ttl as number).toBeGreaterThan(Date.now() / 1000 + 24 * 60 * 60);
      // Neither its write nor its TTL deletion invokes the stream worker.
      const image = marshall(marker);
      expect(passesFilters({ dynamodb: { NewImage: image } }, streamFilterPatterns)).toBe(false);
      expect(passesFilters({ dynamodb: { OldImage: image } }, streamFilterPatterns)).toBe(false);
    }
  });

  it("changes from two shards count once each, whatever order their sequence numbers arrive in", async () => {
    // A hot room's partition split: its records come from two shards whose numbers are not ordered.
    await store.applyRoomChanges([change("split", 1, "5000"), change("split", 1, "5100")]);
    expect((await store.applyRoomChanges([change("split", 1, "300")])).get("split")).toBe(3);
    expect(
      (await store.applyRoomChanges([change("split", 1, "4000"), change("split", 1, "200")])).get("split"),
    ).toBe(5);
    expect(await listed()).toMatchObject({ split: 5 });
    await emptyRooms("split");
  });

  it("a dead-lettered change replayed after later ones counts once", async () => {
    await store.applyRoomChanges([change("replayed", 1, "100")]);
    // The batch holding 200 was given up on; the shard went on.
    await store.applyRoomChanges([change("replayed", 1, "300"), change("replayed", 1, "400")]);
    expect((await store.applyRoomChanges([change("replayed", 1, "200")])).get("replayed")).toBe(4);
    // Replayed again, and with a change counted long ago.
    expect(
      (await store.applyRoomChanges([change("replayed", 1, "200"), change("replayed", 1, "100")])).get(
        "replayed",
      ),
    ).toBe(4);
    expect(await listed()).toMatchObject({ replayed: 4 });
    await emptyRooms("replayed");
  });

  it("a leave read before its join never shows a negative count and ends right", async () => {
    await store.applyRoomChanges([change("early-leave", 1, "10", "stays")]);
    expect(
      (await store.applyRoomChanges([change("early-leave", -1, "900", "goes")])).get("early-leave"),
    ).toBe(0);
    await store.applyRoomChanges([change("early-leave", -1, "901", "goes-too")]);
    expect((await listed())["early-leave"]).toBeUndefined();
    expect(await store.roomInfo("early-leave")).toMatchObject({ members: 0 });
    expect(await store.applyRoomChanges([change("early-leave", 1, "800", "goes")])).toEqual(
      new Map([["early-leave", 0]]),
    );
    expect((await listed())["early-leave"]).toBeUndefined();
    await store.applyRoomChanges([change("early-leave", 1, "850", "goes-too")]);
    expect(await listed()).toMatchObject({ "early-leave": 1 });
    await emptyRooms("early-leave");
    expect((await directoryItems(t)).filter((i) => i.sk === "room#early-leave")).toEqual([]);
  });

  it("more changes of one room than a transaction holds count once each", async () => {
    const joins = Array.from({ length: 250 }, (_, i) => change("crowd", 1, String(1000 + i)));
    expect((await store.applyRoomChanges(joins)).get("crowd")).toBe(250);
    expect((await store.applyRoomChanges(joins.slice(100, 200))).get("crowd")).toBe(250);
    await emptyRooms("crowd");
  });

  it("deletes the entry when the count reaches 0", async () => {
    await store.applyRoomChanges([change("to-empty", 1, "10"), change("to-empty", 1, "11")]);
    expect(await store.roomInfo("to-empty")).toEqual({ members: 2 });
    expect(
      (
        await store.applyRoomChanges([
          change("to-empty", -1, "12", "m10"),
          change("to-empty", -1, "13", "m11"),
        ])
      ).get("to-empty"),
    ).toBe(0);
    expect(await store.roomInfo("to-empty")).toBeUndefined();
    expect((await directoryItems(t)).filter((i) => i.sk === "room#to-empty")).toEqual([]);
    // A join and its leave in one batch: no entry is written at all.
    expect(
      await store.applyRoomChanges([change("in-and-out", 1, "20"), change("in-and-out", -1, "21", "m20")]),
    ).toEqual(new Map([["in-and-out", 0]]));
    expect((await directoryItems(t)).filter((i) => i.sk === "room#in-and-out")).toEqual([]);
  });
});
