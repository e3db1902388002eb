import { wsClient, type WsClient } from "../support/events";
import { eventually } from "../support/storm-table";
import { startChat, type Chat } from "./harness";

let chat: Chat;
beforeAll(async () => {
  // Members seeded a moment ago are gone at once: no grace for connections still in `$connect`.
  // A recipient whose posts keep failing is given up on after 2 s (10 s by default).
  chat = await startChat({ connectGraceSeconds: "0", recipientGiveUpSeconds: "2" });
});
afterAll(() => chat.close());

/** `count` connections in `room`, recorded straight through the store; once counted and announced, clears the records. */
async function seed(room: string, count: number, on: Chat = chat): Promise<WsClient[]> {
  const clients = Array.from({ length: count }, () => wsClient());
  for (const [i, client] of clients.entries()) {
    await on.deps.store.connect({
      connectionId: client.connectionId,
      name: `${room}-${i}`,
      defaultRoom: room,
    });
  }
  await on.settle();
  on.api.clearRecords();
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
  }, 120_000);

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
          seq: ack.seq,
          from: "stadium-0",
          guest: true,
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

  test("logs the bulk cleanup as JSON, and counts deliveries and gone connections as metrics", () => {
    const lines = chat.logs().slice(logged);
    const cleanups = lines.filter((l) => l.msg === "removed gone connections" && l.room === "stadium");
    expect(cleanups.reduce((sum, l) => sum + (l.removed as number), 0)).toBe(20);
    expect(lines.filter((l) => l.level !== "info")).toEqual([]);
    chat.deps.metrics.flush();
    const emf = chat.metricLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const total = (name: string) =>
      emf.reduce((sum, line) => sum + (typeof line[name] === "number" ? (line[name] as number) : 0), 0);
    expect(total("Deliveries")).toBeGreaterThanOrEqual(179);
    expect(total("GoneConnections")).toBe(20);
  });

  test("the next broadcast posts to the live members only", async () => {
    chat.api.clearRecords();
    await chat.send(members[1], { action: "sendmessage", message: "again" });
    expect(chat.api.posts).toHaveLength(179);
    expect(chat.api.framesTo(sender.connectionId)).toHaveLength(1);
    for (const member of gone) expect(chat.api.attemptsFor(member.connectionId)).toBe(0);
  });
});

describe("the fast path's size", () => {
  const max = () => chat.deps.config.inlineFanoutMax;
  /** Fan-out jobs queued so far, as the metrics count them. */
  const queuedJobs = () =>
    chat.metricLines
      .map((line) => (JSON.parse(line) as { FanoutJobs?: number }).FanoutJobs ?? 0)
      .reduce((sum, jobs) => sum + jobs, 0);
  afterEach(() => chat.api.holdPosts(0));

  test("inlineFanoutMax recipients are posted to all at once, one attempt each, none queued", async () => {
    const [sender, ...recipients] = await seed("full-house", max() + 1);
    const jobs = queuedJobs();
    // No post is answered until all of them are in flight: a bounded pool would wait out the
    // fast path's cap and hand its unstarted recipients to retry jobs.
    chat.api.holdPosts(recipients.length);

    const ack = await chat.send(sender, { action: "sendmessage", message: "all at once" });

    expect(ack).toMatchObject({ type: "ack", room: "full-house" });
    expect(chat.api.peakInFlight()).toBeGreaterThanOrEqual(recipients.length);
    for (const member of recipients) {
      expect(chat.api.attemptsFor(member.connectionId)).toBe(1);
      expect(chat.api.framesTo(member.connectionId)).toEqual([expect.objectContaining({ id: ack.id })]);
    }
    await chat.settle();
    expect(queuedJobs()).toBe(jobs);
  }, 120_000);

  test("one recipient more goes to the queue, and each member still gets it once", async () => {
    const [sender, ...recipients] = await seed("overflow", max() + 2);
    const jobs = queuedJobs();

    const ack = await chat.send(sender, { action: "sendmessage", message: "queued" });
    await chat.settle();

    expect(queuedJobs()).toBe(jobs + chat.deps.config.fanoutSlices);
    for (const member of recipients) {
      expect(chat.api.framesTo(member.connectionId)).toEqual([expect.objectContaining({ id: ack.id })]);
    }
    expect(chat.api.framesTo(sender.connectionId)).toEqual([]);
  }, 120_000);
});

