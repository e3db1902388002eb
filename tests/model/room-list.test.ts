import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { recordCommands, testClock } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  t = await freshTable("model-rooms");
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

const counts = async () => Object.fromEntries((await store.listRooms()).map((r) => [r.room, r.members]));

describe("room list with member counts (access pattern 4)", () => {
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
    await store.join(a, "games");
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
    expect(await store.listRooms()).toEqual([]);
  });

  it("concurrent joins and leaves keep an exact count", async () => {
    const conns = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.connect({
          connectionId: `conc-${String(i).padStart(10, "0")}=`,
          name: `n${i}`,
          defaultRoom: "home",
        }),
      ),
    );
    await Promise.all(conns.map((c) => store.join(c, "busy")));
    expect((await counts()).busy).toBe(20);
    await Promise.all(conns.slice(0, 7).map((c) => store.leave(c.connectionId, "busy")));
    expect((await counts()).busy).toBe(13);
    expect(await store.membersOf("busy")).toHaveLength(13);
  });

  it("is one Query on the rooms partition", async () => {
    const recorder = recordCommands(t.client);
    await store.listRooms();
    recorder.stop();
    expect(recorder.names()).toEqual(["QueryCommand"]);
    expect(Object.values(recorder.calls[0].input.ExpressionAttributeValues as object)).toContain("rooms");
  });
});

describe("counts heal when a connection expires without $disconnect", () => {
  it("the member lookup removes expired memberships and the count follows", async () => {
    const clock = testClock();
    const early = createChatStore(t.service, { now: clock.now, connectionTtlSeconds: 60 });
    await early.connect({ connectionId: "heal-gone-0001=", name: "gone", defaultRoom: "healing" });
    await early.connect({ connectionId: "heal-live-0001=", name: "live", defaultRoom: "healing" });
    // Only the first one's items expire: the second reconnects later with a fresh TTL.
    clock.advance(120_000);
    const later = createChatStore(t.service, { now: clock.now, connectionTtlSeconds: 60 });
    await later.disconnect("heal-live-0001=");
    await later.connect({ connectionId: "heal-live-0002=", name: "live", defaultRoom: "healing" });
    const before = (await later.listRooms()).find((r) => r.room === "healing");
    expect(before?.members).toBe(2); // the expired one still counted: DynamoDB has not deleted it

    const members = await later.membersOf("healing");
    expect(members.map((m) => m.name)).toEqual(["live"]);
    const after = (await later.listRooms()).find((r) => r.room === "healing");
    expect(after?.members).toBe(1);
    expect(await later.roomsOf("heal-gone-0001=")).toEqual([]);
  });
});
