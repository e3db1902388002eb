import { createChatStore, roomShard, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { directoryItems, eventually, rawPartition, startStreamWorker } from "./helpers";

let t: FreshTable;
let store: ChatStore;
let worker: Awaited<ReturnType<typeof startStreamWorker>>;
beforeAll(async () => {
  t = await freshTable("model-ttl");
  // Real time, and connections that expire 3 s after they connect: DynamoDB Local's own
  // TTL process deletes them about a second later, through the table's stream.
  store = createChatStore(t.service, { connectionTtlSeconds: 3 });
  worker = await startStreamWorker(t, store);
});
afterAll(async () => {
  await worker.stop();
  await t.drop();
});

describe("counts after a lost $disconnect, once TTL deletes the connection", () => {
  it("the room leaves the list and its directory entry is deleted", async () => {
    const ids = ["ghost-conn-0001=", "ghost-conn-0002=", "ghost-conn-0003="];
    const connected = Date.now();
    const [first] = await Promise.all(
      ids.map((id) => store.connect({ connectionId: id, name: id, defaultRoom: "ghost" })),
    );
    await store.join(first, "ghost-two");
    await worker.settled();
    // The stream counted all three (read from the worker's own results: by the time
    // this line runs the entries may already be expiring).
    expect(worker.peak("ghost")).toBe(3);
    expect(worker.peak("ghost-two")).toBe(1);

    // No $disconnect ever comes. DynamoDB Local deletes the expired items itself.
    const gone = await eventually(
      async () =>
        (await rawPartition(t, "ghost")).length === 0 &&
        (await rawPartition(t, `conn#${ids[0]}`)).length === 0,
      30_000,
    );
    const ttlWait = Date.now() - connected;
    expect(gone).toBe(true);
    await worker.settled();
    expect((await store.listRooms()).map((r) => r.room)).not.toContain("ghost");
    expect(await store.roomInfo("ghost")).toBeUndefined();
    expect(await store.roomInfo("ghost-two")).toBeUndefined();
    expect((await directoryItems(t)).filter((i) => String(i.sk).startsWith("room#ghost"))).toEqual([]);
    expect(await rawPartition(t, `rooms#${roomShard("ghost")}`)).toEqual([]);
    expect(await rawPartition(t, "ghost-two")).toEqual([]);
    expect(worker.errors).toEqual([]);
    console.log(
      `TTL expiry (connectionTtlSeconds 3): items deleted by DynamoDB Local's TTL ${ttlWait} ms after connect; ` +
        `"ghost" counted 3, then left the list and the directory`,
    );
  }, 60_000);
});
