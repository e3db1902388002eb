/** @exclusive */
import pLimit from "p-limit";
import { configEnv } from "../../handlers/config";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { connect, type Frame, type TestClient } from "../support/ws-client";

// A room of a few thousand real `ws` clients on the local stack: it assembles quickly
// (the handshake does the same work in any room) and chats through the FIFO queue path.
const members = 2000;
const room = "arena";

let stack: LocalStack;

beforeAll(async () => {
  // Nobody leaves while the test looks: the stop at the end would otherwise run 2,000
  // `$disconnect`s (and their presence fan-out) that nothing checks.
  stack = await startTestStack({
    gateway: { dropDisconnects: true },
    // 2,000 clients on one loaded process answer posts slowly: no listener is given up on here,
    // and no slow post is cut off and made again (loaded 2-core runs with the 3 s default counted
    // 771-839 repeats).
    env: { [configEnv.recipientGiveUpSeconds]: "600", [configEnv.postTimeoutMs]: "30000" },
  });
}, 60_000);

afterAll(() => stack?.stop(), 120_000);

const messagesOf = (client: TestClient) =>
  client.frames.filter((f): f is Frame => typeof f === "object" && f.type === "message");

/** Distinct messages a client has: a repeat (allowed after a retried post) does not count twice. */
const distinctMessages = (client: TestClient) => new Set(messagesOf(client).map((m) => m.id)).size;

/** Resolves once every client has `count` distinct messages. */
async function everyoneHas(others: TestClient[], count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (others.some((c) => distinctMessages(c) < count)) {
    if (Date.now() > deadline) {
      const short = others.filter((c) => distinctMessages(c) < count).length;
      throw new Error(`${short} of ${others.length} clients still short of ${count} messages`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it(`${members} clients assemble in one room and chat: every message reaches everyone, in order`, async () => {
  const started = performance.now();
  const limit = pLimit(100);
  const clients = await Promise.all(
    Array.from({ length: members }, (_, i) =>
      limit(() => connect(`${stack.wsUrl}?name=member-${i}&room=${room}`)),
    ),
  );
  const assembled = performance.now() - started;
  await stack.settled(60_000);

  const [sender, ...others] = clients;
  const sent: string[] = [];
  const deliveries: number[] = [];
  for (const text of ["first", "second", "third"]) {
    const at = performance.now();
    sender.send({ action: "sendmessage", message: text });
    const ack = await sender.next((f) => f.type === "ack");
    sent.push(ack.id as string);
    await everyoneHas(others, sent.length, 60_000);
    deliveries.push(performance.now() - at);
  }

  // In the order stored. A repeat may only follow a fault (a post that timed out on a loaded
  // machine is retried, though it may have arrived): clients drop repeats by id, as the web client does.
  let repeats = 0;
  for (const client of others) {
    const ids = messagesOf(client).map((m) => m.id as string);
    repeats += ids.length - new Set(ids).size;
    expect([...new Set(ids)]).toEqual(sent);
  }
  expect(messagesOf(sender)).toEqual([]);
  expect(await stack.settled(30_000)).toBeUndefined();
  console.log(
    `large room: ${members} ws clients assembled in ${(assembled / 1000).toFixed(1)} s; ` +
      `each message reached all ${others.length} others in ${deliveries.map((ms) => `${Math.round(ms)} ms`).join(", ")}; ` +
      `${repeats} repeat(s)`,
  );
}, 240_000);
