import { ulid } from "ulid";
import type { WsClient } from "../support/events";
import { startChat, type Chat, type Frame } from "./harness";

// editmessage and deletemessage through the real routes on DynamoDB Local: each change is a
// room event under the room's next seq, delivered to the members, kept in history (the
// message shows its current state; `after` pages show the change itself), and every
// refusal writes nothing.

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

let rooms = 0;
/** A room name no other test uses. */
const freshRoom = (prefix: string) => `${prefix}-${++rooms}`;

const user = (sub: string, room: string) => chat.connect({ room }, { authorizer: { sub, name: sub } });
const guest = (name: string, room: string) => chat.connect({ name, room });

async function sent(client: WsClient, room: string, message: string) {
  const ack = await chat.send(client, { action: "sendmessage", room, message });
  expect(ack).toMatchObject({ type: "ack", room });
  return { id: ack.id as string, seq: ack.seq as number };
}

const history = async (client: WsClient, room: string, after?: number) =>
  (await chat.send(client, { action: "history", room, ...(after === undefined ? {} : { after }) }))
    .messages as Frame[];

describe("the author", () => {
  test("edits and deletes; members get the frames, history and `after` show them", async () => {
    const room = freshRoom("edits");
    const ann = await user("u-ann", room);
    const bob = await user("u-bob", room);
    const first = await sent(ann, room, "frist");
    const second = await sent(ann, room, "oops");
    chat.api.clearRecords();

    const edited = await chat.send(ann, { action: "editmessage", room, id: first.id, message: "first" });
    expect(edited).toEqual({
      type: "edited",
      room,
      id: first.id,
      text: "first",
      editedAt: expect.any(String),
      seq: 3,
    });
    const deleted = await chat.send(ann, { action: "deletemessage", room, id: second.id });
    expect(deleted).toEqual({ type: "deleted", room, id: second.id, seq: 4 });
    expect(chat.api.framesTo(bob.connectionId)).toEqual([edited, deleted]);
    // The author's own connection has the replies, not copies.
    expect(chat.api.framesTo(ann.connectionId)).toEqual([]);

    // The newest page: each message in its current state, the changes left out.
    const messageOne = {
      type: "message",
      room,
      seq: 1,
      id: first.id,
      from: "u-ann",
      text: "first",
      editedAt: edited.editedAt,
      sentAt: expect.any(String),
    };
    const tombstone = {
      type: "message",
      room,
      seq: 2,
      id: second.id,
      from: "u-ann",
      deleted: true,
      deletedAt: expect.any(String),
      sentAt: expect.any(String),
    };
    expect(await history(bob, room)).toEqual([messageOne, tombstone]);
    // With `after`, every event in seq order: applied in order they end in the same state.
    expect(await history(bob, room, 0)).toEqual([messageOne, tombstone, edited, deleted]);
    expect(JSON.stringify(await history(bob, room, 0))).not.toContain("oops");

    // A client back with `after` below the changes gets them, on resume and on join.
    const bobAgain = await user("u-bob", "lobby");
    const resumed = await chat.send(bobAgain, { action: "resume", rooms: [{ room, after: 2 }] });
    expect(resumed).toMatchObject({ type: "resumed", rooms: [{ room, seq: 4, history: [edited, deleted] }] });
    const cat = await user("u-cat", "lobby");
    expect(await chat.send(cat, { action: "joinroom", room, after: 3 })).toMatchObject({
      history: [deleted],
    });
  });

  test("a guest's message is its session's or connection's: another guest of the same name may not touch it", async () => {
    const room = freshRoom("guests");
    const sam = await guest("sam", room);
    const otherSam = await guest("sam", room);
    const message = await sent(sam, room, "hello");
    await chat.expectRejected(
      otherSam,
      { action: "editmessage", room, id: message.id, message: "x" },
      "FORBIDDEN",
    );
    await chat.expectRejected(otherSam, { action: "deletemessage", room, id: message.id }, "FORBIDDEN");
    expect(
      await chat.send(sam, { action: "editmessage", room, id: message.id, message: "hi" }),
    ).toMatchObject({
      type: "edited",
      text: "hi",
    });
  });
});

