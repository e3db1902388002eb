import { connectRoute } from "../../handlers/connect";
import { announcePresence } from "../../handlers/delivery/presence";
import { wsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

describe("$connect", () => {
  test("records the connection with ?name= and joins ?room=", async () => {
    const alice = wsClient();
    const result = await chat.run(alice.connectEvent({ name: "alice", room: "general" }));

    expect(result).toEqual({ statusCode: 200 });
    expect(await chat.deps.store.getConnection(alice.connectionId)).toMatchObject({
      connectionId: alice.connectionId,
      name: "alice",
      defaultRoom: "general",
    });
    expect((await chat.deps.store.getConnection(alice.connectionId))!.rooms).toEqual(["general"]);
    expect(await chat.send(alice, { action: "members", room: "general" })).toEqual({
      type: "members",
      room: "general",
      members: [{ name: "alice" }],
      next: null,
    });
  });

  test("without a query string: a guest name in lobby", async () => {
    const guest = wsClient();
    const event = guest.connectEvent();
    expect(event.queryStringParameters).toBeUndefined();

    expect(await chat.run(event)).toEqual({ statusCode: 200 });
    const connection = await chat.deps.store.getConnection(guest.connectionId);
    expect(connection).toMatchObject({ defaultRoom: "lobby" });
    expect(connection!.name).toMatch(/^guest-[0-9a-f]{6}$/);
    expect(connection!.rooms).toEqual(["lobby"]);
  });

  test("trims the name", async () => {
    const bob = await chat.connect({ name: "  bob  ", room: "trim" });
    expect((await chat.deps.store.getConnection(bob.connectionId))!.name).toBe("bob");
  });

  test.each([
    [{ name: "x".repeat(33) }, "name: must be 1 to 32 characters"],
    [{ name: "   " }, "name: must be 1 to 32 characters"],
    [{ name: "bad\u0007bell" }, "name: must be printable (no control characters)"],
    [{ room: "a#b" }, "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"],
    [{ room: "r".repeat(65) }, "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"],
    [{ name: "ok", room: "" }, "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"],
  ])("invalid %j fails the handshake with 400 and writes nothing", async (query, reason) => {
    const watcher = await chat.connect({ name: "watcher" });
    chat.api.clearRecords();
    const before = await chat.items();
    const client = wsClient();

    expect(await chat.run(client.connectEvent(query))).toEqual({ statusCode: 400, body: reason });
    expect(await chat.items()).toEqual(before);
    expect(chat.api.posts).toEqual([]);
    await chat.disconnect(watcher);
  });

  const blank = "name: must not contain invisible characters (fillers, blanks)";
  const reserved = "name: must not be a reserved name (System, admin, moderator, guest-..., ... joined)";
  test.each([
    ["Hangul filler", "\u3164", blank],
    ["Hangul fillers around a letter", "\u3164a\u3164", blank],
    ["halfwidth Hangul filler", "\uffa0\uffa0", blank],
    ["Braille blank", "\u2800\u2800", blank],
    ["combining grapheme joiner", "bo\u034fb", blank],
    ["combining marks only", "\u0301\u0301", blank],
    [
      "stacked combining marks",
      "z\u0301\u0302\u0303\u0304\u0305",
      "name: must not start with or stack combining marks",
    ],
    [
      "Latin with a Cyrillic a",
      "\u0430lice",
      "name: must not mix Latin, Greek and Cyrillic letters (they look alike)",
    ],
    [
      "Latin with a Greek omicron",
      "b\u03bfb",
      "name: must not mix Latin, Greek and Cyrillic letters (they look alike)",
    ],
    ["System", "System", reserved],
    ["ADMIN, full width", "\uff21\uff24\uff2d\uff29\uff2e", reserved],
    ["moderator, spaced", "Mod Erator", reserved],
    [
      "admin in Cyrillic",
      "\u0430dmin",
      "name: must not mix Latin, Greek and Cyrillic letters (they look alike)",
    ],
    ["a notice", "bob joined", reserved],
    ["a guest name", "guest-1a2b3c", reserved],
    ["RTL override", "\u202eevil", "name: must be printable (no control characters)"],
    ["zero-width space", "zero\u200bwidth", "name: must be printable (no control characters)"],
  ])("a name of %s is refused with 400: %j", async (_, name, reason) => {
    const before = await chat.items();
    expect(await chat.run(wsClient().connectEvent({ name }))).toEqual({ statusCode: 400, body: reason });
    expect(await chat.items()).toEqual(before);
  });

  test.each([
    ["full-width letters", "\uff41\uff4c\uff49\uff43\uff45", "alice"],
    ["an accent, decomposed", "Jose\u0301", "Jos\u00e9"],
    ["Cyrillic only", "\u0410\u043d\u044f", "\u0410\u043d\u044f"],
    ["Devanagari with marks", "\u0915\u094d\u0937\u093f", "\u0915\u094d\u0937\u093f"],
    ["Latin and Japanese", "Ken \u5065\u4e00", "Ken \u5065\u4e00"],
    ["an emoji with its variation selector", "\u2764\ufe0f bob", "\u2764\ufe0f bob"],
    ["a name that contains a reserved word", "Adminah", "Adminah"],
  ])("a name of %s is kept, NFKC-normalised", async (_, name, stored) => {
    const client = await chat.connect({ name, room: "names" });
    expect((await chat.deps.store.getConnection(client.connectionId))!.name).toBe(stored);
    await chat.disconnect(client);
  });

  test("with allowedOrigins, a page from another origin is refused with 403; no Origin (wscat) passes", async () => {
    const deps = {
      ...chat.deps,
      config: { ...chat.deps.config, allowedOrigins: ["https://chat.example.com"] },
    };
    const withOrigin = (origin?: string) => {
      const event = wsClient().connectEvent({ name: "olga" });
      if (origin !== undefined) event.headers = { ...event.headers, Origin: origin };
      return connectRoute.handle(event, deps);
    };
    const before = await chat.items();
    expect(await withOrigin("https://evil.example")).toEqual({ statusCode: 403 });
    expect(await chat.items()).toEqual(before);
    expect(await withOrigin("https://chat.example.com")).toEqual({ statusCode: 200 });
    expect(await withOrigin()).toEqual({ statusCode: 200 });
  });

  test("tells the others in the room, not the newcomer nor other rooms", async () => {
    const carol = await chat.connect({ name: "carol", room: "presence" });
    const dave = await chat.connect({ name: "dave", room: "presence" });
    const elsewhere = await chat.connect({ name: "erin", room: "elsewhere" });
    chat.api.clearRecords();

    const frank = wsClient();
    expect(await chat.run(frank.connectEvent({ name: "frank", room: "presence" }))).toEqual({
      statusCode: 200,
    });
    // The handshake posts nothing: the stream worker announces the join afterwards.
    expect(chat.api.posts).toEqual([]);
    await chat.settle();

    const join = { type: "presence", room: "presence", event: "join", name: "frank" };
    expect(chat.api.framesTo(carol.connectionId)).toEqual([join]);
    expect(chat.api.framesTo(dave.connectionId)).toEqual([join]);
    expect(chat.api.framesTo(elsewhere.connectionId)).toEqual([]);
    expect(chat.api.posts).toHaveLength(2);
  });

  test("a newcomer is not told of a join earlier in the same stream batch", async () => {
    const first = await chat.connect({ name: "first", room: "order" });
    const second = await chat.connect({ name: "second", room: "order" });
    // The two joins as the stream worker sees them when they arrive in one batch.
    const posted: { recipients: readonly string[]; frame: unknown }[] = [];
    const recording = {
      ...chat.deps,
      delivery: {
        broadcast: async (recipients: readonly string[], json: string) => {
          posted.push({ recipients, frame: JSON.parse(json) });
          return { delivered: recipients.length, gone: [], failed: [], throttled: [] };
        },
      },
    };
    await announcePresence(
      recording,
      [
        { room: "order", event: "join", name: "first", connectionId: first.connectionId },
        { room: "order", event: "join", name: "second", connectionId: second.connectionId },
      ],
      new Map([["order", 2]]),
    );

    expect(posted).toEqual([
      { recipients: [], frame: { type: "presence", room: "order", event: "join", name: "first" } },
      {
        recipients: [first.connectionId],
        frame: { type: "presence", room: "order", event: "join", name: "second" },
      },
    ]);
  });

  test("connection ids are case-sensitive", async () => {
    const upper = await chat.connect({ name: "upper", room: "casing" }, { connectionId: "AbCdEfGhIjKlMnO=" });
    const lower = await chat.connect({ name: "lower", room: "casing" }, { connectionId: "abcdefghijklmno=" });

    expect((await chat.deps.store.getConnection(upper.connectionId))!.name).toBe("upper");
    expect((await chat.deps.store.getConnection(lower.connectionId))!.name).toBe("lower");
    await chat.disconnect(upper);
    expect(await chat.deps.store.getConnection(lower.connectionId)).toBeDefined();
  });

  test("does the same work whatever the room's size: two items written, nothing posted", async () => {
    for (let i = 0; i < 30; i++) await chat.run(wsClient().connectEvent({ name: `crowd${i}`, room: "big" }));
    await chat.settle();
    const before = await chat.items();
    const posted = chat.api.posts.length;
    const late = wsClient();
    expect(await chat.run(late.connectEvent({ name: "late", room: "big" }))).toEqual({ statusCode: 200 });
    expect(chat.api.posts.length).toBe(posted);
    const added = (await chat.items()).filter(
      (item) => !before.some((b) => b.pk === item.pk && b.sk === item.sk),
    );
    expect(added.map((item) => [item.pk, item.sk])).toEqual([
      ["big", late.connectionId],
      [`conn#${late.connectionId}`, "connection"],
    ]);
  });
});

describe("$disconnect", () => {
  test("removes the connection and all its memberships, and tells each room", async () => {
    const gina = await chat.connect({ name: "gina", room: "bye-a" });
    const inA = await chat.connect({ name: "hank", room: "bye-a" });
    const inB = await chat.connect({ name: "ivy", room: "bye-b" });
    expect(await chat.send(gina, { action: "joinroom", room: "bye-b" })).toMatchObject({ type: "joined" });
    chat.api.clearRecords();

    expect(await chat.disconnect(gina)).toEqual({ statusCode: 200 });

    expect(chat.api.framesTo(inA.connectionId)).toEqual([
      { type: "presence", room: "bye-a", event: "leave", name: "gina" },
    ]);
    expect(chat.api.framesTo(inB.connectionId)).toEqual([
      { type: "presence", room: "bye-b", event: "leave", name: "gina" },
    ]);
    expect(chat.api.framesTo(gina.connectionId)).toEqual([]);
    const left = (await chat.items()).filter((item) => JSON.stringify(item).includes(gina.connectionId));
    expect(left).toEqual([]);
    const rooms = await chat.deps.store.listRooms();
    expect(rooms).toEqual(
      expect.arrayContaining([
        { room: "bye-a", members: 1 },
        { room: "bye-b", members: 1 },
      ]),
    );
  });

  test("is idempotent: a second call and an unknown id succeed quietly", async () => {
    const jack = await chat.connect({ name: "jack", room: "twice" });
    const other = await chat.connect({ name: "kim", room: "twice" });
    expect(await chat.disconnect(jack)).toEqual({ statusCode: 200 });
    const before = await chat.items();
    const logged = chat.logs().length;
    chat.api.clearRecords();

    expect(await chat.disconnect(jack)).toEqual({ statusCode: 200 });
    expect(await chat.disconnect(wsClient())).toEqual({ statusCode: 200 });

    expect(await chat.items()).toEqual(before);
    expect(chat.api.posts).toEqual([]);
    expect(
      chat
        .logs()
        .slice(logged)
        .filter((line) => line.level !== "info"),
    ).toEqual([]);
    await chat.disconnect(other);
  });
});
