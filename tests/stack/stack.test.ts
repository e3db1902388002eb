import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { connect, handshakeStatus, type Frame, type TestClient } from "../support/ws-client";

// End to end: the local stack (gateway, the real handlers, the jest run's DynamoDB Local)
// and several real WebSocket clients speaking wire protocol v1. One ordered scenario: each
// test goes on from the state the one before left.
let stack: LocalStack;
let alice: TestClient;
let bob: TestClient;
let carol: TestClient;

beforeAll(async () => {
  stack = await startTestStack();
  alice = await connect(`${stack.wsUrl}?name=alice`);
  bob = await connect(`${stack.wsUrl}?name=bob`);
  carol = await connect(`${stack.wsUrl}?name=carol&room=games`);
});

afterAll(async () => {
  await stack?.stop();
});

const ofType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (frame: Frame) =>
    frame.type === type && Object.entries(extra).every(([key, value]) => frame[key] === value);

it("tells the room who joined at connect", async () => {
  expect(await alice.next(ofType("presence", { name: "bob" }))).toEqual({
    type: "presence",
    room: "lobby",
    event: "join",
    name: "bob",
    // No token: bob chose his own name.
    guest: true,
  });
});

it("delivers the tutorial's frame to everyone else in lobby, and acknowledges it", async () => {
  bob.send('{"action":"sendmessage","message":"hello"}');
  const message = await alice.next(ofType("message", { text: "hello" }));
  expect(message).toEqual({
    type: "message",
    room: "lobby",
    seq: expect.any(Number),
    id: expect.any(String),
    from: "bob",
    guest: true,
    text: "hello",
    sentAt: expect.any(String),
  });
  expect(await bob.next(ofType("ack"))).toEqual({
    type: "ack",
    room: "lobby",
    id: message.id,
    seq: message.seq,
    sentAt: message.sentAt,
  });
  // carol is in games, not lobby: once every delivery is done, she has not got it.
  await stack.settled();
  expect(carol.frames.some((f) => typeof f === "object" && (f as Frame).text === "hello")).toBe(false);
});

it("joins a room: presence to its members, the reply with member count and history", async () => {
  carol.send({ action: "sendmessage", message: "anyone for chess?" });
  await carol.next(ofType("ack"));
  alice.send({ action: "joinroom", room: "games" });
  const joined = await alice.next(ofType("joined"));
  expect(joined).toMatchObject({ type: "joined", room: "games", members: 2 });
  expect((joined.history as Frame[]).map((m) => [m.from, m.text])).toEqual([["carol", "anyone for chess?"]]);
  expect(await carol.next(ofType("presence", { name: "alice", room: "games" }))).toMatchObject({
    event: "join",
  });
});

it("broadcasts to a named room's members only", async () => {
  alice.send({ action: "sendmessage", room: "games", message: "me! e4", clientId: "alice-1" });
  expect(await carol.next(ofType("message", { text: "me! e4" }))).toMatchObject({
    room: "games",
    from: "alice",
  });
  const ack = await alice.next(ofType("ack", { clientId: "alice-1" }));
  // A retry with the same clientId is acknowledged with the same id, and stored once.
  alice.send({ action: "sendmessage", room: "games", message: "me! e4", clientId: "alice-1" });
  expect(await alice.next(ofType("ack", { clientId: "alice-1" }))).toEqual(ack);
  carol.send({ action: "history", room: "games" });
  const history = await carol.next(ofType("history"));
  expect((history.messages as Frame[]).filter((m) => m.text === "me! e4")).toHaveLength(1);
  await stack.settled();
  expect(bob.frames.some((f) => typeof f === "object" && (f as Frame).text === "me! e4")).toBe(false);
});

it("pages history newest first with a cursor", async () => {
  carol.send({ action: "history", room: "games", limit: 1 });
  const first = await carol.next(ofType("history"));
  expect((first.messages as Frame[]).map((m) => m.text)).toEqual(["me! e4"]);
  carol.send({ action: "history", room: "games", limit: 1, before: first.next });
  const second = await carol.next(ofType("history"));
  expect((second.messages as Frame[]).map((m) => m.text)).toEqual(["anyone for chess?"]);
});

it("lists members and rooms", async () => {
  alice.send({ action: "members", room: "games" });
  const members = await alice.next(ofType("members"));
  expect((members.members as Frame[]).map((m) => m.name).sort()).toEqual(["alice", "carol"]);
  // The room list's counts follow the table's stream: list once it has been read.
  await stack.settled();
  alice.send({ action: "listrooms" });
  const rooms = await alice.next(ofType("rooms"));
  expect(rooms.rooms).toEqual(
    expect.arrayContaining([
      { room: "lobby", members: 2 },
      { room: "games", members: 2 },
    ]),
  );
});

it.each([
  ["not JSON", "hello?", "BAD_JSON"],
  ["an unknown action", { action: "dance" }, "UNKNOWN_ACTION"],
  ["an invalid room", { action: "joinroom", room: "no spaces!" }, "INVALID"],
  [
    "a message to a room it is not in",
    { action: "sendmessage", room: "games", message: "hi" },
    "NOT_A_MEMBER",
  ],
  ["a message too long", { action: "sendmessage", message: "x".repeat(4097) }, "TOO_LARGE"],
])("answers %s with an error frame, and the connection stays open", async (_what, frame, code) => {
  bob.send(frame);
  const error = await bob.next(ofType("error"));
  expect(error).toMatchObject({ type: "error", code, message: expect.any(String) });
  bob.send({ action: "listrooms" });
  await bob.next(ofType("rooms"));
});

it("leaves a room: the reply, and presence to those still there", async () => {
  alice.send({ action: "leaveroom", room: "games" });
  expect(await alice.next(ofType("left"))).toEqual({ type: "left", room: "games" });
  expect(await carol.next(ofType("presence", { event: "leave", name: "alice" }))).toMatchObject({
    room: "games",
  });
});

it("refuses an invalid name at the handshake with 400", async () => {
  expect(await handshakeStatus(`${stack.wsUrl}?name=${encodeURIComponent("a\u0007b")}`)).toBe(400);
  expect(await handshakeStatus(`${stack.wsUrl}?room=${encodeURIComponent("bad room")}`)).toBe(400);
});

it("tells the room when a client disconnects", async () => {
  await bob.close();
  expect(await alice.next(ofType("presence", { event: "leave", name: "bob" }))).toMatchObject({
    room: "lobby",
  });
});

it("on stop, closes every client with 1001 and its $disconnect removes it from the table", async () => {
  await stack.stop();
  expect(await alice.closed).toEqual({ code: 1001, reason: "Going away" });
  expect(await carol.closed).toEqual({ code: 1001, reason: "Going away" });
  const client = createDynamoClient(stack.dynamodbEndpoint);
  const store = createChatStore(createChatService(createDocumentClient(client), stack.tableName));
  expect(await store.membersOf("lobby")).toEqual([]);
  expect(await store.membersOf("games")).toEqual([]);
  client.destroy();
});
