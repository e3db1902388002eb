import { wsClient, type WsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

let chat: Chat;
beforeAll(async () => {
  // Members seeded a moment ago are gone at once: no grace for connections still in `$connect`.
  chat = await startChat({ connectGraceSeconds: "0" });
});
afterAll(() => chat.close());

/** `count` connections in `room`, recorded straight through the store (no presence storm); clears the records. */
async function seed(room: string, count: number): Promise<WsClient[]> {
  const clients = Array.from({ length: count }, () => wsClient());
  for (const [i, client] of clients.entries()) {
    await chat.deps.store.connect({
      connectionId: client.connectionId,
      name: `${room}-${i}`,
      defaultRoom: room,
    });
  }
  chat.api.clearRecords();
  return clients;
}

/** Items that mention any of the connections: their records and memberships. */
const itemsOf = async (...connectionIds: string[]) =>
  (await chat.items()).filter((item) => connectionIds.some((id) => JSON.stringify(item).includes(id)));

describe("a broadcast to 200 members, 20 of them gone", () => {
  let members: WsClient[];
  let sender: WsClient;
  let gone: WsClient[];
  let live: WsClient[];
  let ack: Record<string, unknown>;
  let logged: number;

  beforeAll(async () => {
    members = await seed("stadium", 200);
    [sender] = members;
    gone = members.slice(100, 120);
    live = members.filter((m) => m !== sender && !gone.includes(m));
    chat.api.markGone(...gone.map((m) => m.connectionId));
    logged = chat.logs().length;
    ack = await chat.send(sender, { action: "sendmessage", message: "goal!" });
  });

  test("acks the sender and delivers exactly once to each of the 179 live others", async () => {
    expect(ack).toMatchObject({ type: "ack", room: "stadium" });
    expect(live).toHaveLength(179);
    expect(chat.api.posts).toHaveLength(179);
    for (const member of live) {
      expect(chat.api.framesTo(member.connectionId)).toEqual([
        {
          type: "message",
          room: "stadium",
          id: ack.id,
          from: "stadium-0",
          text: "goal!",
          sentAt: ack.sentAt,
        },
      ]);
    }
    expect(chat.api.framesTo(sender.connectionId)).toEqual([]);
  });

  test("tries each gone connection once (410 is not retried) and removes it with its membership", async () => {
    for (const member of gone) expect(chat.api.attemptsFor(member.connectionId)).toBe(1);
    expect(await itemsOf(...gone.map((m) => m.connectionId))).toEqual([]);
    expect(await chat.deps.store.membersOf("stadium")).toHaveLength(180);
    expect(await chat.send(sender, { action: "listrooms" })).toMatchObject({
      rooms: expect.arrayContaining([{ room: "stadium", members: 180 }]),
    });
  });

  test("logs the cleanup and the incomplete broadcast as JSON", () => {
    const lines = chat.logs().slice(logged);
    const removed = lines.filter((l) => l.msg === "removed gone connection").map((l) => l.recipient);
    expect(removed.sort()).toEqual(gone.map((m) => m.connectionId).sort());
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "broadcast incomplete",
        room: "stadium",
        recipients: 199,
        delivered: 179,
        gone: 20,
        failed: 0,
      }),
    );
  });

  test("the next broadcast posts to the live members only", async () => {
    chat.api.clearRecords();
    await chat.send(members[1], { action: "sendmessage", message: "again" });
    expect(chat.api.posts).toHaveLength(179);
    expect(chat.api.framesTo(sender.connectionId)).toHaveLength(1);
    for (const member of gone) expect(chat.api.attemptsFor(member.connectionId)).toBe(0);
  });
});

describe("retries", () => {
  test("429 and 500 are retried with backoff, then delivered once", async () => {
    const [sender, throttled, flaky, healthy] = await seed("retry", 4);
    chat.api.failNext(throttled.connectionId, 429, 2);
    chat.api.failNext(flaky.connectionId, 500, 2);
    const logged = chat.logs().length;

    expect(await chat.send(sender, { action: "sendmessage", message: "persist" })).toMatchObject({
      type: "ack",
    });

    for (const member of [throttled, flaky]) {
      expect(chat.api.attemptsFor(member.connectionId)).toBe(3);
      expect(chat.api.framesTo(member.connectionId)).toEqual([expect.objectContaining({ text: "persist" })]);
    }
    expect(chat.api.attemptsFor(healthy.connectionId)).toBe(1);
    expect(
      chat
        .logs()
        .slice(logged)
        .filter((l) => l.level !== "info"),
    ).toEqual([]);
  });

  test("a permanent 500 is logged, the member kept, and the broadcast still succeeds", async () => {
    const [sender, broken, healthy] = await seed("permanent", 3);
    chat.api.failNext(broken.connectionId, 500, Infinity);
    const logged = chat.logs().length;

    const ack = await chat.send(sender, { action: "sendmessage", message: "anyone?" });

    expect(ack).toMatchObject({ type: "ack", room: "permanent" });
    expect(chat.api.attemptsFor(broken.connectionId)).toBe(chat.deps.config.postMaxAttempts);
    expect(chat.api.framesTo(broken.connectionId)).toEqual([]);
    expect(chat.api.framesTo(healthy.connectionId)).toEqual([expect.objectContaining({ id: ack.id })]);
    const lines = chat.logs().slice(logged);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "post to connection failed",
        route: "sendmessage",
        connectionId: sender.connectionId,
        requestId: expect.any(String),
        recipient: broken.connectionId,
        error: expect.objectContaining({ name: "InternalServerErrorException", status: 500 }),
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "broadcast incomplete",
        delivered: 1,
        gone: 0,
        failed: 1,
      }),
    );
    // A failure is not a goodbye: only 410 removes a member.
    expect(await chat.deps.store.getMembership("permanent", broken.connectionId)).toBeDefined();
  });
});

describe("gone members met by other broadcasts", () => {
  test("a join counts only live members and cleans up the gone", async () => {
    const [stale, present] = await seed("hall", 2);
    chat.api.markGone(stale.connectionId);
    const joiner = await chat.connect({ name: "joiner", room: "foyer" });
    chat.api.clearRecords();

    const reply = await chat.send(joiner, { action: "joinroom", room: "hall" });

    expect(reply).toMatchObject({ type: "joined", room: "hall", members: 2 });
    expect(chat.api.framesTo(present.connectionId)).toEqual([
      { type: "presence", room: "hall", event: "join", name: "joiner" },
    ]);
    expect(await itemsOf(stale.connectionId)).toEqual([]);
  });

  test("$disconnect's presence cleans up the gone too", async () => {
    const [leaver, stale, present] = await seed("exit-hall", 3);
    chat.api.markGone(stale.connectionId);

    expect(await chat.disconnect(leaver)).toEqual({ statusCode: 200 });

    expect(chat.api.framesTo(present.connectionId)).toEqual([
      { type: "presence", room: "exit-hall", event: "leave", name: "exit-hall-0" },
    ]);
    expect(await itemsOf(stale.connectionId)).toEqual([]);
    expect(await chat.deps.store.membersOf("exit-hall")).toEqual([
      expect.objectContaining({ name: "exit-hall-2" }),
    ]);
  });
});
