import { marshall } from "@aws-sdk/util-dynamodb";
import pLimit from "p-limit";
import { sliceRanges } from "../../model/slices";
import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { connectionId, randomConnectionId, rawPartition, recordCommands } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  // No stream: nothing here reads it, and DynamoDB Local would keep a record of each of the
  // 50,000-member room's writes, every later request paying for them.
  t = await freshTable("model-capacity", { stream: false });
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

/** Capacity units DynamoDB reports for one member lookup (every Query it takes). */
async function lookupCapacity(lookup: () => Promise<unknown[]>) {
  const recorder = recordCommands(t.client, { consumedCapacity: true });
  const started = performance.now();
  const members = await lookup();
  const ms = Math.round(performance.now() - started);
  recorder.stop();
  const queries = recorder.of("QueryCommand");
  expect(recorder.names().every((n) => n === "QueryCommand")).toBe(true);
  expect(queries.every((q) => typeof q.consumedCapacity === "number")).toBe(true);
  return {
    members: members.length,
    queries: queries.length,
    itemsRead: queries.reduce((sum, q) => sum + (q.count ?? 0), 0),
    capacity: queries.reduce((sum, q) => sum + (q.consumedCapacity ?? 0), 0),
    ms,
  };
}

/** DynamoDB's item size: attribute names plus values (numbers about 1 byte per 2 digits, plus 1). */
function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(marshall(item)).reduce((sum, [name, value]) => {
    const size =
      value.S !== undefined
        ? Buffer.byteLength(value.S)
        : value.BOOL !== undefined
          ? 1
          : Math.ceil(String(value.N).length / 2) + 1;
    return sum + Buffer.byteLength(name) + size;
  }, 0);
}

/** Batch writes in flight at once, over every concurrent caller. */
const writes = pLimit(8);

/** Writes memberships with BatchWriteItem (25 per request, 8 requests at a time). */
async function putMemberships(room: string, ids: readonly string[], expiresAt: number) {
  const { membership } = t.service.entities;
  const chunk = 500;
  await Promise.all(
    Array.from({ length: Math.ceil(ids.length / chunk) }, (_, c) =>
      writes(async () => {
        let items = ids.slice(c * chunk, (c + 1) * chunk).map((id, i) => ({
          room,
          connectionId: id,
          name: `user-${c * chunk + i}`,
          expiresAt,
        }));
        while (items.length > 0) items = (await membership.put(items).go()).unprocessed as typeof items;
      }),
    ),
  );
}

