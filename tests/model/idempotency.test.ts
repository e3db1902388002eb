import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { rawPartition, testClock, storedMessages } from "./helpers";

let t: FreshTable;
let store: ChatStore;
const clock = testClock();
beforeAll(async () => {
  t = await freshTable("model-idempotency");
  store = createChatStore(t.service, { now: clock.now });
});
afterAll(() => t.drop());

type Sender = { session: string; from?: string; connectionId?: string };

const post = (
  room: string,
  sender: Sender | string,
  clientId: string | undefined,
  text = "hello",
  s = store,
) => {
  const {
    session,
    from = "someone",
    connectionId = "conn-0000000001=",
  } = typeof sender === "string" ? { session: `session:${sender}` } : sender;
  return s.post({ room, from, connectionId, session, text, clientId });
};

describe("message idempotency (clientId, per client session)", () => {
  it("a repeated clientId stores one message and returns the first", async () => {
    const first = await post("i-room", "alice", "cid-1", "hello");
    clock.advance(500);
    const again = await post("i-room", "alice", "cid-1", "hello (retry)");
    const third = await post("i-room", "alice", "cid-1", "hello (retry 2)");

    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(third.duplicate).toBe(true);
    expect(again.message).toEqual(first.message);
    expect(third.message.id).toBe(first.message.id);
    expect(first.message.clientId).toBe("cid-1");

    const stored = await storedMessages(t, "i-room");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ text: "hello", clientId: "cid-1" });
    expect(await rawPartition(t, "room#i-room#clientids")).toHaveLength(1);
    expect((await store.history("i-room", { limit: 10 })).messages).toHaveLength(1);
  });

  it("concurrent retries of one clientId still store one message", async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => post("i-race", "bob", "cid-race")));
    expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await storedMessages(t, "i-race")).toHaveLength(1);
  });

  it("a guest's resend after a reconnect (new connection id, new display name, same session) is stored once", async () => {
    const before = await post(
      "i-reconnect",
      { session: "session:guest-tab-1", from: "guest-4711", connectionId: "first-conn-0001=" },
      "cid-7",
    );
    const after = await post(
      "i-reconnect",
      { session: "session:guest-tab-1", from: "guest-0815", connectionId: "second-conn-001=" },
      "cid-7",
    );
    expect(after).toEqual({ message: before.message, duplicate: true });
    expect(await storedMessages(t, "i-reconnect")).toHaveLength(1);
  });

  it("two sessions with the same display name and the same clientId are two messages", async () => {
    const a = await post(
      "i-names",
      { session: "user:sub-1", from: "sam", connectionId: "sam-conn-00001=" },
      "1",
    );
    const b = await post(
      "i-names",
      { session: "user:sub-2", from: "sam", connectionId: "sam-conn-00002=" },
      "1",
    );
    expect(a.duplicate || b.duplicate).toBe(false);
    expect(a.message.id).not.toBe(b.message.id);
    expect((await storedMessages(t, "i-names")).map((m) => m.connectionId).sort()).toEqual([
      "sam-conn-00001=",
      "sam-conn-00002=",
    ]);
    expect(await rawPartition(t, "room#i-names#clientids")).toHaveLength(2);
  });

  it("the same clientId in two rooms is two messages", async () => {
    const a = await post("i-one", "carol", "cid-shared");
    const b = await post("i-two", "carol", "cid-shared");
    expect(a.duplicate || b.duplicate).toBe(false);
    expect(await storedMessages(t, "i-one")).toHaveLength(1);
    expect(await storedMessages(t, "i-two")).toHaveLength(1);
  });

  it("session ids are case-sensitive", async () => {
    await post("i-case", "connection:abcD=", "cid-1");
    const lower = await post("i-case", "connection:abcd=", "cid-1");
    expect(lower.duplicate).toBe(false);
    expect(await storedMessages(t, "i-case")).toHaveLength(2);
  });

  it("messages without a clientId are never deduplicated", async () => {
    await post("i-none", "fred", undefined, "same");
    await post("i-none", "fred", undefined, "same");
    expect(await storedMessages(t, "i-none")).toHaveLength(2);
    expect(await rawPartition(t, "room#i-none#clientids")).toHaveLength(0);
  });

  it("an expired clientId record is ignored, even before DynamoDB deletes it", async () => {
    const c = testClock();
    const shortMemory = createChatStore(t.service, { now: c.now, clientIdTtlSeconds: 60 });
    const first = await post("i-ttl", "gina", "cid-1", "first", shortMemory);
    c.advance(30_000);
    expect((await post("i-ttl", "gina", "cid-1", "retry", shortMemory)).duplicate).toBe(true);
    c.advance(31_000);
    const later = await post("i-ttl", "gina", "cid-1", "new", shortMemory);
    expect(later.duplicate).toBe(false);
    expect(later.message.id).not.toBe(first.message.id);
    expect((await storedMessages(t, "i-ttl")).map((m) => m.text)).toEqual(["first", "new"]);
    // And the record now remembers the new message.
    expect((await post("i-ttl", "gina", "cid-1", "retry", shortMemory)).message.id).toBe(later.message.id);
  });
});
