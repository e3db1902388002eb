import { startChat, type Chat } from "./harness";

// Issue 19, point 3 (limits per connection only) and point 1's closing of a flooder, through
// the handlers as Lambda runs them: every route is limited, reads apart from writes, per
// session across connections, and a connection that keeps at it is closed.

describe("limits on every route", () => {
  let chat: Chat;
  beforeAll(async () => {
    chat = await startChat({
      rateLimitMessages: "4",
      rateLimitReads: "3",
      rateLimitWindowSeconds: "86400",
      rateLimitCloseAfter: "0",
    });
  });
  afterAll(() => chat.close());

  test("joinroom and leaveroom are limited: a join/leave flood gives another member a bounded number of notices", async () => {
    const flooder = await chat.connect({ name: "flip", room: "home-a" });
    const watcher = await chat.connect({ name: "watch", room: "stage-a" });
    const replies = [];
    for (let i = 0; i < 10; i++) {
      const action = i % 2 === 0 ? "joinroom" : "leaveroom";
      replies.push(await chat.send(flooder, { action, room: "stage-a" }));
    }
    expect(replies.filter((r) => r.type === "joined" || r.type === "left")).toHaveLength(4);
    expect(replies.slice(4).every((r) => r.code === "RATE_LIMITED")).toBe(true);
    const notices = chat.api
      .framesTo(watcher.connectionId)
      .filter((f) => (f as { type?: string }).type === "presence");
    expect(notices).toHaveLength(4);
  });

  test("reads have a bucket of their own: reads run out without touching writes, and the other way round", async () => {
    const reader = await chat.connect({ name: "reader", room: "library" });
    const reads = [
      { action: "history", room: "library" },
      { action: "members", room: "library" },
      { action: "listrooms" },
      { action: "history", room: "library" },
    ];
    const replies = [];
    for (const frame of reads) replies.push(await chat.send(reader, frame));
    expect(replies.map((r) => r.type)).toEqual(["history", "members", "rooms", "error"]);
    expect(replies[3]).toMatchObject({
      code: "RATE_LIMITED",
      action: "history",
      message: expect.stringContaining("at most 3 reads"),
      retryAfterMs: expect.any(Number),
    });
    expect(await chat.send(reader, { action: "sendmessage", message: "still can write" })).toMatchObject({
      type: "ack",
    });
  });

  test("RATE_LIMITED says what to wait for", async () => {
    const talker = await chat.connect({ name: "talker", room: "wait-room" });
    for (let i = 0; i < 4; i++) await chat.send(talker, { action: "sendmessage", message: `m${i}` });
    const refused = await chat.expectRejected(
      talker,
      { action: "sendmessage", message: "m5" },
      "RATE_LIMITED",
    );
    // 4 a day: the next token comes a quarter of a day after the first.
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(86_400_000 / 4);
    expect(refused.message).toMatch(/wait \d+ ms/);
  });
});

/** A session the server issued: only those scope limits (a client-chosen one is ignored). */
async function issuedSession(chat: Chat): Promise<string> {
  const issuer = await chat.connect({ name: "issuer", room: "sessions" });
  const { session } = await chat.send(issuer, { action: "session" });
  await chat.disconnect(issuer);
  return session as string;
}