describe("broadcast cost (access pattern 1): at most 1.0 RCU per 100 members", () => {
  it("a membership item is about 60 bytes", async () => {
    await store.connect({ connectionId: "Kx1abcDEFghIJk0=", name: "alice-1234", defaultRoom: "lobby" });
    const [item] = await rawPartition(t, "lobby");
    expect(Object.keys(item).sort()).toEqual(["e", "n", "pk", "sk", "ttl", "v"]);
    const bytes = itemBytes(item);
    console.log(`one membership item (room "lobby", 16-char id, 10-char name): ${bytes} bytes`);
    expect(bytes).toBeLessThanOrEqual(80);
  });

  it("a verified user's membership adds the mark and the subject: about 100 bytes with a 36-character subject", async () => {
    const subject = "0b6f4c1e-5d2a-4e8b-9c3f-7a1d2e3f4a5b";
    await store.connect({
      connectionId: "Vx1abcDEFghIJk0=",
      name: "alice-1234",
      defaultRoom: "vroom",
      userId: subject,
    });
    const [item] = await rawPartition(t, "vroom");
    expect(item).toMatchObject({ u: true, s: subject });
    const bytes = itemBytes(item);
    console.log(
      `one verified membership item (room "vroom", 16-char id, 10-char name, 36-char subject): ${bytes} bytes`,
    );
    expect(bytes).toBeLessThanOrEqual(120);
  });

  it("the member lookup of a 100-member room is at most 1.0 RCU, whatever else the table holds", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => connectionId(`main${i}`));
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(
        ids
          .slice(i, i + 25)
          .map((id) =>
            store.connect({ connectionId: id, name: `user-${id.slice(0, 8)}`, defaultRoom: "main-room" }),
          ),
      );
    }
    const alone = await lookupCapacity(() => store.membersOf("main-room"));
    expect(alone).toMatchObject({ members: 100, queries: 1, itemsRead: 100 });
    expect(alone.capacity).toBeLessThanOrEqual(1.0);

    // 50 other rooms with 22 members each (main-room's members among them) and messages everywhere.
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    await Promise.all(
      Array.from({ length: 50 }, (_, r) =>
        putMemberships(
          `other-${r}`,
          [...Array.from({ length: 20 }, (_, i) => connectionId(`o${r}-${i}`)), ids[r], ids[r + 50]],
          expiresAt,
        ),
      ),
    );
    const { message } = t.service.entities;
    await Promise.all(
      ["main-room", ...Array.from({ length: 50 }, (_, r) => `other-${r}`)].map((room) =>
        writes(() =>
          message
            .put(
              Array.from({ length: 20 }, (_, i) => ({
                room,
                seq: i + 1,
                id: `01J${room.padEnd(10, "0").slice(0, 10).toUpperCase()}${String(i).padStart(13, "0")}`,
                from: "someone",
                connectionId: ids[i],
                text: `message ${i} `.repeat(20),
                sentAt: new Date().toISOString(),
              })),
            )
            .go(),
        ),
      ),
    );

    const crowded = await lookupCapacity(() => store.membersOf("main-room"));
    expect({ ...crowded, ms: 0 }).toEqual({ ...alone, ms: 0 });
    console.log(
      `membersOf(main-room), 100 members: ${crowded.queries} Query, ${crowded.itemsRead} items read, ` +
        `${crowded.capacity} RCU (eventually consistent) — alone in the table: ${alone.capacity} RCU; ` +
        `beside 50 other rooms (1,100 memberships) and 1,020 messages: ${crowded.capacity} RCU`,
    );
  }, 120_000);

  it("a 50,000-member room is read for at most 500 RCU, its 16 slices in parallel", async () => {
    const ids = new Set<string>();
    while (ids.size < 50_000) ids.add(randomConnectionId());
    const writeStarted = performance.now();
    await putMemberships("stadium", [...ids], Math.floor(Date.now() / 1000) + 3600);
    const writeMs = Math.round(performance.now() - writeStarted);

    const ranges = sliceRanges(16);
    let perSlice: Awaited<ReturnType<ChatStore["membersOf"]>>[] = [];
    const sliced = await lookupCapacity(async () =>
      (perSlice = await Promise.all(ranges.map((slice) => store.membersOf("stadium", { slice })))).flat(),
    );
    expect(sliced.members).toBe(50_000);
    expect(sliced.itemsRead).toBe(50_000);
    expect(sliced.capacity).toBeLessThanOrEqual(500);
    // Every member in exactly one slice (the slices just measured, not a second read).
    const seen = perSlice.flat().map((m) => m.connectionId);
    expect(new Set(seen).size).toBe(50_000);

    const whole = await lookupCapacity(() => store.membersOf("stadium"));
    expect(whole.members).toBe(50_000);
    console.log(
      `50,000-member room: written in ${writeMs} ms (BatchWriteItem, 8 at a time); ` +
        `read by 16 slices in parallel: ${sliced.queries} Query, ${sliced.capacity} RCU, ${sliced.ms} ms; ` +
        `read whole: ${whole.queries} sequential Query pages, ${whole.capacity} RCU, ${whole.ms} ms; ` +
        `slice sizes ${perSlice.map((s) => s.length).join("/")}`,
    );
  }, 600_000);
});