describe("numbering and delivery", () => {
  test("concurrent changes each take a seq of their own, the message ends in the last one's state", async () => {
    const room = freshRoom("races");
    const ann = await user("u-ann3", room);
    const message = await sent(ann, room, "v0");
    const replies = await Promise.all(
      ["v1", "v2", "v3"].map((text) =>
        chat.send(ann, { action: "editmessage", room, id: message.id, message: text }),
      ),
    );
    expect(replies.map((r) => r.seq).sort()).toEqual([2, 3, 4]);
    const last = replies.find((r) => r.seq === 4)!;
    expect((await history(ann, room))[0]).toMatchObject({ seq: 1, text: last.text, editedAt: last.editedAt });
  });

  test("a change whose fast path crashed after the store is delivered by the stream's safety net", async () => {
    const room = freshRoom("safety");
    const ann = await user("u-ann4", room);
    const bob = await user("u-bob4", room);
    const message = await sent(ann, room, "hi");
    chat.api.clearRecords();
    const { store } = chat.deps;
    const smallRoomMembers = store.smallRoomMembers;
    // The fast path's read crashes; the safety net's, later, does not.
    let crashes = 1;
    store.smallRoomMembers = async (name, max) => {
      if (crashes-- > 0) throw new Error("injected crash after the store");
      return smallRoomMembers(name, max);
    };
    let edited: Frame;
    try {
      edited = await chat.send(ann, { action: "editmessage", room, id: message.id, message: "hello" });
    } finally {
      store.smallRoomMembers = smallRoomMembers;
    }
    expect(edited).toMatchObject({ type: "edited", seq: 2 });
    expect(crashes).toBeLessThan(1);
    expect(chat.api.framesTo(bob.connectionId)).toEqual([edited]);
  });

  test("a message the request could not mark settled is delivered and indexed by the safety net: it can be edited", async () => {
    const room = freshRoom("index");
    const ann = await user("u-ann5", room);
    const bob = await user("u-bob5", room);
    const { store } = chat.deps;
    const markSettled = store.markSettled;
    let writes = 0;
    // The request's write of the mark and the id's index fails (DynamoDB refused it, the
    // Lambda died); the safety net's does not.
    store.markSettled = async (event) => {
      if (writes++ === 0) throw new Error("injected failure of the mark and index");
      return markSettled(event);
    };
    let message: { id: string; seq: number };
    try {
      message = await sent(ann, room, "hi");
      await chat.settle();
    } finally {
      store.markSettled = markSettled;
    }
    expect(writes).toBe(2);
    // The posts went out before the failed write: bob has the message, and the safety net's repeat.
    const copies = chat.api.framesTo(bob.connectionId).filter((f) => (f as Frame).type === "message");
    expect(copies).toEqual([
      expect.objectContaining({ id: message.id }),
      expect.objectContaining({ id: message.id }),
    ]);
    const edited = await chat.send(ann, { action: "editmessage", room, id: message.id, message: "hello" });
    expect(edited).toMatchObject({ type: "edited", seq: 2 });
  });
});

describe("moderation", () => {
  test("a moderator or the owner deletes anyone's message; a plain member cannot, and nobody edits another's", async () => {
    const room = freshRoom("moderated");
    const owner = await user("u-own", "lobby");
    expect(await chat.send(owner, { action: "createroom", room })).toMatchObject({ type: "created" });
    const mod = await user("u-mod", room);
    const member = await user("u-mem", room);
    const writer = await user("u-wri", room);
    expect(
      await chat.send(owner, { action: "setrole", room, user: "u-mod", role: "moderator" }),
    ).not.toMatchObject({ type: "error" });
    const one = await sent(writer, room, "spam");
    const two = await sent(writer, room, "more spam");

    await chat.expectRejected(member, { action: "deletemessage", room, id: one.id }, "FORBIDDEN");
    await chat.expectRejected(mod, { action: "editmessage", room, id: one.id, message: "nice" }, "FORBIDDEN");
    await chat.expectRejected(
      owner,
      { action: "editmessage", room, id: one.id, message: "nice" },
      "FORBIDDEN",
    );

    chat.api.clearRecords();
    const byMod = await chat.send(mod, { action: "deletemessage", room, id: one.id });
    expect(byMod).toEqual({ type: "deleted", room, id: one.id, seq: 3 });
    const byOwner = await chat.send(owner, { action: "deletemessage", room, id: two.id });
    expect(byOwner).toEqual({ type: "deleted", room, id: two.id, seq: 4 });
    for (const client of [member, writer]) {
      expect(chat.api.framesTo(client.connectionId)).toEqual([byMod, byOwner]);
    }
  });
});

describe("refusals write nothing", () => {
  test("unknown id, another room's id, a deleted message: NOT_FOUND; a stranger: NOT_A_MEMBER; a bad id: INVALID", async () => {
    const room = freshRoom("refusals");
    const elsewhere = freshRoom("elsewhere");
    const ann = await user("u-ann2", room);
    await chat.send(ann, { action: "joinroom", room: elsewhere });
    const here = await sent(ann, room, "here");
    const there = await sent(ann, elsewhere, "there");

    await chat.expectRejected(ann, { action: "editmessage", room, id: ulid(), message: "x" }, "NOT_FOUND");
    await chat.expectRejected(ann, { action: "deletemessage", room, id: ulid() }, "NOT_FOUND");
    await chat.expectRejected(ann, { action: "deletemessage", room, id: there.id }, "NOT_FOUND");
    await chat.expectRejected(ann, { action: "editmessage", room, id: "not-an-id", message: "x" }, "INVALID");
    await chat.expectRejected(ann, { action: "editmessage", room, id: here.id, message: "" }, "INVALID");

    const stranger = await user("u-stranger", "lobby");
    await chat.expectRejected(stranger, { action: "deletemessage", room, id: here.id }, "NOT_A_MEMBER");

    expect(await chat.send(ann, { action: "deletemessage", room, id: here.id })).toMatchObject({
      type: "deleted",
    });
    await chat.expectRejected(
      ann,
      { action: "editmessage", room, id: here.id, message: "back" },
      "NOT_FOUND",
    );
    await chat.expectRejected(ann, { action: "deletemessage", room, id: here.id }, "NOT_FOUND");
  });
});
