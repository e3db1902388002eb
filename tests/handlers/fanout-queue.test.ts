import type { WsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

// Rooms above INLINE_FANOUT_MAX go through the FIFO queue: slices, order, and the faults
// after the store that the stream and the queue must absorb without losing a message.
let chat: Chat;
beforeAll(async () => {
  chat = await startChat({ inlineFanoutMax: "1", connectGraceSeconds: "0", recipientGiveUpSeconds: "2" });
});
afterAll(() => chat.close());

/** `count` members of `room`, connected through `$connect`, with their join announcements done. */
async function seed(room: string, count: number, on: Chat = chat): Promise<WsClient[]> {
  const clients: WsClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await on.connect({ name: `${room}-${i}`, room }));
  await on.settle();
  on.api.clearRecords();
  return clients;
}

const idsTo = (client: WsClient) =>
  chat.api
    .framesTo(client.connectionId)
    .filter((f) => (f as { type?: string }).type === "message")
    .map((f) => (f as { id: string }).id);

/** Each id once, in the order it first arrived: delivery is at least once, so a repeat may follow. */
const firstArrivals = (ids: string[]) => [...new Set(ids)];

test("25 messages sent in sequence reach every member in stored order; a repeat only after a logged fault", async () => {
  const [sender, ...others] = await seed("ordered", 20);
  const acks: string[] = [];
  for (let i = 0; i < 25; i++) {
    const result = await chat.run(sender.messageEvent({ action: "sendmessage", message: `m${i}` }));
    acks.push((JSON.parse(result.body!) as { id: string }).id);
  }
  await chat.settle();

  expect([...acks].sort()).toEqual(acks);
  let repeats = 0;
  for (const member of others) {
    const ids = idsTo(member);
    expect(firstArrivals(ids)).toEqual(acks);
    repeats += ids.length - new Set(ids).size;
  }
  const faults = chat.logs().filter((line) => line.level !== "info");
  console.log(`ordered fan-out: ${repeats} repeats, ${faults.length} logged faults`);
  if (repeats) expect(faults).not.toEqual([]);
  expect(idsTo(sender)).toEqual([]);
  expect(await chat.deps.store.roomInfo("ordered")).toEqual({ members: 20 });
});

test("a crash in the sender's request after the store: the stream's safety net delivers the message", async () => {
  const [sender, ...others] = await seed("crash-after-store", 2);
  const { store } = chat.deps;
  const smallRoomMembers = store.smallRoomMembers;
  let crashes = 1;
  store.smallRoomMembers = async (room, max) => {
    if (room === "crash-after-store" && crashes-- > 0) throw new Error("injected crash after the store");
    return smallRoomMembers(room, max);
  };
  const logged = chat.logs().length;
  try {
    const ack = await chat.send(sender, { action: "sendmessage", message: "survives" });
    expect(crashes).toBeLessThan(0);
    for (const member of others) expect(idsTo(member)).toEqual([ack.id]);
    const lines = chat.logs().slice(logged);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "fast path failed: the safety net delivers the message",
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "safety net delivered a message its fast path did not settle",
        seq: ack.seq,
      }),
    );
  } finally {
    store.smallRoomMembers = smallRoomMembers;
  }
});

test("a recipient failing in a slice gets a retry job of its own: the slice is not handed over again", async () => {
  const [sender, flaky, ...others] = await seed("worker-fails", 5);
  // Every attempt of the slice's post fails for this member; its own retry then delivers.
  chat.api.failNext(flaky.connectionId, 500, chat.deps.config.postMaxAttempts);

  const ack = await chat.send(sender, { action: "sendmessage", message: "again" });

  expect(idsTo(flaky)).toEqual([ack.id]);
  for (const member of others) expect(idsTo(member)).toEqual([ack.id]);
  expect(chat.logs().filter((l) => l.msg === "delivery job failed")).toEqual([]);
});

test("a recipient that fails for good in a slice is disconnected; nothing goes to the dead-letter queue", async () => {
  const [sender, poisoned, ...others] = await seed("poison", 12);
  chat.api.failNext(poisoned.connectionId, 500, Infinity);

  const ack = await chat.send(sender, { action: "sendmessage", message: "poisoned" });

  expect(idsTo(poisoned)).toEqual([]);
  for (const member of others) expect(idsTo(member)).toEqual([ack.id]);
  expect(chat.api.deleted).toContain(poisoned.connectionId);
  expect((await chat.events.receiveDeadLetters("fanout")).Messages ?? []).toEqual([]);
  chat.api.failNext(poisoned.connectionId, 500, 0);
});

describe("a slice larger than one invocation can post to", () => {
  let slow: Chat;
  beforeAll(async () => {
    // One slice, posted at 10 a second per worker (40 shared by 4), by a function that times out
    // after 2 s (the local mapping ends the invocation then, as Lambda does): 29 posts take 2.9 s.
    slow = await startChat({
      inlineFanoutMax: "1",
      fanoutSlices: "1",
      maxPostsPerSecond: "40",
      fanoutMaxConcurrency: "4",
      fanoutTimeoutSeconds: "2",
    });
  });
  afterAll(() => slow.close());

  test("goes on in jobs of its own, each within half the timeout: every member gets the message once", async () => {
    const [sender, ...others] = await seed("arena", 30, slow);
    const logged = slow.logs().length;

    const result = await slow.run(sender.messageEvent({ action: "sendmessage", message: "kick-off" }));
    const { id } = JSON.parse(result.body!) as { id: string };
    await slow.settle();

    for (const member of others) {
      expect(slow.api.framesTo(member.connectionId)).toEqual([expect.objectContaining({ id })]);
    }
    const lines = slow.logs().slice(logged);
    expect(lines.filter((l) => l.msg === "slice goes on in a job of its own").length).toBeGreaterThanOrEqual(
      2,
    );
    // No invocation timed out, nothing failed. On a loaded machine a post may still be running
    // at the slice's deadline: it ends "out of time" and is retried on its own (each member
    // still got the message once, above); no other warning is expected.
    const outOfTime = (l: (typeof lines)[number]) =>
      (l.msg === "post failed" && /out of time/.test(String((l.error as { message?: string })?.message))) ||
      l.msg === "posts failed";
    expect(lines.filter((l) => l.level === "error" || (l.level === "warn" && !outOfTime(l)))).toEqual([]);
    expect((await slow.events.receiveDeadLetters("fanout")).Messages ?? []).toEqual([]);
  });
});
