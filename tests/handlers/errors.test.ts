import { configEnv } from "../../handlers/config";
import { createDeps, type Deps } from "../../handlers/deps";
import type { ChatStore } from "../../model/store";
import type { WsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

const internal = {
  type: "error",
  code: "INTERNAL",
  message: "something went wrong on our side; please retry",
};

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

/** The chat's deps with one store method failing the way a DynamoDB outage would. */
function failingStore(method: keyof ChatStore): Deps {
  const store = {
    ...chat.deps.store,
    [method]: () => Promise.reject(new Error(`DynamoDB said no to ${method}`)),
  };
  return { ...chat.deps, store };
}

describe("$default", () => {
  let client: WsClient;
  beforeAll(async () => {
    client = await chat.connect({ name: "fumbler", room: "default-room" });
    await chat.connect({ name: "bystander", room: "default-room" });
  });

  test.each([
    ["hello", 'frame: must be a JSON object like {"action":"sendmessage","message":"hi"}'],
    ["{", 'frame: must be a JSON object like {"action":"sendmessage","message":"hi"}'],
    ["", 'frame: must be a JSON object like {"action":"sendmessage","message":"hi"}'],
    ["[1,2]", "frame: must be a JSON object with an `action` field"],
    ["null", "frame: must be a JSON object with an `action` field"],
    ['"sendmessage"', "frame: must be a JSON object with an `action` field"],
  ])("BAD_JSON for %j", async (body, message) => {
    expect(client.messageEvent(body).requestContext.routeKey).toBe("$default");
    expect(await chat.expectRejected(client, body, "BAD_JSON")).toEqual({
      type: "error",
      code: "BAD_JSON",
      message,
    });
  });

  // The README's actions, in its order.
  const valid =
    "valid actions: sendmessage, joinroom, leaveroom, listrooms, history, members, resume, session, createroom, invite, revokeinvite, setrole, kick, ban, editmessage, deletemessage, dm";
  test.each([
    ['{"message":"hi"}', `action: is missing; ${valid}`],
    ['{"action":"dance"}', `action: "dance" is not an action; ${valid}`],
    ['{"action":"SendMessage","message":"hi"}', `action: "SendMessage" is not an action; ${valid}`],
    ['{"action":5}', `action: 5 is not an action; ${valid}`],
    ['{"action":"$connect"}', `action: "$connect" is not an action; ${valid}`],
  ])("UNKNOWN_ACTION for %s, listing the valid actions", async (body, message) => {
    expect(client.messageEvent(body).requestContext.routeKey).toBe("$default");
    const reply = await chat.expectRejected(client, body, "UNKNOWN_ACTION");
    expect(reply).toEqual({ type: "error", code: "UNKNOWN_ACTION", message });
  });
});

describe("INTERNAL", () => {
  let sender: WsClient;
  let other: WsClient;
  beforeAll(async () => {
    sender = await chat.connect({ name: "unlucky", room: "outage" });
    other = await chat.connect({ name: "other", room: "outage" });
    await chat.send(sender, { action: "joinroom", room: "spare" });
  });

  test.each([
    ["sendmessage", "post", { message: "hi" }],
    ["joinroom", "join", { room: "elsewhere" }],
    ["leaveroom", "leave", { room: "spare" }],
    ["listrooms", "roomsPage", {}],
    ["history", "history", { room: "outage" }],
    ["members", "membersFrom", { room: "outage" }],
  ] as const)(
    "%s: store.%s throwing is INTERNAL, logged, and the next frame works",
    async (action, method, fields) => {
      const logged = chat.logs().length;
      const before = await chat.items();

      const reply = await chat.send(sender, { action, ...fields }, failingStore(method));

      expect(reply).toEqual({ ...internal, action });
      expect(chat.api.posts).toEqual([]);
      expect(await chat.items()).toEqual(before);
      expect(chat.logs().slice(logged)).toContainEqual(
        expect.objectContaining({
          level: "error",
          msg: "handler failed",
          route: action,
          connectionId: sender.connectionId,
          requestId: expect.any(String),
          error: expect.objectContaining({ message: `DynamoDB said no to ${method}` }),
        }),
      );
      expect(await chat.send(sender, { action, ...fields })).not.toMatchObject({ type: "error" });
    },
  );

  test("a real DynamoDB failure (no such table) is INTERNAL too", async () => {
    const missing = createDeps(
      {
        [configEnv.tableName]: "no-such-table",
        [configEnv.dynamodbEndpoint]: chat.table.endpoint,
        [configEnv.managementEndpoint]: chat.api.url,
      },
      { log: chat.deps.log, delivery: chat.deps.delivery },
    );
    expect(await chat.send(sender, { action: "listrooms" }, missing)).toEqual({
      ...internal,
      action: "listrooms",
    });
  });

  test("posts failing after the store: the ack stands, and the recipient's own retry job delivers it", async () => {
    const frame = { action: "sendmessage", message: "durable", clientId: "retry-me" };
    // The fast path's attempt and the retry job's first fail; its next gets through.
    chat.api.failNext(other.connectionId, 500, 2);

    const ack = await chat.send(sender, frame);

    expect(ack).toMatchObject({ type: "ack", clientId: "retry-me" });
    expect(chat.api.framesTo(other.connectionId)).toEqual([
      expect.objectContaining({ type: "message", id: ack.id, text: "durable" }),
    ]);
    // A resend with the same clientId is acked with the same id and stored once.
    expect(await chat.send(sender, frame)).toMatchObject({ type: "ack", id: ack.id });
    const { messages } = await chat.send(other, { action: "history", room: "outage" });
    expect((messages as { text: string }[]).filter((m) => m.text === "durable")).toHaveLength(1);
  });

  test("presence failing after a join: the join holds and the counts converge", async () => {
    chat.api.failNext(other.connectionId, 500, Infinity);

    expect(await chat.send(sender, { action: "joinroom", room: "outage-2" })).toMatchObject({
      type: "joined",
      room: "outage-2",
      members: 1,
    });
    const joiner = await chat.connect({ name: "late", room: "outage" });

    expect(await chat.send(sender, { action: "listrooms" })).toMatchObject({
      rooms: expect.arrayContaining([
        { room: "outage-2", members: 1 },
        { room: "outage", members: 3 },
      ]),
    });
    chat.api.failNext(other.connectionId, 500, 0);
    await chat.disconnect(joiner);
  });
});
