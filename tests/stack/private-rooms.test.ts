import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { ask, connect, handshakeStatus, type Frame } from "../support/ws-client";

// A private room on the local stack, with real `ws` clients: a stranger is refused, an
// invitation lets its holder in, and a kicked member is out of everything that follows.
let stack: LocalStack;
beforeAll(async () => (stack = await startTestStack()));
afterAll(() => stack.stop());

test("createroom, a refused stranger, an invitation, and a kick that ends delivery", async () => {
  const owner = await connect(`${stack.wsUrl}?name=olive&room=hall`);
  expect(await ask(owner, { action: "createroom", room: "den", private: true }, "created")).toEqual({
    type: "created",
    room: "den",
    private: true,
  });

  const stranger = await connect(`${stack.wsUrl}?name=sam&room=hall`);
  expect(await ask(stranger, { action: "joinroom", room: "den" }, "joined")).toMatchObject({
    type: "error",
    code: "FORBIDDEN",
  });
  expect(await handshakeStatus(`${stack.wsUrl}?name=sam&room=den`)).toBe(403);
  // Direct messages need auth (a token's subject): a guest is refused.
  expect(await ask(stranger, { action: "dm", user: "olive" }, "joined")).toMatchObject({
    type: "error",
    code: "FORBIDDEN",
  });
  // The room directory follows the table's stream: list it once the stream has been read.
  await stack.settled();
  const listed = await ask(stranger, { action: "listrooms" }, "rooms");
  expect((listed.rooms as Frame[]).map((r) => r.room)).toEqual(["hall"]);

  const { code } = await ask(owner, { action: "invite", room: "den" }, "invite");
  const guest = await connect(`${stack.wsUrl}?name=gail&room=hall`);
  expect(await ask(guest, { action: "joinroom", room: "den", invite: code }, "joined")).toMatchObject({
    type: "joined",
    members: 2,
  });
  expect(
    await ask(stranger, { action: "joinroom", room: "den", invite: "A".repeat(24) }, "joined"),
  ).toMatchObject({
    code: "INVITE_INVALID",
  });

  expect(await ask(owner, { action: "kick", room: "den", user: "gail" }, "kicked")).toEqual({
    type: "kicked",
    room: "den",
    user: "gail",
  });
  expect(await owner.next((f) => f.type === "presence" && f.event === "leave")).toEqual({
    type: "presence",
    room: "den",
    event: "leave",
    name: "gail",
    guest: true,
    kicked: true,
  });
  // The owner's ack comes after the fast path posted to every member; the kicked client's own
  // reply after that: anything posted to it before would have arrived first.
  expect(
    await ask(owner, { action: "sendmessage", room: "den", message: "members only" }, "ack"),
  ).toMatchObject({
    type: "ack",
  });
  expect(await ask(guest, { action: "history", room: "den" }, "history")).toMatchObject({
    code: "FORBIDDEN",
  });
  expect(guest.frames).not.toContainEqual(expect.objectContaining({ text: "members only" }));

  for (const client of [owner, stranger, guest]) await client.close();
});
