import type { WsClient } from "../support/events";
import { startAtWindowOpen } from "../support/clock";
import { startChat, type Chat } from "./harness";

const ulid = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** JSON as encoders that escape every non-ASCII character write it (Python's default). */
const asciiJson = (value: unknown) =>
  JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

/** Connects `names` to `room` (their default room); returns them in order. */
async function crowd(room: string, ...names: string[]): Promise<WsClient[]> {
  const clients = [];
  for (const name of names) clients.push(await chat.connect({ name, room }));
  chat.api.clearRecords();
  return clients;
}

test("the tutorial's frame reaches every other connection in lobby with text hello", async () => {
  const [alice, bob, carol] = await crowd("lobby", "alice", "bob", "carol");
  const [dave] = await crowd("elsewhere", "dave");

  const ack = await chat.send(alice, '{"action":"sendmessage","message":"hello"}');

  expect(ack).toEqual({
    type: "ack",
    room: "lobby",
    id: expect.stringMatching(ulid),
    seq: 1,
    sentAt: expect.stringMatching(isoTime),
  });
  const pushed = {
    type: "message",
    room: "lobby",
    seq: 1,
    id: ack.id,
    from: "alice",
    guest: true,
    text: "hello",
    sentAt: ack.sentAt,
  };
  expect(chat.api.framesTo(bob.connectionId)).toEqual([pushed]);
  expect(chat.api.framesTo(carol.connectionId)).toEqual([pushed]);
  expect(chat.api.framesTo(alice.connectionId)).toEqual([]);
  expect(chat.api.framesTo(dave.connectionId)).toEqual([]);
  expect(await chat.send(bob, { action: "history", room: "lobby" })).toMatchObject({ messages: [pushed] });
});

test("`from` is the sender's stored name, never a field of the frame", async () => {
  const [mallory, victim] = await crowd("spoof", "mallory", "victim");

  await chat.send(mallory, { action: "sendmessage", message: "trust me", from: "admin", room: "spoof" });

  expect(chat.api.framesTo(victim.connectionId)).toEqual([
    expect.objectContaining({ from: "mallory", text: "trust me" }),
  ]);
  const { messages } = await chat.send(victim, { action: "history", room: "spoof" });
  expect(messages).toEqual([expect.objectContaining({ from: "mallory" })]);
});

test("`room` sends to another joined room, only to its members", async () => {
  const [gus, home] = await crowd("home", "gus", "hal");
  const [side] = await crowd("side", "ian");
  await chat.send(gus, { action: "joinroom", room: "side" });
  chat.api.clearRecords();

  const ack = await chat.send(gus, { action: "sendmessage", room: "side", message: "over here" });

  expect(ack).toMatchObject({ type: "ack", room: "side" });
  expect(chat.api.framesTo(side.connectionId)).toEqual([
    expect.objectContaining({ room: "side", text: "over here" }),
  ]);
  expect(chat.api.framesTo(home.connectionId)).toEqual([]);
});

test("text keeps tabs, newlines and non-ASCII characters", async () => {
  const [jo, kai] = await crowd("unicode", "jo", "kai");
  const text = "line 1\n\tline 2 — café 🎉";

  await chat.send(jo, asciiJson({ action: "sendmessage", message: text }));

  expect(chat.api.framesTo(kai.connectionId)).toEqual([expect.objectContaining({ text })]);
});

describe("clientId", () => {
  test("a repeated clientId stores and delivers once; the repeat acks with the same id", async () => {
    const [lea, max] = await crowd("idem", "lea", "max");
    const frame = { action: "sendmessage", message: "once", clientId: "c-1:retry.ok" };

    const first = await chat.send(lea, frame);
    const again = await chat.send(lea, frame);

    expect(first).toEqual({
      type: "ack",
      room: "idem",
      id: expect.stringMatching(ulid),
      seq: 1,
      clientId: "c-1:retry.ok",
      sentAt: expect.stringMatching(isoTime),
    });
    expect(again).toEqual(first);
    expect(chat.api.framesTo(max.connectionId)).toEqual([
      expect.objectContaining({ id: first.id, text: "once" }),
    ]);
    const { messages } = await chat.send(max, { action: "history", room: "idem" });
    expect(messages).toHaveLength(1);
  });

  test("the same clientId from another sender is another message", async () => {
    const [ned, ola, pat] = await crowd("idem2", "ned", "ola", "pat");
    const frame = { action: "sendmessage", message: "mine", clientId: "same" };

    const fromNed = await chat.send(ned, frame);
    const fromOla = await chat.send(ola, frame);

    expect(fromOla.id).not.toBe(fromNed.id);
    expect(chat.api.framesTo(pat.connectionId)).toHaveLength(2);
  });
});

describe("rejected frames write nothing and reach nobody", () => {
  let sender: WsClient;
  beforeAll(async () => {
    [sender] = await crowd("strict", "sender", "bystander");
    await crowd("secret", "insider");
  });

  test.each([
    [{ message: "" }, "message: must not be empty"],
    [{}, "message: is required"],
    [{ message: 42 }, "message: must be a string"],
    [{ message: null }, "message: must be a string"],
    [{ message: ["hi"] }, "message: must be a string"],
    [{ message: "ring\u0007" }, "message: must not contain control characters (tab and newline are fine)"],
    [{ message: "hi", room: "a#b" }, "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"],
    [{ message: "hi", room: "" }, "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"],
    [{ message: "hi", room: 7 }, "room: must be a string"],
    [{ message: "hi", clientId: "" }, "clientId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ . : or -"],
    [
      { message: "hi", clientId: "has space" },
      "clientId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ . : or -",
    ],
    [
      { message: "hi", clientId: "c".repeat(65) },
      "clientId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ . : or -",
    ],
    [{ message: "hi", clientId: 12 }, "clientId: must be a string"],
  ])("INVALID %j", async (fields, message) => {
    const reply = await chat.expectRejected(sender, { action: "sendmessage", ...fields }, "INVALID");
    expect(reply).toEqual({ type: "error", code: "INVALID", message, action: "sendmessage" });
  });

  test("TOO_LARGE: a message over 4096 characters", async () => {
    const reply = await chat.expectRejected(
      sender,
      { action: "sendmessage", message: "é".repeat(4097) },
      "TOO_LARGE",
    );
    expect(reply).toEqual({
      type: "error",
      code: "TOO_LARGE",
      message: "message: must be at most 4096 characters",
      action: "sendmessage",
    });
  });

  test("TOO_LARGE: a frame over the byte limit", async () => {
    const limit = chat.deps.protocol.maxFrameBytes;
    const frame = { action: "sendmessage", message: "hi", padding: " ".repeat(limit) };

    const reply = await chat.expectRejected(sender, frame, "TOO_LARGE");

    expect(reply).toEqual({
      type: "error",
      code: "TOO_LARGE",
      message: `frame: must be at most ${limit} bytes`,
      action: "sendmessage",
    });
  });

  test("NOT_A_MEMBER: to a room not joined; the sender learns nothing of it", async () => {
    const reply = await chat.expectRejected(
      sender,
      { action: "sendmessage", room: "secret", message: "let me in" },
      "NOT_A_MEMBER",
    );
    expect(reply).toEqual({
      type: "error",
      code: "NOT_A_MEMBER",
      message: "room: you are not a member of secret; join it first",
      action: "sendmessage",
    });
  });

  test("NOT_A_MEMBER: to the default room after leaving it", async () => {
    const [quitter] = await crowd("quit", "quitter", "stayer");
    expect(await chat.send(quitter, { action: "leaveroom", room: "quit" })).toEqual({
      type: "left",
      room: "quit",
    });
    chat.api.clearRecords();

    await chat.expectRejected(quitter, { action: "sendmessage", message: "anyone?" }, "NOT_A_MEMBER");
  });
});

describe("limits at their edge are accepted", () => {
  test("4096 characters, even as 12-byte escapes of characters outside the BMP", async () => {
    const [rae, sam] = await crowd("edge", "rae", "sam");
    const plain = "x".repeat(4096);
    const emoji = "🎉".repeat(4096);
    const escaped = asciiJson({ action: "sendmessage", message: emoji });
    expect(Buffer.byteLength(escaped)).toBeGreaterThan(4096 * 12);

    expect(await chat.send(rae, { action: "sendmessage", message: plain })).toMatchObject({ type: "ack" });
    expect(await chat.send(rae, escaped)).toMatchObject({ type: "ack" });

    expect(chat.api.framesTo(sam.connectionId).map((f) => (f as { text: string }).text)).toEqual([
      plain,
      emoji,
    ]);
  });
});

describe("RATE_LIMITED", () => {
  let limited: Chat;
  beforeAll(async () => {
    limited = await startChat({ rateLimitMessages: "3", rateLimitWindowSeconds: "600" });
  });
  afterAll(() => limited.close());
  // Date starts at a window's opening: the four sends cannot straddle two windows.
  let realDate: () => void;
  beforeEach(() => (realDate = startAtWindowOpen(600)));
  afterEach(() => realDate());

  test("past the limit a message is refused, unstored and undelivered", async () => {
    const talker = await limited.connect({ name: "talker", room: "busy" });
    const listener = await limited.connect({ name: "listener", room: "busy" });
    limited.api.clearRecords();
    for (let i = 1; i <= 3; i++) {
      expect(await limited.send(talker, { action: "sendmessage", message: `m${i}` })).toMatchObject({
        type: "ack",
      });
    }

    const reply = await limited.expectRejected(
      talker,
      { action: "sendmessage", message: "m4" },
      "RATE_LIMITED",
    );

    expect(reply).toMatchObject({ action: "sendmessage", message: expect.stringContaining("3 messages") });
    expect(limited.api.framesTo(listener.connectionId)).toHaveLength(3);
    expect(await limited.send(listener, { action: "sendmessage", message: "not me" })).toMatchObject({
      type: "ack",
    });
  });
});
