import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { connect, type Frame, type TestClient } from "../support/ws-client";

// A client session scopes `clientId`s across reconnects. It is issued by the server (the
// `session` action), so knowing or guessing another client's is not enough to act as it.
let stack: LocalStack;
beforeAll(async () => (stack = await startTestStack()));
afterAll(() => stack.stop());

const ofType = (type: string) => (f: Frame) => f.type === type;
const ackOf = async (client: TestClient, frame: object) => {
  client.send(frame);
  return client.next((f) => f.type === "ack" || f.type === "error");
};
const sessionOf = async (client: TestClient) => {
  client.send({ action: "session" });
  return (await client.next(ofType("session"))).session as string;
};

test("the hijack: a client-chosen ?session= shared by an attacker does not swallow the victim's clientId", async () => {
  const chosen = "victim-session-0001";
  const victim = await connect(`${stack.wsUrl}?name=victim&room=hijack&session=${chosen}`);
  const attacker = await connect(`${stack.wsUrl}?name=attacker&room=hijack&session=${chosen}`);
  const stolen = await ackOf(attacker, {
    action: "sendmessage",
    message: "from the attacker",
    clientId: "c-1",
  });
  const own = await ackOf(victim, { action: "sendmessage", message: "from the victim", clientId: "c-1" });
  expect(own).toMatchObject({ type: "ack", clientId: "c-1" });
  expect(own.id).not.toBe(stolen.id);
  victim.send({ action: "history", room: "hijack" });
  const { messages } = await victim.next(ofType("history"));
  expect((messages as Frame[]).map((m) => [m.id, m.from, m.text])).toEqual([
    [stolen.id, "attacker", "from the attacker"],
    [own.id, "victim", "from the victim"],
  ]);
  await Promise.all([victim.close(), attacker.close()]);
});

test("a session the server issued keeps a clientId idempotent across a reconnect", async () => {
  const first = await connect(`${stack.wsUrl}?name=dana&room=resume`);
  const session = await sessionOf(first);
  expect(session).toMatch(/^[A-Za-z0-9_-]{32}$/);
  // Asked again, the same connection keeps the same session.
  expect(await sessionOf(first)).toBe(session);
  const clientId = "k7Qm2-dana-1";
  const sent = await ackOf(first, { action: "sendmessage", message: "once", clientId });
  await first.close();

  const again = await connect(`${stack.wsUrl}?name=dana&room=resume&session=${session}`);
  expect(await sessionOf(again)).toBe(session);
  const resent = await ackOf(again, { action: "sendmessage", message: "once", clientId });
  expect(resent).toMatchObject({ type: "ack", id: sent.id, clientId });
  await again.close();
});

test("an issued session is not another's: a fresh connection gets its own, and an unissued value is ignored", async () => {
  const a = await connect(`${stack.wsUrl}?name=erin`);
  const b = await connect(`${stack.wsUrl}?name=finn`);
  const [sa, sb] = [await sessionOf(a), await sessionOf(b)];
  expect(sa).not.toBe(sb);
  // Well-formed but never issued: the connection starts without a session and is given a new one.
  const forged = "A".repeat(32);
  const c = await connect(`${stack.wsUrl}?name=gus&session=${forged}`);
  const sc = await sessionOf(c);
  expect([sa, sb, forged]).not.toContain(sc);
  await Promise.all([a.close(), b.close(), c.close()]);
});
