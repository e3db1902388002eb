import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { rawPartition, recordCommands, testClock, storedMessages } from "./helpers";

let t: FreshTable;
let store: ChatStore;
const clock = testClock();
beforeAll(async () => {
  t = await freshTable("model-history");
  store = createChatStore(t.service, { now: clock.now });
});
afterAll(() => t.drop());

async function postMany(room: string, count: number, label = "m") {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    clock.advance(1000);
    const { message } = await store.post({
      room,
      from: "alice",
      connectionId: "hist-conn-00001=",
      session: "connection:hist-conn-00001=",
      text: `${label}${i}`,
    });
    ids.push(message.id);
  }
  return ids;
}

describe("history (access pattern 3: by seq, newest first or after a seq)", () => {
  it("returns the newest messages first", async () => {
    await postMany("h-basic", 5);
    const page = await store.history("h-basic", { limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual(["m4", "m3", "m2", "m1", "m0"]);
    expect(page.next).toBeNull();
    expect(page.messages[0]).toMatchObject({ room: "h-basic", from: "alice" });
    expect(Date.parse(page.messages[0].sentAt)).toBe(clock.now());
  });

  it("pages through the whole history with the cursor: no overlaps, no gaps", async () => {
    const ids = await postMany("h-paged", 53);
    const seen: string[] = [];
    let before: number | undefined;
    let pages = 0;
    const recorder = recordCommands(t.client);
    for (;;) {
      const page = await store.history("h-paged", { before, limit: 10 });
      pages++;
      seen.push(...page.messages.map((m) => m.id));
      if (!page.next) break;
      expect(page.messages).toHaveLength(10);
      expect(page.next).toBe(page.messages[page.messages.length - 1].seq);
      before = page.next;
    }
    recorder.stop();
    expect(pages).toBe(6);
    expect(seen).toEqual([...ids].reverse());
    // Each page is one Query on the room's message partition, newest first.
    const queries = recorder.of("QueryCommand");
    expect(queries).toHaveLength(6);
    expect(recorder.names().every((n) => n === "QueryCommand")).toBe(true);
    for (const q of queries) {
      expect(q.input.ScanIndexForward).toBe(false);
      expect(q.input.Limit).toBe(11); // a page reads its 10 messages plus one to know if there is more
      expect(Object.values(q.input.ExpressionAttributeValues as object)).toContain("room#h-paged#messages");
    }
  });

  it("a page exactly the size of the remaining history has no next cursor", async () => {
    await postMany("h-exact", 20);
    const first = await store.history("h-exact", { limit: 10 });
    expect(first.next).not.toBeNull();
    const second = await store.history("h-exact", { before: first.next!, limit: 10 });
    expect(second.messages).toHaveLength(10);
    expect(second.next).toBeNull();
  });

  it("numbers each room's messages 1, 2, 3, … and reads what came after a seq, oldest first", async () => {
    await postMany("h-after", 12);
    await postMany("h-other", 2);
    const page = await store.history("h-after", { after: 4, limit: 5 });
    expect(page.messages.map((m) => m.seq)).toEqual([5, 6, 7, 8, 9]);
    expect(page.messages.map((m) => m.text)).toEqual(["m4", "m5", "m6", "m7", "m8"]);
    expect(page.next).toBe(9);
    const rest = await store.history("h-after", { after: page.next!, limit: 5 });
    expect(rest.messages.map((m) => m.seq)).toEqual([10, 11, 12]);
    expect(rest.next).toBeNull();
    expect(await store.lastSeq("h-after")).toBe(12);
    expect(await store.lastSeq("h-other")).toBe(2);
    expect(await store.lastSeq("h-nothing-yet")).toBe(0);
  });

  it("messages posted in the same millisecond keep their order", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { message } = await store.post({
        room: "h-burst",
        from: "b",
        connectionId: "c",
        session: "connection:c",
        text: `b${i}`,
      });
      ids.push(message.id);
    }
    expect(new Set(ids).size).toBe(5);
    expect((await store.history("h-burst", { limit: 5 })).messages.map((m) => m.text)).toEqual([
      "b4",
      "b3",
      "b2",
      "b1",
      "b0",
    ]);
  });

  it("an empty room has an empty history", async () => {
    expect(await store.history("h-empty", { limit: 20 })).toEqual({ messages: [], next: null });
  });

  it("messages of a room never mix with another room's, nor with its members", async () => {
    await postMany("h-a", 3, "a");
    await postMany("h-b", 3, "b");
    await store.connect({ connectionId: "hist-member-001=", name: "mem", defaultRoom: "h-a" });
    const a = await store.history("h-a", { limit: 50 });
    expect(a.messages.map((m) => m.text)).toEqual(["a2", "a1", "a0"]);
    expect((await storedMessages(t, "h-a")).every((i) => i.e === "message")).toBe(true);
    expect((await rawPartition(t, "h-a")).map((i) => i.e)).toEqual(["membership"]);
  });

  it("reads ignore expired messages (retention) even before DynamoDB deletes them", async () => {
    const retentionClock = testClock(Date.UTC(2031, 0, 1));
    const retained = createChatStore(t.service, { now: retentionClock.now, messageTtlSeconds: 1000 });
    for (let i = 0; i < 30; i++) {
      retentionClock.advance(10_000); // one message every 10 s
      await retained.post({
        room: "h-ttl",
        from: "r",
        connectionId: "c",
        session: "connection:c",
        text: `t${i}`,
      });
    }
    expect((await retained.history("h-ttl", { limit: 100 })).messages).toHaveLength(30);

    // 915 s after the last message only those sent in its last 85 s are live: t21..t29.
    const reader = createChatStore(t.service, { now: () => retentionClock.now() + 915_000 });
    const all = await reader.history("h-ttl", { limit: 100 });
    expect(all.messages.map((m) => m.text)).toEqual(Array.from({ length: 9 }, (_, i) => `t${29 - i}`));
    expect(all.next).toBeNull();
    const page1 = await reader.history("h-ttl", { limit: 5 });
    expect(page1.messages.map((m) => m.text)).toEqual(["t29", "t28", "t27", "t26", "t25"]);
    const page2 = await reader.history("h-ttl", { before: page1.next!, limit: 5 });
    expect(page2.messages.map((m) => m.text)).toEqual(["t24", "t23", "t22", "t21"]);
    expect(page2.next).toBeNull();
    // Much later everything has expired: an empty page, not an error.
    const muchLater = createChatStore(t.service, { now: () => retentionClock.now() + 10_000_000 });
    expect(await muchLater.history("h-ttl", { limit: 5 })).toEqual({ messages: [], next: null });
    expect(await storedMessages(t, "h-ttl")).toHaveLength(30);
  });

  it("messages without retention carry no expiry", async () => {
    await postMany("h-forever", 1);
    const [item] = await storedMessages(t, "h-forever");
    expect(item.ttl).toBeUndefined();
  });
});
