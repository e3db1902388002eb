import { directRoomName } from "../../handlers/direct-rooms";
import { openedDm } from "../support/direct-messages";
import { signToken } from "../../handlers/token";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { ask, connect, handshakeStatus, type Frame } from "../support/ws-client";

// Direct messages on the local stack with auth on, through real `ws` clients: one room per pair
// from either side, the other user's connections joined and told, and nobody else let in.
const secret = "local-dm-test-secret-0123456789abcdef";
let stack: LocalStack;
beforeAll(async () => (stack = await startTestStack({ authSecret: secret })));
afterAll(() => stack.stop());

const urlOf = async (sub: string, query = "") =>
  `${stack.wsUrl}?token=${encodeURIComponent(await signToken(secret, { sub, name: sub }))}${query}`;
const as = async (sub: string) => connect(await urlOf(sub));

test("a DM room is the same from both sides and private", async () => {
  const ann = await as("ann");
  const bobPhone = await as("bob");
  const bobLaptop = await as("bob");
  const cy = await as("cy");
  const room = directRoomName("ann", "bob");

  expect(await ask(ann, { action: "dm", user: "bob" }, "joined")).toEqual(openedDm(room, 3, "bob"));
  for (const bob of [bobPhone, bobLaptop]) {
    expect(await bob.next((f) => f.type === "joined")).toEqual(openedDm(room, 3, "ann"));
  }

  // bob's connections were joined: one posts, ann and bob's other connection get it.
  expect(await ask(bobPhone, { action: "sendmessage", room, message: "hi ann" }, "ack")).toMatchObject({
    type: "ack",
    room,
    seq: 1,
  });
  for (const reader of [ann, bobLaptop]) {
    expect(await reader.next((f) => f.type === "message")).toMatchObject({
      room,
      from: "bob",
      text: "hi ann",
    });
  }
  // From bob's side it is the same room.
  expect(await ask(bobLaptop, { action: "dm", user: "ann" }, "joined")).toMatchObject({
    room,
    members: 3,
    history: [expect.objectContaining({ text: "hi ann" })],
    dm: { with: "ann", name: "ann" },
  });

  // Member counts in the room list follow the table's stream: list once it has been read.
  await stack.settled();
  expect((await ask(ann, { action: "listrooms" }, "rooms")).rooms).toContainEqual({
    room,
    members: 3,
    private: true,
    dm: { with: "bob" },
  });
  expect(
    ((await ask(cy, { action: "listrooms" }, "rooms")).rooms as Frame[]).map((r) => r.room),
  ).not.toContain(room);
  for (const frame of [
    { action: "joinroom", room },
    { action: "history", room },
    { action: "members", room },
    { action: "sendmessage", room, message: "let me in" },
  ]) {
    expect(await ask(cy, frame, "never")).toMatchObject({ type: "error", code: "FORBIDDEN" });
  }
  expect(await handshakeStatus(await urlOf("cy", `&room=${room}`))).toBe(403);
  // Nobody administers a DM, not even its users.
  expect(await ask(ann, { action: "kick", room, user: "bob" }, "kicked")).toMatchObject({
    type: "error",
    code: "FORBIDDEN",
  });
  expect(await ask(ann, { action: "dm", user: "ann" }, "joined")).toMatchObject({
    type: "error",
    code: "INVALID",
  });
  expect(JSON.stringify(cy.frames)).not.toContain("hi ann");

  for (const client of [ann, bobPhone, bobLaptop, cy]) await client.close();
});
