import { roomSweepWorker } from "../../handlers/workers";
import type { WsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

const roomRule = "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -";

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

/** Sends `count` messages m1..m<count> to the sender's default room; returns their acks in order. */
async function post(sender: WsClient, count: number): Promise<{ id: string; seq: number }[]> {
  const ids = [];
  for (let i = 1; i <= count; i++) {
    const ack = await chat.send(sender, { action: "sendmessage", message: `m${i}` });
    ids.push(ack as unknown as { id: string; seq: number });
  }
  chat.api.clearRecords();
  return ids;
}

const texts = (messages: unknown) => (messages as { text: string }[]).map((m) => m.text);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe("joinroom", () => {
  test("joins, tells the others, and replies with the count and recent history", async () => {
    const ann = await chat.connect({ name: "ann", room: "garden" });
    const ids = await post(ann, 2);
    const ben = await chat.connect({ name: "ben", room: "porch" });
    chat.api.clearRecords();

    const reply = await chat.send(ben, { action: "joinroom", room: "garden" });

    expect(reply).toEqual({
      type: "joined",
      room: "garden",
      members: 2,
      history: [
        {
          type: "message",
          room: "garden",
          seq: 1,
          id: ids[0].id,
          from: "ann",
          guest: true,
          text: "m1",
          sentAt: expect.any(String),
        },
        {
          type: "message",
          room: "garden",
          seq: 2,
          id: ids[1].id,
          from: "ann",
          guest: true,
          text: "m2",
          sentAt: expect.any(String),
        },
      ],
      next: null,
      seq: 2,
    });
    expect(chat.api.posts).toEqual([
      {
        connectionId: ann.connectionId,
        frame: { type: "presence", room: "garden", event: "join", name: "ben", guest: true },
      },
    ]);
  });

  test("is idempotent: joining again tells nobody and counts once", async () => {
    const cy = await chat.connect({ name: "cy", room: "again" });
    const di = await chat.connect({ name: "di", room: "again-home" });
    expect(await chat.send(di, { action: "joinroom", room: "again" })).toMatchObject({ members: 2 });
    chat.api.clearRecords();

    expect(await chat.send(di, { action: "joinroom", room: "again" })).toMatchObject({
      type: "joined",
      members: 2,
    });
    expect(await chat.send(cy, { action: "joinroom", room: "again" })).toMatchObject({
      type: "joined",
      members: 2,
    });

    expect(chat.api.posts).toEqual([]);
    expect(await chat.send(cy, { action: "listrooms" })).toMatchObject({
      rooms: expect.arrayContaining([{ room: "again", members: 2 }]),
    });
  });

  test("the history on join is the newest 20, with a cursor to the rest", async () => {
    const ed = await chat.connect({ name: "ed", room: "busy" });
    const ids = await post(ed, 25);
    const flo = await chat.connect({ name: "flo", room: "quiet" });

    const joined = await chat.send(flo, { action: "joinroom", room: "busy" });
    expect(texts(joined.history)).toEqual(range(6, 25));
    expect(joined.next).toBe(ids[5].seq);
    expect(joined.seq).toBe(25);

    const older = await chat.send(flo, { action: "history", room: "busy", before: joined.next });
    expect(texts(older.messages)).toEqual(range(1, 5));
    expect(older.next).toBeNull();
  });

  test("INVALID past 20 rooms a connection; the 21st join writes nothing", async () => {
    const roamer = await chat.connect({ name: "roamer", room: "room-1" });
    for (let i = 2; i <= 20; i++) {
      expect(await chat.send(roamer, { action: "joinroom", room: `room-${i}` })).toMatchObject({
        type: "joined",
      });
    }
    chat.api.clearRecords();

    const reply = await chat.expectRejected(roamer, { action: "joinroom", room: "room-21" }, "INVALID");

    expect(reply).toEqual({
      type: "error",
      code: "INVALID",
      message: "room: a connection can be in at most 20 rooms",
      action: "joinroom",
    });
  });

  test.each([
    [{}, "room: is required"],
    [{ room: "two words" }, roomRule],
    [{ room: "x".repeat(65) }, roomRule],
    [{ room: ["lobby"] }, "room: must be a string"],
  ])("INVALID %j", async (fields, message) => {
    const gil = await chat.connect({ name: "gil", room: "invalid-join" });
    const reply = await chat.expectRejected(gil, { action: "joinroom", ...fields }, "INVALID");
    expect(reply).toEqual({ type: "error", code: "INVALID", message, action: "joinroom" });
  });
});

describe("leaveroom", () => {
  test("leaves, tells the others, and the room is closed to the leaver", async () => {
    const hal = await chat.connect({ name: "hal", room: "exit" });
    const ida = await chat.connect({ name: "ida", room: "exit" });
    chat.api.clearRecords();

    expect(await chat.send(hal, { action: "leaveroom", room: "exit" })).toEqual({
      type: "left",
      room: "exit",
    });

    expect(chat.api.posts).toEqual([
      {
        connectionId: ida.connectionId,
        frame: { type: "presence", room: "exit", event: "leave", name: "hal", guest: true },
      },
    ]);
    expect(await chat.send(ida, { action: "members", room: "exit" })).toEqual({
      type: "members",
      room: "exit",
      members: [{ name: "ida", guest: true }],
      next: null,
    });
    await chat.expectRejected(hal, { action: "history", room: "exit" }, "NOT_A_MEMBER");
  });

  test("NOT_A_MEMBER for a room not joined", async () => {
    const jon = await chat.connect({ name: "jon", room: "in" });
    await chat.connect({ name: "kat", room: "out" });

    const reply = await chat.expectRejected(jon, { action: "leaveroom", room: "out" }, "NOT_A_MEMBER");
    expect(reply).toEqual({
      type: "error",
      code: "NOT_A_MEMBER",
      message: "room: you are not a member of out; join it first",
      action: "leaveroom",
    });
  });

  test("INVALID room", async () => {
    const lou = await chat.connect({ name: "lou", room: "bad-leave" });
    const reply = await chat.expectRejected(lou, { action: "leaveroom", room: "bad/leave" }, "INVALID");
    expect(reply).toEqual({ type: "error", code: "INVALID", message: roomRule, action: "leaveroom" });
  });
});

describe("listrooms", () => {
  test("lists rooms with members and their counts; an emptied room drops out", async () => {
    const mo = await chat.connect({ name: "mo", room: "count-a" });
    await chat.connect({ name: "nia", room: "count-a" });
    const oz = await chat.connect({ name: "oz", room: "count-b" });
    const solo = await chat.connect({ name: "solo", room: "count-c" });
    await chat.send(oz, { action: "joinroom", room: "count-a" });
    await chat.disconnect(solo);

    const reply = await chat.send(mo, { action: "listrooms" });

    expect(reply.type).toBe("rooms");
    expect(reply.rooms).toEqual(
      expect.arrayContaining([
        { room: "count-a", members: 3 },
        { room: "count-b", members: 1 },
      ]),
    );
    expect(reply.rooms).not.toContainEqual(expect.objectContaining({ room: "count-c" }));
    // Few rooms fit one page: the last page says so with a null cursor.
    expect(reply.next).toBeNull();
    expect(Object.keys(reply)).toEqual(["type", "rooms", "next"]);
  });
});

describe("the room sweep", () => {
  test("an expired member of a quiet room stops counting once the sweep runs, long before TTL", async () => {
    await chat.connect({ name: "stays", room: "swept" });
    const lost = await chat.connect({ name: "lost", room: "swept" });
    // Its $disconnect was lost and its connection has expired since; DynamoDB's TTL has not come by.
    await chat.expireMembership("swept", lost.connectionId);
    await chat.settle();
    const listed = () => chat.deps.store.listRooms();
    // Nothing happens in the room, so nothing tidies it: the lost member still counts.
    expect(await listed()).toContainEqual({ room: "swept", members: 2 });

    expect(await roomSweepWorker.handle(undefined, chat.deps)).toEqual({ rooms: expect.any(Number) });
    await chat.settle();
    expect(await listed()).toContainEqual({ room: "swept", members: 1 });
    expect(chat.logs()).toContainEqual(expect.objectContaining({ msg: "rooms swept" }));
  });
});

describe("history", () => {
  let poster: WsClient;
  let reader: WsClient;
  let ids: { id: string; seq: number }[];
  beforeAll(async () => {
    poster = await chat.connect({ name: "poster", room: "archive" });
    reader = await chat.connect({ name: "reader", room: "archive" });
    ids = await post(poster, 7);
  });

  test("pages newest first, each page oldest to newest, until `next` is null", async () => {
    const first = await chat.send(reader, { action: "history", room: "archive", limit: 3 });
    expect(first).toEqual({ type: "history", room: "archive", messages: expect.any(Array), next: 5 });
    expect(texts(first.messages)).toEqual(["m5", "m6", "m7"]);
    expect(first.messages).toContainEqual({
      type: "message",
      room: "archive",
      seq: 7,
      id: ids[6].id,
      from: "poster",
      guest: true,
      text: "m7",
      sentAt: expect.any(String),
    });

    const second = await chat.send(reader, {
      action: "history",
      room: "archive",
      limit: 3,
      before: first.next,
    });
    expect(texts(second.messages)).toEqual(["m2", "m3", "m4"]);

    const last = await chat.send(reader, {
      action: "history",
      room: "archive",
      limit: 3,
      before: second.next,
    });
    expect(texts(last.messages)).toEqual(["m1"]);
    expect(last.next).toBeNull();
  });

  test("50 a page by default", async () => {
    const pen = await chat.connect({ name: "pen", room: "long" });
    const longIds = await post(pen, 51);

    const page = await chat.send(pen, { action: "history", room: "long" });

    expect(texts(page.messages)).toEqual(range(2, 51));
    expect(page.next).toBe(longIds[1].seq);
  });

  test("with `after`: what came after it, oldest first, `next` the following page's `after`", async () => {
    const first = await chat.send(reader, { action: "history", room: "archive", after: 2, limit: 3 });
    expect(texts(first.messages)).toEqual(["m3", "m4", "m5"]);
    expect(first.next).toBe(5);
    const rest = await chat.send(reader, { action: "history", room: "archive", after: first.next });
    expect(texts(rest.messages)).toEqual(["m6", "m7"]);
    expect(rest.next).toBeNull();
    const caughtUp = await chat.send(reader, { action: "history", room: "archive", after: 7 });
    expect(caughtUp).toEqual({ type: "history", room: "archive", messages: [], next: null });
  });

  test("an empty room has an empty history", async () => {
    const quin = await chat.connect({ name: "quin", room: "silent" });
    expect(await chat.send(quin, { action: "history", room: "silent" })).toEqual({
      type: "history",
      room: "silent",
      messages: [],
      next: null,
    });
  });

  test.each([
    [{ limit: 0 }, "limit: must be 1 to 100"],
    [{ limit: 101 }, "limit: must be 1 to 100"],
    [{ limit: 1.5 }, "limit: must be a whole number"],
    [{ limit: "5" }, "limit: must be a number"],
    [{ before: "01M8A8AXFFSRJ69SMP3SVXSFYR" }, "before: must be a number (a seq)"],
    [{ before: 0 }, "before: must be at least 1"],
    [{ before: 2.5 }, "before: must be a whole number (a seq)"],
    [{ after: -1 }, "after: must be at least 0"],
    [{ before: 5, after: 1 }, "before, after: give one of them, not both"],
    [{ room: undefined }, "room: is required"],
    [{ room: "arch#ive" }, roomRule],
  ])("INVALID %j", async (fields, message) => {
    const frame = { action: "history", room: "archive", ...fields };
    const reply = await chat.expectRejected(reader, frame, "INVALID");
    expect(reply).toEqual({ type: "error", code: "INVALID", message, action: "history" });
  });

  test("NOT_A_MEMBER: a non-member gets no messages", async () => {
    const outsider = await chat.connect({ name: "outsider", room: "outside" });

    const reply = await chat.expectRejected(outsider, { action: "history", room: "archive" }, "NOT_A_MEMBER");

    expect(reply).toEqual({
      type: "error",
      code: "NOT_A_MEMBER",
      message: "room: you are not a member of archive; join it first",
      action: "history",
    });
  });
});

describe("members", () => {
  test("names the members, never their connection ids", async () => {
    const rex = await chat.connect({ name: "rex", room: "club" });
    const sue = await chat.connect({ name: "sue", room: "club" });

    const reply = await chat.send(rex, { action: "members", room: "club" });

    expect(reply.type).toBe("members");
    expect(reply.room).toBe("club");
    expect(reply.members).toEqual(
      expect.arrayContaining([
        { name: "rex", guest: true },
        { name: "sue", guest: true },
      ]),
    );
    expect(reply.members).toHaveLength(2);
    const text = JSON.stringify(reply);
    expect(text).not.toContain(rex.connectionId);
    expect(text).not.toContain(sue.connectionId);
  });

  test("NOT_A_MEMBER: a non-member learns nobody's name", async () => {
    await chat.connect({ name: "tia", room: "private" });
    const uma = await chat.connect({ name: "uma", room: "public" });

    const reply = await chat.expectRejected(uma, { action: "members", room: "private" }, "NOT_A_MEMBER");

    expect(reply).toEqual({
      type: "error",
      code: "NOT_A_MEMBER",
      message: "room: you are not a member of private; join it first",
      action: "members",
    });
  });

  test("INVALID room", async () => {
    const val = await chat.connect({ name: "val", room: "m-invalid" });
    const reply = await chat.expectRejected(val, { action: "members" }, "INVALID");
    expect(reply).toEqual({
      type: "error",
      code: "INVALID",
      message: "room: is required",
      action: "members",
    });
  });
});
