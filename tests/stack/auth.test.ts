import { signToken } from "../../handlers/token";
import { expiredToken } from "../support/tokens";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { connect, handshakeStatus, type Frame } from "../support/ws-client";

// The local gateway runs the same JWT authorizer as a stack with `authSecret` on `$connect`.
const secret = "local-auth-test-secret-0123456789abcdef";
let stack: LocalStack;
beforeAll(async () => (stack = await startTestStack({ authSecret: secret })));
afterAll(() => stack.stop());

const withToken = (token: string, query = "") => `${stack.wsUrl}?token=${encodeURIComponent(token)}${query}`;

test("1. no token: 401 before the authorizer or $connect runs", async () => {
  expect(await handshakeStatus(`${stack.wsUrl}?name=alice`)).toBe(401);
  expect(await handshakeStatus(`${stack.wsUrl}?token=`)).toBe(401);
});

test("2. a forged token: 403", async () => {
  const forged = await signToken("another-secret-entirely-0123456789", { sub: "u1", name: "alice" });
  expect(await handshakeStatus(withToken(forged))).toBe(403);
  expect(await handshakeStatus(withToken("not.a.jwt"))).toBe(403);
});

test("3. an expired token: 403", async () => {
  const expired = await expiredToken(secret);
  expect(await handshakeStatus(withToken(expired))).toBe(403);
});

test("4. a valid token connects, and the name comes from it, never from ?name=", async () => {
  const alice = await connect(
    withToken(await signToken(secret, { sub: "user-1", name: "alice" }), "&name=mallory"),
  );
  const bob = await connect(withToken(await signToken(secret, { sub: "user-2", name: "bob" })));
  expect(await alice.next((f: Frame) => f.type === "presence")).toMatchObject({ event: "join", name: "bob" });
  alice.send({ action: "sendmessage", message: "signed hello" });
  expect(await bob.next((f: Frame) => f.type === "message")).toMatchObject({
    from: "alice",
    text: "signed hello",
  });
  alice.send({ action: "members", room: "lobby" });
  const members = await alice.next((f: Frame) => f.type === "members");
  expect((members.members as { name: string }[]).map((m) => m.name).sort()).toEqual(["alice", "bob"]);
  await Promise.all([alice.close(), bob.close()]);
});
