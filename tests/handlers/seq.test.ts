import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import { maxFrameBytes } from "../../handlers/reply-size";
import type { WsClient } from "../support/events";
import { recordCommands } from "../model/helpers";
import { startChat, type Chat, type Frame } from "./harness";

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

type Item = { seq: number; text: string };
const items = (list: unknown) => list as Item[];
const texts = (list: unknown) => items(list).map((m) => m.text);
const seqs = (list: unknown) => items(list).map((m) => m.seq);
/** The biggest legal message: 4,096 emoji, 16 KB of UTF-8. */
const bigText = (label: string) => label + "😀".repeat(4096 - label.length);

async function post(sender: WsClient, room: string, count: number, text = (i: number) => `m${i}`) {
  const acks: Frame[] = [];
  for (let i = 1; i <= count; i++)
    acks.push(await chat.send(sender, { action: "sendmessage", room, message: text(i) }));
  return acks;
}

/** The store and deps over a DynamoDB client of the test's own, whose commands a recorder can see. */
function ownDeps(options: Parameters<typeof createChatStore>[1] = {}) {
  const client = createDynamoClient(chat.table.endpoint);
  const store = createChatStore(
    createChatService(createDocumentClient(client), chat.table.tableName),
    options,
  );
  return { client, store, deps: { ...chat.deps, store } };
}

describe("seq", () => {
  test("acks, message frames and history carry the room's seq; a resend re-acks the first id and seq", async () => {
    const ann = await chat.connect({ name: "ann", room: "numbered", session: "ann-session-000001" });
    const ben = await chat.connect({ name: "ben", room: "numbered" });
    chat.api.clearRecords();
    const first = await chat.send(ann, { action: "sendmessage", message: "one", clientId: "c-1" });
    const second = await chat.send(ann, { action: "sendmessage", message: "two", clientId: "c-2" });
    const resent = await chat.send(ann, { action: "sendmessage", message: "one", clientId: "c-1" });

    expect(first).toEqual({
      type: "ack",
      room: "numbered",
      id: expect.stringMatching(/^[0-9A-Z]{26}$/),
      seq: 1,
      clientId: "c-1",
      sentAt: expect.any(String),
    });
    expect(second).toMatchObject({ seq: 2, clientId: "c-2" });
    expect(resent).toEqual(first);
    expect(chat.api.framesTo(ben.connectionId)).toEqual([
      expect.objectContaining({ type: "message", seq: 1, id: first.id, text: "one" }),
      expect.objectContaining({ type: "message", seq: 2, id: second.id, text: "two" }),
    ]);
    const history = await chat.send(ben, { action: "history", room: "numbered" });
    expect(seqs(history.messages)).toEqual([1, 2]);
  });

  test("joinroom with `after` returns what came after it, and the room's latest seq", async () => {
    const cy = await chat.connect({ name: "cy", room: "catch-up" });
    await post(cy, "catch-up", 5);
    const di = await chat.connect({ name: "di", room: "elsewhere" });

    const joined = await chat.send(di, { action: "joinroom", room: "catch-up", after: 3 });
    expect(joined).toMatchObject({ type: "joined", room: "catch-up", members: 2, next: null, seq: 5 });
    expect(texts(joined.history)).toEqual(["m4", "m5"]);
    const empty = await chat.send(di, { action: "joinroom", room: "empty-room" });
    expect(empty).toMatchObject({ history: [], next: null, seq: 0 });
  });

  /** Deps whose store's first message write finds another container's send just landed in `room`. */
  function racedOnce(room: string, sender: WsClient, options: Parameters<typeof createChatStore>[1]) {
    const { client, deps } = ownDeps(options);
    const other = ownDeps();
    let raced = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        // The message's conditional put is the send's first write.
        if (context.commandName === "PutItemCommand" && !raced) {
          raced = true;
          await other.deps.store.post({
            room,
            from: "eve",
            connectionId: sender.connectionId,
            session: `connection:${sender.connectionId}`,
            text: "the other container's",
          });
        }
        return next(args);
      },
      { step: "initialize", name: "race" },
    );
    return deps;
  }

  test("a send whose seq another took is stored again under the next, and the conflict is counted", async () => {
    const eve = await chat.connect({ name: "eve", room: "raced" });
    await post(eve, "raced", 1);
    let conflicts = 0;
    const deps = racedOnce("raced", eve, { onConflict: () => conflicts++ });
    const reply = await chat.run(eve.messageEvent({ action: "sendmessage", message: "mine" }), deps);
    expect(JSON.parse(reply.body!)).toMatchObject({ type: "ack", room: "raced", seq: 3 });
    expect(conflicts).toBe(1);
    const history = await chat.send(eve, { action: "history", room: "raced" });
    expect(texts(history.messages)).toEqual(["m1", "the other container's", "mine"]);
  });

  test("BUSY when concurrent sends keep taking the room's next seq; nothing is stored for it", async () => {
    const eve = await chat.connect({ name: "eve", room: "contended" });
    await post(eve, "contended", 1);
    // One attempt, and another container's send lands between its read of the seq and its write.
    const deps = racedOnce("contended", eve, { conflictAttempts: 1 });
    const reply = await chat.run(eve.messageEvent({ action: "sendmessage", message: "mine" }), deps);
    expect(JSON.parse(reply.body!)).toEqual({
      type: "error",
      code: "BUSY",
      message: "room: too many messages to contended at once; retry in a moment",
      action: "sendmessage",
    });
    await chat.settle();
    const history = await chat.send(eve, { action: "history", room: "contended" });
    expect(texts(history.messages)).toEqual(["m1", "the other container's"]);
    expect(seqs(history.messages)).toEqual([1, 2]);
  });
});

