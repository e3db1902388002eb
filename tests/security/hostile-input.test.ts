import fc from "fast-check";
import type { WsClient } from "../support/events";
import { startChat, type Chat, type Frame } from "../handlers/harness";
import { hostileFrames } from "./hostile-frames";

const replyTypes = ["ack", "joined", "left", "rooms", "history", "members", "resumed", "error"];
const errorCodes = [
  "BAD_JSON",
  "UNKNOWN_ACTION",
  "INVALID",
  "NOT_A_MEMBER",
  "TOO_LARGE",
  "RATE_LIMITED",
  "BUSY",
];
/** Refusals one action may add: `dm` from a guest (mallory has no token subject) is FORBIDDEN. */
const errorCodesOf: Record<string, string[]> = { dm: ["FORBIDDEN"] };

let chat: Chat;
let mallory: WsClient;
let bystander: WsClient;
let victim: WsClient;
let tried = 0;
/** Frames between two liveness checks over an unchanged table (see `tryFrame`). */
const livenessEvery = 10;
/** The table's items after the last frame tried; undefined when something else may have written since. */
let snapshot: Awaited<ReturnType<Chat["items"]>> | undefined;
/** Mallory's rooms after the last frame tried; undefined as `snapshot` is. */
let malloryRooms: Set<string> | undefined;
beforeEach(() => {
  snapshot = undefined;
  malloryRooms = undefined;
});

beforeAll(async () => {
  chat = await startChat();
  mallory = await chat.connect({ name: "mallory" });
  bystander = await chat.connect({ name: "bystander" });
  victim = await chat.connect({ name: "victim", room: "secret" });
});
afterAll(async () => {
  console.log(`hostile input: ${tried} frames tried`);
  await chat.close();
});

type Item = Record<string, unknown>;
const keyOf = (item: Item) => `${item.pk}|${item.sk}`;

/** Items added, changed or removed between two snapshots. */
function changed(before: Item[], after: Item[]): Item[] {
  const old = new Map(before.map((i) => [keyOf(i), JSON.stringify(i)]));
  const now = new Map(after.map((i) => [keyOf(i), JSON.stringify(i)]));
  const touched = [...after.filter((i) => old.get(keyOf(i)) !== JSON.stringify(i))];
  for (const item of before) if (!now.has(keyOf(item))) touched.push(item);
  return touched;
}