describe("retries", () => {
  test("429 and 500: the fast path's one attempt fails, each recipient's own retry job delivers it once", async () => {
    const [sender, throttled, flaky, healthy] = await seed("retry", 4);
    chat.api.failNext(throttled.connectionId, 429, 2);
    chat.api.failNext(flaky.connectionId, 500, 2);
    const logged = chat.logs().length;

    expect(await chat.send(sender, { action: "sendmessage", message: "persist" })).toMatchObject({
      type: "ack",
    });

    for (const member of [throttled, flaky]) {
      // One attempt from the sender's request, then one per receive of its retry job.
      expect(chat.api.attemptsFor(member.connectionId)).toBe(3);
      expect(chat.api.framesTo(member.connectionId)).toEqual([expect.objectContaining({ text: "persist" })]);
    }
    expect(chat.api.attemptsFor(healthy.connectionId)).toBe(1);
    expect(chat.api.framesTo(healthy.connectionId)).toHaveLength(1);
    const lines = chat.logs().slice(logged);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    expect(chat.api.deleted).toEqual([]);
  });

  test("a post with no answer is cut off once half the room's have answered: the ack does not wait for the fast path's cap, and a retry job delivers it", async () => {
    const [sender, silent, ...others] = await seed("straggler", 5);
    chat.api.hang(silent.connectionId, 1);
    // A cap far beyond the test's timeout: only the straggler cut-off can end that post in time.
    const patientCap = { ...chat.deps, config: { ...chat.deps.config, fastPathTimeoutMs: 3_600_000 } };
    const logged = chat.logs().length;
    chat.deps.metrics.flush();
    const metricsFrom = chat.metricLines.length;

    const ack = await chat.send(sender, { action: "sendmessage", message: "anyone there?" }, patientCap);

    expect(ack).toMatchObject({ type: "ack", room: "straggler" });
    for (const member of others) {
      expect(chat.api.framesTo(member.connectionId)).toEqual([expect.objectContaining({ id: ack.id })]);
    }
    // The sender's request ended its post unanswered; the retry job's post was answered.
    expect(chat.api.abandonedPostsTo(silent.connectionId)).toBe(1);
    expect(chat.api.attemptsFor(silent.connectionId)).toBe(2);
    expect(chat.api.framesTo(silent.connectionId)).toEqual([expect.objectContaining({ id: ack.id })]);
    expect(chat.logs().slice(logged)).toContainEqual(
      expect.objectContaining({
        msg: "post failed",
        recipient: silent.connectionId,
        error: expect.objectContaining({ message: expect.stringContaining("a straggler") }),
      }),
    );
    // Its frame could have arrived before the retry job's post: counted as a possible repeat.
    chat.deps.metrics.flush();
    const repeats = chat.metricLines
      .slice(metricsFrom)
      .reduce((sum, line) => sum + ((JSON.parse(line) as { Repeats?: number }).Repeats ?? 0), 0);
    expect(repeats).toBe(1);
    expect(chat.api.deleted).toEqual([]);
  });

  test("a permanent 500: retried on its own, then disconnected; no record fails, nothing goes to a dead-letter queue", async () => {
    const [sender, broken, healthy] = await seed("permanent", 3);
    chat.api.failNext(broken.connectionId, 500, Infinity);
    const logged = chat.logs().length;

    const ack = await chat.send(sender, { action: "sendmessage", message: "anyone?" });
    const next = await chat.send(sender, { action: "sendmessage", message: "still there?" });

    expect(ack).toMatchObject({ type: "ack", room: "permanent" });
    expect(chat.api.framesTo(broken.connectionId)).toEqual([]);
    expect(chat.api.framesTo(healthy.connectionId).map((f) => (f as { id: string }).id)).toEqual([
      ack.id,
      next.id,
    ]);
    // The fast path's attempt, then the retry job's three receives: at once, after 1 s, at the give-up time.
    expect(chat.api.attemptsFor(broken.connectionId)).toBeGreaterThanOrEqual(4);
    expect(chat.api.deleted).toContain(broken.connectionId);
    const lines = chat.logs().slice(logged);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "post failed",
        recipient: broken.connectionId,
        error: expect.objectContaining({ name: "PostFailedError", message: expect.stringContaining("500") }),
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "disconnected a recipient whose posts kept failing",
        recipient: broken.connectionId,
      }),
    );
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    expect((await chat.events.receiveDeadLetters()).Messages ?? []).toEqual([]);
    expect((await chat.events.receiveDeadLetters("fanout")).Messages ?? []).toEqual([]);
    chat.api.failNext(broken.connectionId, 500, 0);
  });
});