describe("history reads are bounded by the reply", () => {
  test("a page of 16 KB messages reads about what it returns (issue: 7 returned for 204.5 RCU)", async () => {
    const fay = await chat.connect({ name: "fay", room: "big-messages" });
    await post(fay, "big-messages", 30, (i) => bigText(`b${i}`));
    const { client, deps } = ownDeps();
    const recorder = recordCommands(client, { consumedCapacity: true });
    const reply = JSON.parse(
      (await chat.run(fay.messageEvent({ action: "history", room: "big-messages", limit: 100 }), deps)).body!,
    ) as Frame;
    recorder.stop();

    const bytes = Buffer.byteLength(JSON.stringify(reply));
    const shown = items(reply.messages).length;
    const queries = recorder.of("QueryCommand");
    const itemsRead = queries.reduce((sum, q) => sum + (q.count ?? 0), 0);
    const units = queries.reduce((sum, q) => sum + (q.consumedCapacity ?? 0), 0);
    console.log(`history of 16 KB messages: ${shown} shown (${bytes} B), ${itemsRead} read, ${units} RCU`);
    expect(bytes).toBeLessThanOrEqual(maxFrameBytes);
    expect(shown).toBeGreaterThanOrEqual(7);
    expect(reply.next).toBe(items(reply.messages)[0].seq);
    // At most the page plus one small read: not 101 items whatever their size.
    expect(itemsRead).toBeLessThanOrEqual(shown + 3);
    expect(units).toBeLessThanOrEqual(25);
  });
});

describe("resume", () => {
  test("rejoins every listed room with what came after its seq, oldest first", async () => {
    const gus = await chat.connect({ name: "gus", room: "r-one" });
    await chat.send(gus, { action: "joinroom", room: "r-two" });
    await post(gus, "r-one", 4);
    await post(gus, "r-two", 2);
    // The same user on a new connection (a reconnect): only its default room so far.
    const again = await chat.connect({ name: "gus", room: "r-home" });

    const reply = await chat.send(again, {
      action: "resume",
      rooms: [
        { room: "r-one", after: 2 },
        { room: "r-two", after: 0 },
        { room: "r-new", after: 0 },
      ],
    });
    expect(reply).toEqual({
      type: "resumed",
      rooms: [
        { room: "r-one", members: 2, seq: 4, history: expect.any(Array), next: null },
        { room: "r-two", members: 2, seq: 2, history: expect.any(Array), next: null },
        { room: "r-new", members: 1, seq: 0, history: [], next: null },
      ],
      failed: [],
    });
    const [one, two] = reply.rooms as { history: unknown }[];
    expect(texts(one.history)).toEqual(["m3", "m4"]);
    expect(seqs(two.history)).toEqual([1, 2]);
    // Resuming is joining: idempotent, and the connection is now a member of each.
    expect(await chat.send(again, { action: "resume", rooms: [{ room: "r-one", after: 4 }] })).toEqual({
      type: "resumed",
      rooms: [{ room: "r-one", members: 2, seq: 4, history: [], next: null }],
      failed: [],
    });
    expect(await chat.send(again, { action: "history", room: "r-two", after: 1 })).toMatchObject({
      messages: [expect.objectContaining({ seq: 2 })],
    });
  });

  test("rooms share one reply's bytes: a backlog that does not fit gets `next`, continued with history after", async () => {
    const hal = await chat.connect({ name: "hal", room: "backlog-a" });
    await chat.send(hal, { action: "joinroom", room: "backlog-b" });
    await post(hal, "backlog-a", 6, (i) => bigText(`a${i}`));
    await post(hal, "backlog-b", 4, (i) => bigText(`b${i}`));
    const again = await chat.connect({ name: "hal", room: "backlog-home" });

    const reply = await chat.send(again, {
      action: "resume",
      rooms: [
        { room: "backlog-a", after: 0 },
        { room: "backlog-b", after: 1 },
      ],
    });
    expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(maxFrameBytes);
    const [a, b] = reply.rooms as { room: string; history: unknown; next: number | null; seq: number }[];
    expect(a).toMatchObject({ room: "backlog-a", seq: 6, next: null });
    expect(seqs(a.history)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.seq).toBe(4);
    expect(b.next).not.toBeNull();
    // What did not fit comes with history … after, from `next` on.
    const rest = await chat.send(again, { action: "history", room: "backlog-b", after: b.next });
    expect([...seqs(b.history), ...seqs(rest.messages)]).toEqual([2, 3, 4]);
    expect(rest.next).toBeNull();
  });

  test("a room past the connection's room limit is in `failed`; the others resume", async () => {
    const ida = await chat.connect({ name: "ida", room: "limit-home" });
    const rooms = Array.from({ length: 20 }, (_, i) => ({ room: `limit-${i + 1}`, after: 0 }));
    const reply = await chat.send(ida, { action: "resume", rooms });
    expect((reply.rooms as unknown[]).length).toBe(19);
    expect(reply.failed).toEqual([
      { room: "limit-20", code: "INVALID", message: "room: a connection can be in at most 20 rooms" },
    ]);
  });

  test.each([
    [{}, "rooms: is required"],
    [{ rooms: [] }, "rooms: must list at least one room"],
    [{ rooms: "lobby" }, "rooms: must be a list of {room, after}"],
    [{ rooms: [{ room: "lobby" }] }, "rooms.0.after: is required"],
    [{ rooms: [{ room: "lobby", after: -1 }] }, "after: must be at least 0"],
    [
      { rooms: [{ room: "no spaces", after: 0 }] },
      "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -",
    ],
    [
      {
        rooms: [
          { room: "lobby", after: 0 },
          { room: "lobby", after: 3 },
        ],
      },
      "rooms: each room at most once",
    ],
    [
      { rooms: Array.from({ length: 21 }, (_, i) => ({ room: `r${i}`, after: 0 })) },
      "rooms: at most 20 (the rooms a connection may be in)",
    ],
  ])("INVALID %j: nothing written", async (fields, message) => {
    const jo = await chat.connect({ name: "jo", room: "resume-invalid" });
    const reply = await chat.expectRejected(jo, { action: "resume", ...fields }, "INVALID");
    expect(reply).toEqual({ type: "error", code: "INVALID", message, action: "resume" });
  });
});

