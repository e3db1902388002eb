import type { WsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

// Rooms above INLINE_FANOUT_MAX go through the FIFO queue: slices, order, and the faults
// after the store that the stream and the queue must absorb without losing a message.
let chat: Chat;
beforeAll(async () => {
  chat = await startChat({ inlineFanoutMax: "2", connectGraceSeconds: "0" });
});
afterAll(() => chat.close());

/** `count` members of `room`, connected through `$connect`, with their join announcements done. */
async function seed(room: string, count: number): Promise<WsClient[]> {
  const clients: WsClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await chat.connect({ name: `${room}-${i}`, room }));
  await chat.settle();
  chat.api.clearRecords();
  return clients;
}

const idsTo = (client: WsClient) =>
  chat.api
    .framesTo(client.connectionId)
    .filter((f) => (f as { type?: string }).type === "message")
    .map((f) => (f as { id: string }).id);

/** Each id once, in the order it first arrived: delivery is at least once, so a repeat may follow. */
const firstArrivals = (ids: string[]) => [...new Set(ids)];

test("50 messages sent in sequence reach every member in stored order; a repeat only after a logged fault", async () => {
  const [sender, ...others] = await seed("ordered", 20);
  const acks: string[] = [];
  for (let i = 0; i < 50; i++) {
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
  expect(await chat.deps.store.roomInfo("ordered")).toMatchObject({ members: 20, queued: true });
});

test("a crash in the stream worker before the fan-out: the stream hands the message over again", async () => {
  const [sender, ...others] = await seed("crash-before", 5);
  const { store } = chat.deps;
  const roomInfo = store.roomInfo;
  let crashes = 1;
  store.roomInfo = async (room) => {
    if (room === "crash-before" && crashes-- > 0) throw new Error("injected crash before the fan-out");
    return roomInfo(room);
  };
  try {
    const ack = await chat.send(sender, { action: "sendmessage", message: "survives" });
    expect(crashes).toBeLessThan(0);
    for (const member of others) expect(firstArrivals(idsTo(member))).toEqual([ack.id]);
  } finally {
    store.roomInfo = roomInfo;
  }
});

test("a fan-out worker failing: SQS hands the job over again after its visibility timeout", async () => {
  const [sender, flaky, ...others] = await seed("worker-fails", 5);
  // Every attempt of the first receive fails for this member: the job fails and comes back.
  chat.api.failNext(flaky.connectionId, 500, chat.deps.config.postMaxAttempts);

  const ack = await chat.send(sender, { action: "sendmessage", message: "again" });

  expect(idsTo(flaky)).toEqual([ack.id]);
  // The others of that slice may have it twice (at least once); never missing, never another id.
  for (const member of others) {
    expect(idsTo(member).length).toBeGreaterThanOrEqual(1);
    expect(new Set(idsTo(member))).toEqual(new Set([ack.id]));
  }
});

test("a poison job ends in the fan-out dead-letter queue; the other slices deliver", async () => {
  const [sender, poisoned, ...others] = await seed("poison", 12);
  chat.api.failNext(poisoned.connectionId, 500, Infinity);

  const ack = await chat.send(sender, { action: "sendmessage", message: "poisoned" });

  expect(idsTo(poisoned)).toEqual([]);
  for (const member of others) expect(new Set(idsTo(member))).toEqual(new Set([ack.id]));
  const { Messages } = await chat.events.receiveDeadLetters("fanout");
  expect(Messages).toHaveLength(1);
  expect(JSON.parse(Messages![0].Body!)).toMatchObject({ room: "poison", messageId: ack.id });
  chat.api.failNext(poisoned.connectionId, 500, 0);
});
