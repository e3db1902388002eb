import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { connectionId, recordCommands } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  t = await freshTable("model-capacity");
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

/** Capacity units DynamoDB reports for one `membersOf(room)` (every Query it takes). */
async function memberLookupCapacity(room: string) {
  const recorder = recordCommands(t.client, { consumedCapacity: true });
  const members = await store.membersOf(room);
  recorder.stop();
  const queries = recorder.of("QueryCommand");
  expect(recorder.names().every((n) => n === "QueryCommand")).toBe(true);
  expect(queries.every((q) => typeof q.consumedCapacity === "number")).toBe(true);
  return {
    members: members.length,
    queries: queries.length,
    itemsRead: queries.reduce((sum, q) => sum + (q.count ?? 0), 0),
    capacity: queries.reduce((sum, q) => sum + (q.consumedCapacity ?? 0), 0),
  };
}

describe("broadcast cost (access pattern 1) does not depend on the rest of the table", () => {
  it("the member lookup of a 100-member room reads only that room's member items", async () => {
    const connect = (id: string, room: string) =>
      store.connect({ connectionId: id, name: `user-${id}`, defaultRoom: room });
    for (let i = 0; i < 100; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, j) => connect(connectionId(`main${i + j}`), "main-room")),
      );
    }
    const alone = await memberLookupCapacity("main-room");
    expect(alone).toMatchObject({ members: 100, queries: 1, itemsRead: 100 });

    // 50 other rooms with 20 members each, main-room's members in other rooms too, and messages everywhere.
    const { membership, message, room: roomEntity } = t.service.entities;
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const otherMemberships = [
      ...Array.from({ length: 50 * 20 }, (_, i) => ({
        room: `other-${i % 50}`,
        connectionId: connectionId(`o${i}`),
        name: `user-o${i}`,
        expiresAt,
      })),
      ...Array.from({ length: 100 }, (_, i) => ({
        room: `other-${i % 50}`,
        connectionId: connectionId(`main${i}`),
        name: `user-main${i}`,
        expiresAt,
      })),
    ];
    for (let i = 0; i < otherMemberships.length; i += 100) {
      expect((await membership.put(otherMemberships.slice(i, i + 100)).go()).unprocessed).toEqual([]);
    }
    await roomEntity.put(Array.from({ length: 50 }, (_, r) => ({ room: `other-${r}`, members: 22 }))).go();
    for (const room of ["main-room", ...Array.from({ length: 50 }, (_, r) => `other-${r}`)]) {
      await message
        .put(
          Array.from({ length: 20 }, (_, i) => ({
            room,
            id: `01J${room.padEnd(10, "0").slice(0, 10).toUpperCase()}${String(i).padStart(13, "0")}`,
            from: "someone",
            connectionId: connectionId(`main${i}`),
            text: `message ${i} `.repeat(20),
            sentAt: new Date().toISOString(),
          })),
        )
        .go();
    }
    expect((await store.listRooms()).length).toBe(51);

    const crowded = await memberLookupCapacity("main-room");
    expect(crowded).toEqual(alone);
    console.log(
      `membersOf(main-room), 100 members: ${crowded.queries} Query, ${crowded.itemsRead} items read, ` +
        `${crowded.capacity} RCU (eventually consistent) — alone in the table: ${alone.capacity} RCU; ` +
        `with 50 other rooms (1,100 more memberships) and 1,020 messages: ${crowded.capacity} RCU`,
    );
  }, 120_000); // ~2,300 writes first: generous under a loaded CI machine
});
