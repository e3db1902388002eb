import { directRoomName } from "../../handlers/direct-rooms";
import { openedDm } from "../support/direct-messages";
import { wsClient, type WsClient } from "../support/events";
import { startChat, type Chat, type Frame } from "./harness";

// Direct messages on DynamoDB Local through the real routes: one room per pair whoever
// opens it, both users' connections in it, nobody else able to reach it, and every
// refusal writing nothing.

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

/** A connection the `$connect` authorizer let in with a token for `sub` (its name the same). */
const user = (sub: string, room = "lobby") => chat.connect({ room }, { authorizer: { sub, name: sub } });

const refused = (client: WsClient, frame: object, code: string) => chat.expectRejected(client, frame, code);

const listed = async (client: WsClient) =>
  ((await chat.send(client, { action: "listrooms" })).rooms as Frame[]) ?? [];

const joinedFramesTo = (client: WsClient) =>
  chat.api.framesTo(client.connectionId).filter((f) => (f as Frame).type === "joined");

describe("a DM room", () => {
  test("is the same from both sides and private", async () => {
    const ann = await user("ann");
    const bobPhone = await user("bob");
    const bobLaptop = await user("bob");
    const room = directRoomName("ann", "bob");
    expect(room).toMatch(/^dm-[A-Za-z0-9_-]{43}$/);
    expect(directRoomName("bob", "ann")).toBe(room);
    chat.api.clearRecords();

    // ann opens it: she is in, and so is each of bob's connections, each told from its side.
    expect(await chat.send(ann, { action: "dm", user: "bob" })).toEqual(openedDm(room, 3, "bob"));
    for (const bob of [bobPhone, bobLaptop]) expect(joinedFramesTo(bob)).toEqual([openedDm(room, 3, "ann")]);

    // bob can post at once; ann gets it.
    expect(await chat.send(bobPhone, { action: "sendmessage", room, message: "hi ann" })).toMatchObject({
      type: "ack",
      seq: 1,
    });
    expect(chat.api.framesTo(ann.connectionId)).toContainEqual(
      expect.objectContaining({ type: "message", room, text: "hi ann", from: "bob" }),
    );

    // From bob's side it is the same room, already joined: nothing written, nobody told again.
    chat.api.clearRecords();
    await chat.settle();
    const before = await chat.items();
    expect(await chat.send(bobLaptop, { action: "dm", user: "ann" })).toMatchObject({
      type: "joined",
      room,
      members: 3,
      history: [expect.objectContaining({ text: "hi ann" })],
      seq: 1,
      dm: { with: "ann", name: "ann" },
    });
    expect(await chat.items()).toEqual(before);
    expect(chat.api.posts).toEqual([]);

    // Listed to its members, marked, and to nobody else.
    expect(await listed(ann)).toContainEqual({ room, members: 3, private: true, dm: { with: "bob" } });
    expect(await listed(bobPhone)).toContainEqual({ room, members: 3, private: true, dm: { with: "ann" } });
    const cy = await user("cy");
    expect((await listed(cy)).map((r) => r.room)).not.toContain(room);

    // A third user reaches nothing of it.
    await refused(cy, { action: "joinroom", room }, "FORBIDDEN");
    await refused(cy, { action: "history", room }, "FORBIDDEN");
    await refused(cy, { action: "members", room }, "FORBIDDEN");
    await refused(cy, { action: "sendmessage", room, message: "let me in" }, "FORBIDDEN");
    const beforeResume = await chat.items();
    expect(await chat.send(cy, { action: "resume", rooms: [{ room, after: 0 }] })).toMatchObject({
      type: "resumed",
      rooms: [],
      failed: [{ room, code: "FORBIDDEN" }],
    });
    expect(await chat.items()).toEqual(beforeResume);
    expect(JSON.stringify(chat.api.framesTo(cy.connectionId))).not.toContain("hi ann");
    // cy's own DM with ann is another room.
    const cyAnn = await chat.send(cy, { action: "dm", user: "ann" });
    expect(cyAnn).toMatchObject({
      type: "joined",
      members: 2,
      history: [],
      dm: { with: "ann", name: "ann" },
    });
    expect(cyAnn.room).toBe(directRoomName("ann", "cy"));
    expect(cyAnn.room).not.toBe(room);
  });

  test("reopening it after leaving rejoins with its history; the other side is joined again", async () => {
    const dee = await user("dee");
    const eve = await user("eve");
    const room = directRoomName("dee", "eve");
    await chat.send(dee, { action: "dm", user: "eve" });
    await chat.send(eve, { action: "sendmessage", room, message: "before you left" });
    for (const c of [dee, eve])
      expect(await chat.send(c, { action: "leaveroom", room })).toEqual({ type: "left", room });
    chat.api.clearRecords();

    expect(await chat.send(dee, { action: "dm", user: "eve" })).toMatchObject({
      type: "joined",
      room,
      members: 2,
      history: [expect.objectContaining({ text: "before you left" })],
      dm: { with: "eve" },
    });
    expect(joinedFramesTo(eve)).toEqual([
      expect.objectContaining({ room, members: 2, dm: { with: "dee", name: "dee" } }),
    ]);
    // A member may rejoin it as any private room it is let into.
    await chat.send(eve, { action: "leaveroom", room });
    expect(await chat.send(eve, { action: "joinroom", room })).toMatchObject({ type: "joined", room });
  });

  test("with someone not connected: opened for both, nobody told; a long subject still makes a valid name", async () => {
    const fay = await user("fay");
    const far = "u".repeat(256);
    const reply = await chat.send(fay, { action: "dm", user: far });
    expect(reply).toEqual(openedDm(directRoomName("fay", far), 1, far, null));
    expect(reply.room).toMatch(/^dm-[A-Za-z0-9_-]{43}$/);
  });
});