describe("gone members met by other broadcasts", () => {
  test("an expired membership (a lost $disconnect) is removed by the workers' next read of the room, and the count follows", async () => {
    const [sender, present] = await seed("expiring", 2);
    const lost = wsClient();
    // Its connection expired a minute ago; DynamoDB's TTL may take days to delete it on AWS.
    await chat.table.service.entities.membership
      .put({
        room: "expiring",
        connectionId: lost.connectionId,
        name: "lost",
        expiresAt: Math.floor(Date.now() / 1000) - 60,
      })
      .go();
    // Its arrival is counted, and the announcement's read of the room removes it again.
    await chat.settle();
    expect(await itemsOf(lost.connectionId)).toEqual([]);
    expect(await chat.deps.store.listRooms()).toContainEqual({ room: "expiring", members: 2 });

    const ack = await chat.send(sender, { action: "sendmessage", message: "still here?" });

    expect(chat.api.attemptsFor(lost.connectionId)).toBe(0);
    expect(chat.api.framesTo(present.connectionId)).toContainEqual(expect.objectContaining({ id: ack.id }));
  });

  test("a join's announcement finds the gone and cleans them up", async () => {
    const [stale, present] = await seed("hall", 2);
    chat.api.markGone(stale.connectionId);
    const joiner = await chat.connect({ name: "joiner", room: "foyer" });
    chat.api.clearRecords();

    const reply = await chat.send(joiner, { action: "joinroom", room: "hall" });

    // Nobody knows the stale one is gone until a post to it answers 410.
    expect(reply).toMatchObject({ type: "joined", room: "hall", members: 3 });
    expect(chat.api.framesTo(present.connectionId)).toEqual([
      { type: "presence", room: "hall", event: "join", name: "joiner", guest: true },
      { type: "presence", room: "hall", event: "leave", name: "hall-0", guest: true },
    ]);
    expect(await itemsOf(stale.connectionId)).toEqual([]);
    expect(await chat.deps.store.listRooms()).toContainEqual({ room: "hall", members: 2 });
  });

  test("$disconnect's presence cleans up the gone too", async () => {
    const [leaver, stale, present] = await seed("exit-hall", 3);
    chat.api.markGone(stale.connectionId);

    expect(await chat.disconnect(leaver)).toEqual({ statusCode: 200 });

    expect(chat.api.framesTo(present.connectionId)).toEqual([
      { type: "presence", room: "exit-hall", event: "leave", name: "exit-hall-0", guest: true },
      { type: "presence", room: "exit-hall", event: "leave", name: "exit-hall-1", guest: true },
    ]);
    expect(await itemsOf(stale.connectionId)).toEqual([]);
    expect(await chat.deps.store.membersOf("exit-hall")).toEqual([
      expect.objectContaining({ name: "exit-hall-2" }),
    ]);
  });
});

describe("a retry job back before its time", () => {
  let patient: Chat;
  beforeAll(async () => {
    patient = await startChat({ connectGraceSeconds: "0", recipientGiveUpSeconds: "300" });
  });
  afterAll(() => patient.close());

  test("a refused visibility change brings it back early: it goes on as a fresh job, disconnecting no one before the give-up time", async () => {
    const [sender, stalled] = await seed("early", 2, patient);
    // SQS refuses every ChangeMessageVisibility: the job comes back after the queue's 5 s each time.
    patient.deps.fanoutQueue!.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "ChangeMessageVisibilityCommand") throw new Error("refused by the test");
        return next(args);
      },
      { step: "initialize", name: "refuseVisibilityChanges" },
    );
    patient.api.failNext(stalled.connectionId, 500, Infinity);
    const failedPosts = () =>
      patient.logs().filter((l) => l.msg === "post failed" && l.recipient === stalled.connectionId).length;

    const result = await patient.run(sender.messageEvent({ action: "sendmessage", message: "hold on" }));
    const ack = JSON.parse(result.body!) as { id: string };
    // The fast path's post, then the job's first, second and third receive: its last before a dead letter.
    await eventually(async () => expect(failedPosts()).toBeGreaterThanOrEqual(4));
    patient.api.failNext(stalled.connectionId, 500, 0);
    await patient.settle();

    expect(patient.api.framesTo(stalled.connectionId)).toEqual([expect.objectContaining({ id: ack.id })]);
    expect(patient.api.deleted).toEqual([]);
    expect(patient.logs()).toContainEqual(
      expect.objectContaining({ msg: "could not shorten a job's visibility" }),
    );
    expect((await patient.events.receiveDeadLetters("fanout")).Messages ?? []).toEqual([]);
  });
});

describe("account-wide throttling", () => {
  let throttled: Chat;
  beforeAll(async () => {
    // No presence: the container's last 10 s of posts are this test's, all throttled.
    throttled = await startChat({
      connectGraceSeconds: "0",
      recipientGiveUpSeconds: "2",
      presenceMaxMembers: "0",
    });
  });
  afterAll(() => throttled.close());

  test("when most posts get 429, retries back off past the give-up time and disconnect no one", async () => {
    const [sender, ...members] = await seed("busy", 12, throttled);
    // The fast path's attempt, the first retry's 4 and the second's 4 (5 s later, past the 2 s
    // give-up) all answer 429: it is the account, not these recipients.
    for (const member of members) throttled.api.failNext(member.connectionId, 429, 9);

    const result = await throttled.run(sender.messageEvent({ action: "sendmessage", message: "rush hour" }));
    const { id } = JSON.parse(result.body!) as { id: string };
    await throttled.settle();

    for (const member of members) {
      expect(throttled.api.framesTo(member.connectionId)).toEqual([expect.objectContaining({ id })]);
    }
    expect(throttled.api.deleted).toEqual([]);
    expect(throttled.logs()).toContainEqual(
      expect.objectContaining({ msg: "posts throttled account-wide: backing off, disconnecting no one" }),
    );
    expect((await throttled.events.receiveDeadLetters("fanout")).Messages ?? []).toEqual([]);
  });
});
