import { DeleteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { queueJobs } from "../../handlers/delivery/fanout";
import { inviteCodeHash } from "../../handlers/invitations";
import { wsClient, type WsClient } from "../support/events";
import { startChat, type Chat, type Frame } from "./harness";

// Private rooms, invitations and moderation, on DynamoDB Local through the real routes:
// a stranger learns nothing of a private room but that its name is taken, every
// refusal writes nothing, and roles only go where the owner puts them.

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

let rooms = 0;
/** A room name no other test uses. */
const freshRoom = (prefix: string) => `${prefix}-${++rooms}`;

/** A connection the `$connect` authorizer let in with a token for `sub`. */
const user = (sub: string, room = "lobby") => chat.connect({ room }, { authorizer: { sub, name: sub } });
const guest = (name: string, room = "lobby") => chat.connect({ name, room });

/**
 * Puts an item of the room's access partition just in the past, as time passing would.
 * DynamoDB Local deletes an expired item about 10 s later, which would change the table
 * under a later test's before/after comparison: `forget` deletes it once it has served.
 */
const expire = (room: string, sk: string) =>
  chat.table.doc.send(
    new UpdateCommand({
      TableName: chat.table.tableName,
      Key: { pk: `room#${room}#access`, sk },
      UpdateExpression: "SET #ttl = :past",
      ExpressionAttributeNames: { "#ttl": "ttl" },
      ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 1 },
    }),
  );
const forget = (room: string, sk: string) =>
  chat.table.doc.send(
    new DeleteCommand({ TableName: chat.table.tableName, Key: { pk: `room#${room}#access`, sk } }),
  );

/** Sends a frame that must be refused with `code`, nothing written (the harness checks). */
const refused = (client: WsClient, frame: object, code: string) => chat.expectRejected(client, frame, code);

async function privateRoomOf(owner: WsClient, prefix = "priv") {
  const room = freshRoom(prefix);
  expect(await chat.send(owner, { action: "createroom", room, private: true })).toEqual({
    type: "created",
    room,
    private: true,
  });
  return room;
}

async function inviteCode(owner: WsClient, room: string): Promise<string> {
  const reply = await chat.send(owner, { action: "invite", room });
  expect(reply).toMatchObject({ type: "invite", room, code: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) });
  return reply.code as string;
}

const listed = async (client: WsClient) =>
  ((await chat.send(client, { action: "listrooms" })).rooms as Frame[]) ?? [];