describe("a join racing a send", () => {
  test("the joiner gets the message in its joined history or as a push, every time", async () => {
    const { client, deps } = ownDeps();
    const recorder = recordCommands(client);
    const kim = await chat.connect({ name: "kim", room: "race-home" });
    for (let round = 0; round < 8; round++) {
      const room = `race-${round}`;
      const sender = await chat.connect({ name: "lou", room });
      chat.api.clearRecords();
      const [joined] = await Promise.all([
        chat.run(kim.messageEvent({ action: "joinroom", room }), deps),
        chat.run(sender.messageEvent({ action: "sendmessage", message: `race ${round}` })),
      ]);
      await chat.settle();
      const inHistory = texts((JSON.parse(joined.body!) as Frame).history).includes(`race ${round}`);
      const pushed = chat.api.framesTo(kim.connectionId).some((f) => (f as Frame).type === "message");
      expect(inHistory || pushed).toBe(true);
    }
    recorder.stop();
    // The join's reads of the room's seq and history are strongly consistent.
    const reads = recorder.calls.filter((c) => c.command === "QueryCommand" || c.command === "GetCommand");
    const ofMessages = reads.filter((c) => JSON.stringify(c.input).includes("#messages"));
    expect(ofMessages.length).toBeGreaterThan(0);
    expect(ofMessages.every((c) => c.input.ConsistentRead === true)).toBe(true);
  });
});

describe("the room's head", () => {
  afterEach(() => chat.api.holdPosts(0));

  test("moves up while a post that gets no answer still holds the fast path, so the room's next send need not race for its number", async () => {
    const alice = await chat.connect({ name: "alice", room: "straggler" });
    await chat.connect({ name: "bob", room: "straggler" });
    // Bob does not read: his post goes unanswered until the fast path's cap, here 10 s.
    chat.api.holdPosts(1000);
    const using = { ...chat.deps, config: { ...chat.deps.config, fastPathTimeoutMs: 10_000 } };
    let answered = false;
    const sending = chat
      .run(alice.messageEvent({ action: "sendmessage", room: "straggler", message: "m1" }), using)
      .finally(() => (answered = true));
    const { roomHead } = chat.table.service.entities;
    let head = 0;
    while (head < 1 && !answered) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      head = (await roomHead.get({ room: "straggler" }).go({ consistent: true })).data?.seq ?? 0;
    }
    expect({ head, answered }).toEqual({ head: 1, answered: false });
    chat.api.holdPosts(0);
    expect(JSON.parse((await sending).body!)).toMatchObject({ type: "ack", seq: 1 });
    await chat.settle();
  });
});