describe("per session, across connections", () => {
  let chat: Chat;
  beforeAll(async () => {
    chat = await startChat({
      rateLimitMessages: "5",
      userRateLimitMessages: "5",
      rateLimitWindowSeconds: "86400",
      rateLimitCloseAfter: "0",
    });
  });
  afterAll(() => chat.close());

  test("a reconnect does not buy more messages", async () => {
    const session = await issuedSession(chat);
    const first = await chat.connect({ name: "re", room: "loop", session });
    for (let i = 0; i < 5; i++) {
      expect(await chat.send(first, { action: "sendmessage", message: `a${i}` })).toMatchObject({
        type: "ack",
      });
    }
    await chat.disconnect(first);
    const second = await chat.connect({ name: "re", room: "loop", session });
    const reply = await chat.send(second, { action: "sendmessage", message: "one more" });
    expect(reply).toMatchObject({ code: "RATE_LIMITED", message: expect.stringContaining("per session") });
  });

  test("parallel connections of one session share its limit", async () => {
    const session = await issuedSession(chat);
    const connections = [];
    for (let i = 0; i < 5; i++) connections.push(await chat.connect({ name: `p${i}`, room: "par", session }));
    const replies = await Promise.all(
      connections.flatMap((c, i) =>
        Array.from({ length: 3 }, (_, j) => chat.send(c, { action: "sendmessage", message: `p${i}-${j}` })),
      ),
    );
    expect(replies.filter((r) => r.type === "ack")).toHaveLength(5);
    // Another session is not affected.
    const other = await chat.connect({ name: "other", room: "par", session: await issuedSession(chat) });
    expect(await chat.send(other, { action: "sendmessage", message: "mine" })).toMatchObject({ type: "ack" });
  });
});

describe("a connection that keeps exceeding its limits", () => {
  let chat: Chat;
  beforeAll(async () => {
    chat = await startChat({
      rateLimitMessages: "3",
      rateLimitJunk: "2",
      rateLimitWindowSeconds: "86400",
      rateLimitCloseAfter: "5",
    });
  });
  afterAll(() => chat.close());

  test("is closed through the Management API, its reason logged and counted; others go on", async () => {
    const flooder = await chat.connect({ name: "flood", room: "pool" });
    const bystander = await chat.connect({ name: "calm", room: "pool" });
    const replies = [];
    for (let i = 0; i < 8; i++)
      replies.push(await chat.send(flooder, { action: "sendmessage", message: `f${i}` }));
    expect(replies.filter((r) => r.type === "ack")).toHaveLength(3);
    expect(chat.api.deleted).toEqual([flooder.connectionId]);
    expect(chat.logs()).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "closing connection",
        connectionId: flooder.connectionId,
        reason: "rate limit",
      }),
    );
    // Lambda flushes after every invocation (handlers/lambda.ts); the harness invokes routes directly.
    chat.deps.metrics.flush();
    expect(chat.metricLines.join("\n")).toContain("RateLimitCloses");
    expect(await chat.send(bystander, { action: "sendmessage", message: "still here" })).toMatchObject({
      type: "ack",
    });
  });

  test("junk frames count too (in the container, nothing written): a junk flood is closed", async () => {
    const junk = await chat.connect({ name: "junk", room: "pool" });
    const replies = [];
    for (let i = 0; i < 7; i++) replies.push(await chat.send(junk, `not json ${i}`));
    expect(replies.slice(0, 2).map((r) => r.code)).toEqual(["BAD_JSON", "BAD_JSON"]);
    expect(replies.slice(2).every((r) => r.code === "RATE_LIMITED")).toBe(true);
    expect(chat.api.deleted).toContain(junk.connectionId);
  });
});

describe("an idempotent resend (issue 17)", () => {
  let chat: Chat;
  beforeAll(async () => {
    chat = await startChat({ rateLimitMessages: "2", rateLimitWindowSeconds: "86400" });
  });
  afterAll(() => chat.close());

  test("re-acks a stored clientId past the limit; a new one is still refused", async () => {
    const sender = await chat.connect({ name: "resender", room: "acks", session: await issuedSession(chat) });
    const c1 = await chat.send(sender, { action: "sendmessage", message: "one", clientId: "c1-4f1d9a" });
    const c2 = await chat.send(sender, { action: "sendmessage", message: "two", clientId: "c2-8b2e0c" });
    expect([c1.type, c2.type]).toEqual(["ack", "ack"]);

    const resent = await chat.send(sender, { action: "sendmessage", message: "one", clientId: "c1-4f1d9a" });
    expect(resent).toEqual(c1);
    const fresh = await chat.send(sender, { action: "sendmessage", message: "three", clientId: "c3-77aa01" });
    expect(fresh).toMatchObject({ code: "RATE_LIMITED" });
  });
});