describe("createroom", () => {
  test("makes the creator owner and first member; the name is taken across public and private rooms", async () => {
    const olga = await guest("olga");
    const room = await privateRoomOf(olga);
    expect(await chat.send(olga, { action: "members", room })).toMatchObject({ members: [{ name: "olga" }] });
    expect(await chat.send(olga, { action: "sendmessage", room, message: "mine" })).toMatchObject({
      type: "ack",
      seq: 1,
    });

    const pete = await guest("pete");
    await refused(pete, { action: "createroom", room, private: true }, "ROOM_TAKEN");
    await refused(pete, { action: "createroom", room: "lobby", private: true }, "ROOM_TAKEN");
    await refused(pete, { action: "createroom", room, private: false }, "ROOM_TAKEN");

    const open = freshRoom("owned");
    expect(await chat.send(pete, { action: "createroom", room: open, private: false })).toEqual({
      type: "created",
      room: open,
      private: false,
    });
    // A public room with an owner lets anyone in, and shows in everyone's list.
    expect(await chat.send(olga, { action: "joinroom", room: open })).toMatchObject({
      type: "joined",
      members: 2,
    });
    expect(await listed(await guest("quin"))).toContainEqual({ room: open, members: 2 });
  });

  test("a first joinroom that races it keeps the room public: createroom is taken back, ROOM_TAKEN", async () => {
    const room = freshRoom("race");
    const creator = await guest("racer");
    const joiner = await guest("joiner");
    // The join lands between createroom's read of the name and its write.
    const { store } = chat.deps;
    const roomInUse = store.roomInUse;
    store.roomInUse = async (name) => {
      const inUse = await roomInUse(name);
      await chat.send(joiner, { action: "joinroom", room });
      return inUse;
    };
    await chat.settle();
    const before = await chat.items();
    try {
      expect(await chat.send(creator, { action: "createroom", room, private: true })).toMatchObject({
        type: "error",
        code: "ROOM_TAKEN",
      });
    } finally {
      store.roomInUse = roomInUse;
    }
    await chat.settle();
    // What is left is the joiner's public room alone: no owner, and the creator not in it.
    const after = await chat.items();
    expect(after.filter((item) => !before.some((b) => b.pk === item.pk && b.sk === item.sk))).toEqual(
      [
        expect.objectContaining({ pk: room, sk: joiner.connectionId }),
        expect.objectContaining({ pk: expect.stringMatching(/^rooms#/), sk: `room#${room}`, members: 1 }),
      ].sort(() => 0),
    );
    expect(await chat.send(creator, { action: "joinroom", room })).toMatchObject({
      type: "joined",
      members: 2,
    });
  });

  test("refuses a malformed `private`", async () => {
    const ruth = await guest("ruth");
    await refused(ruth, { action: "createroom", room: freshRoom("x"), private: "yes" }, "INVALID");
  });
});

describe.each([
  ["guests (auth off)", (name: string) => guest(name)],
  ["users (auth on)", (name: string) => user(name)],
])("a private room, to a stranger: %s", (_label, connect) => {
  test("is not listed, cannot be joined, read, posted to, resumed or have its members learned", async () => {
    const owner = await connect("owner");
    const room = await privateRoomOf(owner);
    await chat.send(owner, { action: "sendmessage", room, message: "secret" });
    const stranger = await connect("stranger");

    expect((await listed(stranger)).map((r) => r.room)).not.toContain(room);
    expect(await listed(owner)).toContainEqual({ room, members: 1, private: true });

    await refused(stranger, { action: "joinroom", room }, "FORBIDDEN");
    await refused(stranger, { action: "history", room }, "FORBIDDEN");
    await refused(stranger, { action: "members", room }, "FORBIDDEN");
    await refused(stranger, { action: "sendmessage", room, message: "hello?" }, "FORBIDDEN");
    await refused(stranger, { action: "leaveroom", room }, "FORBIDDEN");
    // Only the owner or a moderator administers, and a stranger is told no more than a member.
    await refused(stranger, { action: "invite", room }, "FORBIDDEN");

    const before = await chat.items();
    const resumed = await chat.send(stranger, { action: "resume", rooms: [{ room, after: 0 }] });
    expect(resumed).toMatchObject({ type: "resumed", rooms: [], failed: [{ room, code: "FORBIDDEN" }] });
    expect(await chat.items()).toEqual(before);
    expect(JSON.stringify(chat.api.framesTo(stranger.connectionId))).not.toContain("secret");
  });
});

test("a `?room=` at $connect is joined as joinroom joins: 403 for a stranger to a private room or a banned user", async () => {
  const owner = await user("c-owner");
  const room = await privateRoomOf(owner);
  const handshake = async (authorizer?: Record<string, unknown>) => {
    await chat.settle();
    const before = await chat.items();
    const result = await chat.run(wsClient(authorizer ? { authorizer } : {}).connectEvent({ room }));
    await chat.settle();
    if (result.statusCode !== 200) expect(await chat.items()).toEqual(before);
    return result.statusCode;
  };
  expect(await handshake()).toBe(403);
  expect(await handshake({ sub: "c-stranger", name: "stranger" })).toBe(403);
  // A user let in may connect straight into it; once banned, no longer.
  await chat.send(owner, { action: "invite", room, user: "c-friend" });
  expect(await handshake({ sub: "c-friend", name: "friend" })).toBe(200);
  await chat.send(owner, { action: "ban", room, user: "c-friend" });
  expect(await handshake({ sub: "c-friend", name: "friend" })).toBe(403);
});

describe("invitations", () => {
  test("a code lets its holder in; wrong, revoked and expired codes do not, and write nothing", async () => {
    const owner = await guest("ida");
    const room = await privateRoomOf(owner);
    const code = await inviteCode(owner, room);
    const reply = await chat.send(owner, { action: "invite", room });
    expect(Date.parse(reply.expiresAt as string) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    // Only the code's hash is stored.
    expect(JSON.stringify(await chat.items())).not.toContain(code);

    const wrong = await guest("jan");
    await refused(wrong, { action: "joinroom", room, invite: "A".repeat(24) }, "INVITE_INVALID");
    await refused(wrong, { action: "joinroom", room, invite: "not a code" }, "INVALID");

    const revoked = await inviteCode(owner, room);
    expect(await chat.send(owner, { action: "revokeinvite", room, code: revoked })).toEqual({
      type: "revoked",
      room,
      code: revoked,
    });
    await refused(owner, { action: "revokeinvite", room, code: revoked }, "INVITE_INVALID");
    await refused(wrong, { action: "joinroom", room, invite: revoked }, "INVITE_INVALID");

    const expired = await inviteCode(owner, room);
    await expire(room, `invite#${inviteCodeHash(expired)}`);
    await refused(wrong, { action: "joinroom", room, invite: expired }, "INVITE_INVALID");
    await forget(room, `invite#${inviteCodeHash(expired)}`);

    const holder = await guest("kim");
    expect(await chat.send(holder, { action: "joinroom", room, invite: code })).toMatchObject({
      type: "joined",
      members: 2,
      history: [],
    });
    // In for good: a later join and the room's reads need no code.
    expect(await chat.send(holder, { action: "history", room })).toMatchObject({ type: "history" });
    expect(await chat.send(holder, { action: "leaveroom", room })).toEqual({ type: "left", room });
    expect(await chat.send(holder, { action: "joinroom", room })).toMatchObject({ type: "joined" });
  });

  test("with auth on, a user invited directly is told on each connection and may join", async () => {
    const owner = await user("u-owner");
    const room = await privateRoomOf(owner);
    const phone = await user("u-friend");
    const laptop = await user("u-friend");
    chat.api.clearRecords();
    expect(await chat.send(owner, { action: "invite", room, user: "u-friend" })).toEqual({
      type: "invite",
      room,
      user: "u-friend",
    });
    for (const c of [phone, laptop]) {
      expect(chat.api.framesTo(c.connectionId)).toEqual([{ type: "invited", room, by: "u-owner" }]);
    }
    expect(await chat.send(laptop, { action: "joinroom", room })).toMatchObject({
      type: "joined",
      members: 2,
    });
    expect(await chat.send(phone, { action: "joinroom", room })).toMatchObject({
      type: "joined",
      members: 3,
    });
  });

  test("with auth off, a direct invitation is refused: a guest has no lasting identity", async () => {
    const owner = await guest("lena");
    const room = await privateRoomOf(owner);
    await refused(owner, { action: "invite", room, user: "anyone" }, "INVALID");
  });
});

describe("kick and ban", () => {
  test("a kicked member is out: told it was kicked, announced as kicked, loses access, receives nothing after", async () => {
    const owner = await user("k-owner");
    const room = await privateRoomOf(owner);
    const code = await inviteCode(owner, room);
    const out = await user("k-out");
    const stays = await user("k-stays");
    for (const c of [out, stays]) await chat.send(c, { action: "joinroom", room, invite: code });
    chat.api.clearRecords();

    expect(await chat.send(owner, { action: "kick", room, user: "k-out" })).toEqual({
      type: "kicked",
      room,
      user: "k-out",
    });
    expect(chat.api.framesTo(stays.connectionId)).toEqual([
      { type: "presence", room, event: "leave", name: "k-out", kicked: true },
    ]);
    // The kicked connection is told, and nothing of the room reaches it after.
    expect(chat.api.framesTo(out.connectionId)).toEqual([
      { type: "left", room, kicked: true, by: "k-owner" },
    ]);
    chat.api.clearRecords();
    await chat.send(owner, { action: "sendmessage", room, message: "after the kick" });
    expect(chat.api.framesTo(out.connectionId)).toEqual([]);
    expect(chat.api.framesTo(stays.connectionId)).toContainEqual(
      expect.objectContaining({ type: "message", text: "after the kick" }),
    );
    // A retry job for a post that failed before the kick re-checks membership: the kicked one gets
    // nothing, a member still gets it.
    chat.api.clearRecords();
    const retry = (connectionId: string, text: string) => ({
      kind: "recipient" as const,
      room,
      messageId: text.replaceAll(" ", "-"),
      connectionId,
      frame: JSON.stringify({ type: "message", room, text }),
      firstFailedAt: Date.now(),
    });
    await queueJobs(chat.deps, [
      retry(out.connectionId, "late retry"),
      retry(stays.connectionId, "late retry"),
    ]);
    await chat.settle();
    expect(chat.api.framesTo(out.connectionId)).toEqual([]);
    expect(chat.api.framesTo(stays.connectionId)).toEqual([{ type: "message", room, text: "late retry" }]);

    await refused(out, { action: "history", room }, "FORBIDDEN");
    await refused(out, { action: "joinroom", room }, "FORBIDDEN");
    // A new invitation lets a kicked (not banned) member back.
    expect(await chat.send(out, { action: "joinroom", room, invite: code })).toMatchObject({
      type: "joined",
    });
  });

  test("a banned user stays out until the ban ends; a permanent ban does not end", async () => {
    const owner = await user("b-owner");
    const room = freshRoom("pub");
    await chat.send(owner, { action: "createroom", room, private: false });
    const brief = await user("b-brief");
    const forever = await user("b-forever");
    for (const c of [brief, forever]) await chat.send(c, { action: "joinroom", room });

    chat.api.clearRecords();
    const banned = await chat.send(owner, { action: "ban", room, user: "b-brief", minutes: 5 });
    expect(banned).toMatchObject({ type: "banned", room, user: "b-brief", until: expect.any(String) });
    // The banned user's connection is told, with the same end.
    expect(chat.api.framesTo(brief.connectionId)).toEqual([
      { type: "left", room, banned: true, until: banned.until, by: "b-owner" },
    ]);
    expect(await chat.send(owner, { action: "ban", room, user: "b-forever" })).toMatchObject({ until: null });
    await refused(brief, { action: "joinroom", room }, "BANNED");
    await refused(forever, { action: "joinroom", room }, "BANNED");
    await refused(brief, { action: "sendmessage", room, message: "still here?" }, "NOT_A_MEMBER");
    // A second connection of the banned user is refused too: the ban is the user's.
    await refused(await user("b-brief"), { action: "joinroom", room }, "BANNED");

    await expire(room, "ban#user:b-brief");
    expect(await chat.send(brief, { action: "joinroom", room })).toMatchObject({ type: "joined" });
    await forget(room, "ban#user:b-brief");
    await refused(forever, { action: "joinroom", room }, "BANNED");
  });

  test("with auth on, members gives each verified member's subject as `user`: what a kick names", async () => {
    const owner = await user("m-owner");
    const room = await privateRoomOf(owner);
    const code = await inviteCode(owner, room);
    // A display name that is not the subject: only `user` tells the owner whom to name.
    const member = await chat.connect({ room: "lobby" }, { authorizer: { sub: "m-sub-42", name: "Mo" } });
    await chat.send(member, { action: "joinroom", room, invite: code });
    const listed = await chat.send(owner, { action: "members", room });
    expect(listed.members).toEqual(
      expect.arrayContaining([
        { name: "m-owner", user: "m-owner" },
        { name: "Mo", user: "m-sub-42" },
      ]),
    );
    const mo = (listed.members as { name: string; user?: string }[]).find((m) => m.name === "Mo")!;
    expect(await chat.send(owner, { action: "kick", room, user: mo.user })).toMatchObject({ type: "kicked" });
    await refused(member, { action: "history", room }, "FORBIDDEN");
  });

  test("with auth off a member is named by display name; a name two members share is refused", async () => {
    const owner = await guest("mod-owner");
    const room = freshRoom("guests");
    await chat.send(owner, { action: "createroom", room, private: false });
    const twins = [await guest("twin"), await guest("twin")];
    for (const c of twins) await chat.send(c, { action: "joinroom", room });
    const reply = await refused(owner, { action: "kick", room, user: "twin" }, "INVALID");
    expect(reply.message).toMatch(/2 members .* are named twin/);
    await refused(owner, { action: "kick", room, user: "nobody" }, "INVALID");

    await chat.send(twins[1], { action: "leaveroom", room });
    expect(await chat.send(owner, { action: "ban", room, user: "twin" })).toMatchObject({ type: "banned" });
    await refused(twins[0], { action: "joinroom", room }, "BANNED");
  });
});

test("malformed administration frames are INVALID, naming the field, and write nothing", async () => {
  const owner = await user("v-owner");
  const room = await privateRoomOf(owner);
  const cases: [object, RegExp][] = [
    [{ action: "ban", room, user: "v-x", minutes: 0 }, /^minutes: must be 1 to 525600/],
    [{ action: "ban", room, user: "v-x", minutes: 1.5 }, /^minutes: must be a whole number/],
    [{ action: "kick", room }, /^user: is required/],
    [{ action: "kick", room, user: "" }, /^user: must be 1 to 256 characters/],
    [{ action: "setrole", room, user: "v-x" }, /^role: must be moderator or member/],
    [{ action: "revokeinvite", room, code: "short" }, /^code: must be an invitation code/],
    [{ action: "invite", room: "bad/room" }, /^room: must be 1 to 64 characters/],
  ];
  for (const [frame, message] of cases) {
    expect((await refused(owner, frame, "INVALID")).message).toMatch(message);
  }
});

describe("roles cannot be escalated", () => {
  type Role = "owner" | "moderator" | "member" | "stranger";
  const roles: Role[] = ["owner", "moderator", "member", "stranger"];
  let n = 0;

  /** A private room with one connection in each role, and plain members to act on: `<tag>-target` and one per role. */
  async function roomWithEveryRole() {
    const tag = `r${++n}`;
    const owner = await user(`${tag}-owner`);
    const room = await privateRoomOf(owner);
    const code = await inviteCode(owner, room);
    const join = async (sub: string) => {
      const c = await user(sub);
      await chat.send(c, { action: "joinroom", room, invite: code });
      return c;
    };
    const moderator = await join(`${tag}-mod`);
    await chat.send(owner, { action: "setrole", room, user: `${tag}-mod`, role: "moderator" });
    // The new moderator's connection is told.
    expect(chat.api.framesTo(moderator.connectionId)).toContainEqual({
      type: "rolechanged",
      room,
      role: "moderator",
      by: `${tag}-owner`,
    });
    const member = await join(`${tag}-member`);
    for (const target of ["target", ...roles.map((role) => `target-${role}`)]) await join(`${tag}-${target}`);
    const stranger = await user(`${tag}-stranger`);
    return { room, tag, as: { owner, moderator, member, stranger } as Record<Role, WsClient> };
  }

  /** Each action on a plain member (`target`: the user it names), and who may do it. */
  const actions: [string, (room: string, target: string) => object, Role[]][] = [
    ["invite", (room) => ({ action: "invite", room }), ["owner", "moderator"]],
    [
      "invite a user",
      (room, target) => ({ action: "invite", room, user: `${target}-x` }),
      ["owner", "moderator"],
    ],
    ["setrole", (room, target) => ({ action: "setrole", room, user: target, role: "moderator" }), ["owner"]],
    ["kick", (room, target) => ({ action: "kick", room, user: target }), ["owner", "moderator"]],
    ["ban", (room, target) => ({ action: "ban", room, user: target, minutes: 1 }), ["owner", "moderator"]],
  ];

  test.each(actions)(
    "%s: allowed exactly to its roles, refused to the rest with nothing written",
    async (_, frame, allowed) => {
      // One room for every role: each acts on a member of its own, untouched by the others' acts.
      const { room, tag, as } = await roomWithEveryRole();
      for (const role of roles) {
        const target = `${tag}-target-${role}`;
        if (allowed.includes(role)) {
          expect(await chat.send(as[role], frame(room, target))).not.toMatchObject({ type: "error" });
        } else {
          await refused(as[role], frame(room, target), "FORBIDDEN");
        }
      }
    },
  );

  test("members tells each caller its own role, and none in a room without roles", async () => {
    const { room, as } = await roomWithEveryRole();
    const roleIn = async (client: WsClient, name = room) =>
      (await chat.send(client, { action: "members", room: name })).role;
    expect(await roleIn(as.owner)).toBe("owner");
    expect(await roleIn(as.moderator)).toBe("moderator");
    // Let into a private room: a member's role.
    expect(await roleIn(as.member)).toBe("member");
    const open = freshRoom("roleless");
    await chat.send(as.member, { action: "joinroom", room: open });
    expect(await roleIn(as.member, open)).toBeUndefined();
  });

  test("nobody acts on the owner, a moderator not on a moderator, a member never makes itself more", async () => {
    const { room, tag, as } = await roomWithEveryRole();
    const owner = `${tag}-owner`;
    for (const frame of [
      { action: "kick", room, user: owner },
      { action: "ban", room, user: owner },
      { action: "setrole", room, user: owner, role: "member" },
    ]) {
      await refused(as.owner, frame, "FORBIDDEN");
      await refused(as.moderator, frame, "FORBIDDEN");
    }
    await chat.send(as.owner, { action: "setrole", room, user: `${tag}-target`, role: "moderator" });
    await refused(as.moderator, { action: "kick", room, user: `${tag}-target` }, "FORBIDDEN");
    await refused(
      as.member,
      { action: "setrole", room, user: `${tag}-member`, role: "moderator" },
      "FORBIDDEN",
    );
    await refused(
      as.moderator,
      { action: "setrole", room, user: `${tag}-mod`, role: "moderator" },
      "FORBIDDEN",
    );
    await refused(as.owner, { action: "setrole", room, user: `${tag}-member`, role: "owner" }, "INVALID");
  });
});