/** The partitions a frame from mallory may legitimately write: its own and its rooms'. */
function allowedPartition(pk: string, rooms: Set<string>): boolean {
  if (pk === `conn#${mallory.connectionId}` || /^rooms#\d+$/.test(pk)) return true;
  if (rooms.has(pk)) return true; // a room's member partition is the bare room name
  // Its messages, their ids, clientIds and counted changes; and a message's delivery mark.
  const match =
    /^room#([A-Za-z0-9_-]{1,64})#(messages|ids|clientids|counted)$/.exec(pk) ??
    /^delivered#([A-Za-z0-9_-]{1,64})#\d+$/.exec(pk);
  return !!match && rooms.has(match[1]);
}

async function roomsOfMallory(): Promise<Set<string>> {
  return new Set((await chat.deps.store.getConnection(mallory.connectionId))?.rooms ?? []);
}

/**
 * Sends one frame and checks the promise for hostile input: a clear error or a
 * correct result, nothing written outside what the frame may touch, nothing
 * delivered to anyone who does not share a room, and the connection still works.
 */
async function tryFrame(body: string) {
  tried++;
  // The table and mallory's rooms as the last frame left them (the liveness check below only
  // reads): one scan and one read of mallory's connection a frame.
  const before = (snapshot ??= await chat.items());
  const roomsBefore = (malloryRooms ??= await roomsOfMallory());
  const posted = chat.api.posts.length;
  const result = await chat.run(mallory.messageEvent(body));
  expect(result.statusCode).toBe(200);
  const reply = JSON.parse(result.body!) as Frame;

  expect(replyTypes).toContain(reply.type);
  let after = await chat.items();
  // Only a write sets the stream and the queue off (a handler's own posts are done when it
  // returns): settle, and look again, after a frame that wrote; most frames write nothing.
  const wrote = changed(before, after).length > 0;
  if (wrote) {
    await chat.settle();
    after = await chat.items();
  }
  snapshot = after;
  const roomsAfter = (malloryRooms = wrote ? await roomsOfMallory() : roomsBefore);
  const touched = changed(before, after);
  const newPosts = chat.api.posts.slice(posted);
  if (reply.type === "error") {
    expect([...errorCodes, ...(errorCodesOf[reply.action as string] ?? [])]).toContain(reply.code);
    expect(typeof reply.message).toBe("string");
    expect((reply.message as string).length).toBeGreaterThan(0);
    expect(touched).toEqual([]);
    expect(newPosts).toEqual([]);
  } else {
    const rooms = new Set([...roomsBefore, ...roomsAfter]);
    for (const item of touched)
      expect([item.pk, allowedPartition(String(item.pk), rooms)]).toEqual([item.pk, true]);
    for (const post of newPosts) expect(post.connectionId).not.toBe(victim.connectionId);
  }
  expect(chat.api.framesTo(victim.connectionId)).toEqual([]);
  // Still works, and still knows mallory: a read of mallory's connection and rooms (no write, so
  // no settle). The handlers keep no state between invocations, so over an unchanged table the
  // answer is the one the last check got: ask again after a frame that wrote, and every
  // `livenessEvery` frames in case something outside the table (a client, a socket) broke.
  if (!wrote && tried % livenessEvery !== 0) return;
  const [room] = roomsAfter;
  const read = async (frame: object) =>
    JSON.parse((await chat.run(mallory.messageEvent(frame))).body!) as Frame;
  if (room) expect(await read({ action: "members", room })).toMatchObject({ type: "members", room });
  else expect(await read({ action: "history", room: "lobby" })).toMatchObject({ code: "NOT_A_MEMBER" });
}

test("every frame of the hostile corpus gets a clear error or a correct result, and leaks nothing", async () => {
  const corpus = hostileFrames();
  expect(corpus.length).toBeGreaterThanOrEqual(200);
  for (const body of corpus) {
    try {
      await tryFrame(body);
    } catch (error) {
      throw new Error(`frame ${JSON.stringify(body.slice(0, 120))}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}, 300_000);

test("random frames (fast-check) keep the same promises", async () => {
  const field = fc.oneof(
    fc.string(),
    fc.constantFrom("lobby", "secret", "dev", "#", "rooms", "__proto__"),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const frame = fc.oneof(
    fc
      .record(
        {
          action: fc.oneof(
            fc.constantFrom("sendmessage", "joinroom", "leaveroom", "listrooms", "history", "members"),
            fc.string(),
          ),
          room: field,
          message: field,
          before: field,
          limit: fc.oneof(fc.integer({ min: -5, max: 200 }), field),
          clientId: field,
        },
        { requiredKeys: ["action"] },
      )
      .map((f) => JSON.stringify(f)),
    fc.string({ unit: "binary" }),
  );
  await fc.assert(
    fc.asyncProperty(frame, async (body) => {
      // "secret" is victim's room: joining it is legitimate, so the property leaves it to the corpus.
      if (body.includes('"secret"')) return;
      await tryFrame(body);
    }),
    { numRuns: 150, seed: 20261125 },
  );
}, 300_000);

test("a seq from another room pages only the room asked for", async () => {
  // The random frames may have made mallory leave: rejoin (joins are idempotent).
  await chat.send(mallory, { action: "joinroom", room: "lobby" });
  await chat.send(mallory, { action: "joinroom", room: "dev" });
  for (const text of ["d1", "d2", "d3"])
    await chat.send(mallory, { action: "sendmessage", room: "dev", message: text });
  const page = await chat.send(mallory, { action: "history", room: "dev", limit: 1 });
  expect(typeof page.next).toBe("number");
  const lobby = await chat.send(mallory, { action: "history", room: "lobby", before: page.next });
  expect(lobby.type).toBe("history");
  for (const message of lobby.messages as Frame[]) expect(message.room).toBe("lobby");
});

test("the same clientId in two rooms is two messages, each delivered once in its own room", async () => {
  const other = await chat.connect({ name: "other", room: "dev" });
  await chat.send(mallory, { action: "joinroom", room: "lobby" });
  await chat.send(bystander, { action: "joinroom", room: "lobby" });
  chat.api.clearRecords();
  const inLobby = await chat.send(mallory, { action: "sendmessage", message: "one", clientId: "same-id" });
  const inDev = await chat.send(mallory, {
    action: "sendmessage",
    room: "dev",
    message: "two",
    clientId: "same-id",
  });
  const again = await chat.send(mallory, {
    action: "sendmessage",
    room: "dev",
    message: "two",
    clientId: "same-id",
  });
  expect(inLobby.id).not.toEqual(inDev.id);
  expect(again.id).toEqual(inDev.id);
  expect(
    chat.api.framesTo(bystander.connectionId).filter((f) => (f as Frame).type === "message"),
  ).toHaveLength(1);
  expect(chat.api.framesTo(other.connectionId).filter((f) => (f as Frame).type === "message")).toHaveLength(
    1,
  );
  expect(chat.api.framesTo(victim.connectionId)).toEqual([]);
});
