import { signToken } from "../../handlers/token";
import { localAuthSecret } from "../../local/auth-secret";
import { expiredToken } from "../support/tokens";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { connect, handshakeStatus, type Frame } from "../support/ws-client";

// The local gateway runs the same JWT authorizer as a stack with `authSecret` on `$connect`.
const secret = "local-auth-test-secret-0123456789abcdef";
let stack: LocalStack;
// Connection caps of 1: loopback clients (every test here) must never meet them.
const caps = { MAX_CONNECTIONS_PER_USER: "1", MAX_CONNECTIONS_PER_IP: "1" };
beforeAll(async () => (stack = await startTestStack({ authSecret: secret, env: caps })));
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
  // Names from a verified token: no frame marks them as a guest's.
  const join = await alice.next((f: Frame) => f.type === "presence");
  expect(join).toMatchObject({ event: "join", name: "bob" });
  expect(join).not.toHaveProperty("guest");
  alice.send({ action: "sendmessage", message: "signed hello" });
  const message = await bob.next((f: Frame) => f.type === "message");
  expect(message).toMatchObject({ from: "alice", text: "signed hello" });
  expect(message).not.toHaveProperty("guest");
  alice.send({ action: "members", room: "lobby" });
  const members = await alice.next((f: Frame) => f.type === "members");
  // Each named with its token subject as `user`: whom moderation and dm name with auth on.
  expect(members.members).toEqual(
    expect.arrayContaining([
      { name: "alice", user: "user-1" },
      { name: "bob", user: "user-2" },
    ]),
  );
  expect(members.members).toHaveLength(2);
  await Promise.all([alice.close(), bob.close()]);
});

test("5. a token whose name breaks the ?name= rules, or that lives too long: 403", async () => {
  const rtl = await signToken(secret, { sub: "u5", name: "\u202e" + "x".repeat(300) });
  expect(await handshakeStatus(withToken(rtl))).toBe(403);
  const system = await signToken(secret, { sub: "u6", name: "System" });
  expect(await handshakeStatus(withToken(system))).toBe(403);
  const century = await signToken(secret, { sub: "u7", name: "carol" }, 100 * 365 * 24 * 60 * 60);
  expect(await handshakeStatus(withToken(century))).toBe(403);
});

test("6. the local stack refuses to start with an AUTH_SECRET under 32 characters", async () => {
  await expect(startTestStack({ authSecret: "x" })).rejects.toThrow(
    "AUTH_SECRET must be at least 32 characters (it has 1)",
  );
  const saved = process.env.AUTH_SECRET;
  process.env.AUTH_SECRET = "short";
  try {
    expect(() => localAuthSecret()).toThrow("AUTH_SECRET must be at least 32 characters (it has 5)");
  } finally {
    if (saved === undefined) delete process.env.AUTH_SECRET;
    else process.env.AUTH_SECRET = saved;
  }
});

test("7. loopback is never capped: three connections of one user from 127.0.0.1 with caps of 1", async () => {
  const token = await signToken(secret, { sub: "user-loopback", name: "dana" });
  const tabs = await Promise.all([1, 2, 3].map(() => connect(withToken(token, "&room=tabs"))));
  tabs[0].send({ action: "sendmessage", message: "to my other tabs" });
  for (const tab of tabs.slice(1))
    expect(await tab.next((f: Frame) => f.type === "message")).toMatchObject({ from: "dana" });
  await Promise.all(tabs.map((tab) => tab.close()));
});
