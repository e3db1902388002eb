import { startChat, type Chat } from "./harness";

// Every frame that shows a name says whether it is a guest's (no verified token identity):
// `guest: true` next to the name, and no field at all for a verified one.

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());
beforeEach(() => chat.api.clearRecords());

/** A connection the `$connect` authorizer let in with a token for `name`. */
const verified = (name: string, room: string) =>
  chat.connect({ room }, { authorizer: { sub: `user-${name}`, name } });

test("presence join and leave, pushed messages and members mark the guest, not the verified user", async () => {
  const vera = await verified("vera", "mixed");
  chat.api.clearRecords();
  const gus = await chat.connect({ name: "gus", room: "mixed" });
  expect(chat.api.framesTo(vera.connectionId)).toEqual([
    { type: "presence", room: "mixed", event: "join", name: "gus", guest: true },
  ]);

  const walt = await verified("walt", "mixed");
  expect(chat.api.framesTo(gus.connectionId)).toEqual([
    { type: "presence", room: "mixed", event: "join", name: "walt" },
  ]);
  chat.api.clearRecords();

  await chat.send(gus, { action: "sendmessage", message: "from a guest" });
  await chat.send(vera, { action: "sendmessage", message: "from vera" });
  expect(chat.api.framesTo(walt.connectionId)).toEqual([
    expect.objectContaining({ type: "message", from: "gus", guest: true, text: "from a guest" }),
    expect.not.objectContaining({ guest: expect.anything() }),
  ]);
  expect(chat.api.framesTo(walt.connectionId)[1]).toMatchObject({ from: "vera", text: "from vera" });

  const members = await chat.send(walt, { action: "members", room: "mixed" });
  expect(members.members).toEqual(
    // A verified member also carries its token subject (whom moderation and `dm` name); a guest has none.
    expect.arrayContaining([
      { name: "gus", guest: true },
      { name: "vera", user: "user-vera" },
      { name: "walt", user: "user-walt" },
    ]),
  );
  expect(members.members).toHaveLength(3);

  chat.api.clearRecords();
  await chat.disconnect(gus);
  await chat.disconnect(vera);
  expect(chat.api.framesTo(walt.connectionId)).toEqual([
    { type: "presence", room: "mixed", event: "leave", name: "gus", guest: true },
    { type: "presence", room: "mixed", event: "leave", name: "vera" },
  ]);
});

test("history, joined and resumed items mark the guest's messages; a joined room keeps the mark", async () => {
  const guest = await chat.connect({ name: "gina", room: "home" });
  const user = await verified("uma", "home");
  // Both send in a room they joined after connecting: the membership a join writes keeps the mark too.
  await chat.send(guest, { action: "joinroom", room: "later" });
  await chat.send(user, { action: "joinroom", room: "later" });
  await chat.send(guest, { action: "sendmessage", room: "later", message: "guest here" });
  await chat.send(user, { action: "sendmessage", room: "later", message: "user here" });
  const expected = [
    expect.objectContaining({ from: "gina", guest: true, text: "guest here" }),
    expect.not.objectContaining({ guest: expect.anything() }),
  ];

  const history = await chat.send(user, { action: "history", room: "later" });
  expect(history.messages).toEqual(expected);

  const newcomer = await chat.connect({ name: "nico", room: "home" });
  const joined = await chat.send(newcomer, { action: "joinroom", room: "later" });
  expect(joined.history).toEqual(expected);
  expect(chat.api.framesTo(user.connectionId)).toContainEqual({
    type: "presence",
    room: "later",
    event: "join",
    name: "nico",
    guest: true,
  });

  const resumed = await chat.send(newcomer, { action: "resume", rooms: [{ room: "later", after: 0 }] });
  expect((resumed.rooms as { history: unknown[] }[])[0].history).toEqual(expected);
});