describe("refusals write nothing", () => {
  test("auth off (a guest): FORBIDDEN", async () => {
    const guest = await chat.connect({ name: "gil" });
    const reply = await refused(guest, { action: "dm", user: "ann" }, "FORBIDDEN");
    expect(reply.message).toMatch(/signed-in users/);
  });

  test("to yourself, or to no valid subject: INVALID", async () => {
    const hal = await user("hal");
    expect((await refused(hal, { action: "dm", user: "hal" }, "INVALID")).message).toMatch(
      /^user: that is you/,
    );
    expect((await refused(hal, { action: "dm", user: " hal " }, "INVALID")).message).toMatch(
      /^user: that is you/,
    );
    const cases: [object, RegExp][] = [
      [{ action: "dm" }, /^user: is required/],
      [{ action: "dm", user: "" }, /^user: must be 1 to 256 characters/],
      [{ action: "dm", user: "x".repeat(257) }, /^user: must be 1 to 256 characters/],
      [{ action: "dm", user: "bad\u0007bell" }, /^user: must not contain control characters/],
      [{ action: "dm", user: 42 }, /^user: must be a string/],
    ];
    for (const [frame, message] of cases)
      expect((await refused(hal, frame, "INVALID")).message).toMatch(message);
  });

  test("administration of a DM: FORBIDDEN, saying it is a DM; a stranger is told no more", async () => {
    const ida = await user("ida");
    const room = directRoomName("ida", "jon");
    await chat.send(ida, { action: "dm", user: "jon" });
    const frames = [
      { action: "invite", room },
      { action: "invite", room, user: "kit" },
      { action: "revokeinvite", room, code: "A".repeat(24) },
      { action: "setrole", room, user: "jon", role: "moderator" },
      { action: "kick", room, user: "jon" },
      { action: "ban", room, user: "jon" },
    ];
    for (const frame of frames) {
      expect((await refused(ida, frame, "FORBIDDEN")).message).toMatch(/is a direct message/);
    }
    const kit = await user("kit");
    expect((await refused(kit, { action: "invite", room }, "FORBIDDEN")).message).not.toMatch(
      /direct message/,
    );
  });

  test("a DM's name is never taken or joined into being by anything but dm", async () => {
    const lu = await user("lu");
    const unopened = directRoomName("lu", "max");
    const reply = await refused(lu, { action: "createroom", room: unopened, private: true }, "INVALID");
    expect(reply.message).toMatch(/kept for direct messages/);
    await refused(lu, { action: "joinroom", room: unopened }, "FORBIDDEN");
    await chat.settle();
    const before = await chat.items();
    const handshake = await chat.run(
      wsClient({ authorizer: { sub: "lu", name: "lu" } }).connectEvent({ room: unopened }),
    );
    expect(handshake.statusCode).toBe(403);
    await chat.settle();
    expect(await chat.items()).toEqual(before);
    // Opened by dm, lu gets in.
    expect(await chat.send(lu, { action: "dm", user: "max" })).toMatchObject({
      type: "joined",
      room: unopened,
    });
  });
});
