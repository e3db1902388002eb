import type { WebSocketEvent } from "../../handlers/route";
import { recordingGateways, routeEvent, type RecordingGateway } from "../support/local-stack";
import { connect, type TestClient } from "../support/ws-client";

// Where AWS refuses, the local gateway refuses the same way: oversized route responses,
// integrations past the timeout, stage throttling; and a fault mode without `$disconnect`.
const gateway = recordingGateways();

/** A client that also keeps every text frame exactly as it arrived, and its connection id. */
async function client(g: RecordingGateway) {
  const c = await connect(g.wsUrl);
  const texts: string[] = [];
  c.ws.on("message", (data: Buffer) => texts.push(data.toString("utf8")));
  c.send({ action: "echo" });
  const { event } = await c.next((f) => f.route === "echo");
  return { client: c, texts, connectionId: (event as WebSocketEvent).requestContext.connectionId };
}

/** API Gateway's own error frame, byte for byte (one space after `"message":` only). */
const gatewayFrame = (message: string, connectionId: string, requestId = "[A-Za-z0-9_-]{15}=") =>
  new RegExp(`^\\{"message": "${message}", "connectionId":"${connectionId}", "requestId":"${requestId}"\\}$`);

const stillOpen = async (c: TestClient) => {
  c.send({ action: "echo" });
  await c.next((f) => f.route === "echo");
};

describe("route responses over 131,072 bytes", () => {
  it("sends a route response of exactly 131,072 bytes, and drops one byte more for API Gateway's error frame", async () => {
    const g = await gateway();
    const { client: c, texts, connectionId } = await client(g);
    c.send({ action: "big", bytes: 131072 });
    const fits = await c.next((f) => f.route === "big");
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(131072);

    c.send({ action: "big", bytes: 131073 });
    const event = await g.event((e) => e.requestContext.routeKey === "big" && e.body!.includes("131073"));
    const error = await c.next((f) => f.message === "Internal server error");
    expect(texts).toContainEqual(
      expect.stringMatching(
        gatewayFrame("Internal server error", connectionId, event.requestContext.requestId),
      ),
    );
    expect(error).toEqual({
      message: "Internal server error",
      connectionId,
      requestId: event.requestContext.requestId,
    });
    await stillOpen(c);
    expect(c.frames.filter((f) => typeof f === "object" && f.route === "big")).toHaveLength(1);
    await c.close();
  });
});

describe("the integration timeout", () => {
  it("answers `Endpoint request timed out` after integrationTimeoutMs, keeps the connection and drops the late reply", async () => {
    const g = await gateway({ integrationTimeoutMs: 300 });
    const { client: c, texts, connectionId } = await client(g);
    const sent = performance.now();
    c.send({ action: "slow", ms: 800 });
    const event = await g.event(routeEvent("slow", connectionId));
    const { requestId } = event.requestContext;
    const timedOut = await c.next((f) => f.message === "Endpoint request timed out");
    const waited = performance.now() - sent;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(800);
    expect(timedOut).toEqual({ message: "Endpoint request timed out", connectionId, requestId });
    expect(texts).toContainEqual(
      expect.stringMatching(gatewayFrame("Endpoint request timed out", connectionId, requestId)),
    );

    // The handler finishes later; its reply never reaches the client, which stays connected.
    while (!g.finished.includes(requestId)) await new Promise((done) => setTimeout(done, 50));
    await stillOpen(c);
    expect(c.frames.filter((f) => typeof f === "object" && f.route === "slow")).toEqual([]);
    await c.close();
  });

  it("passes an integration that answers within the timeout", async () => {
    const g = await gateway({ integrationTimeoutMs: 300 });
    const { client: c } = await client(g);
    c.send({ action: "slow", ms: 50 });
    expect(await c.next((f) => f.route === "slow" || typeof f.message === "string")).toEqual({
      route: "slow",
    });
    await c.close();
  });
});

describe("stage throttling", () => {
  // The bucket refills by a clock the test moves: a slow machine changes no count.
  let clockMs = 0;
  const throttlingClock = () => clockMs;

  it("lets a burst through, then answers `Too Many Requests` without routing, then refills at the rate", async () => {
    const g = await gateway({
      throttling: { defaultRoute: { rateLimit: 5, burstLimit: 3 } },
      throttlingClock,
    });
    const { client: c, texts, connectionId } = await client(g);
    const before = g.events.filter(routeEvent("$default", connectionId)).length;
    for (let i = 0; i < 6; i++) c.send({ n: i });
    const replies = [];
    for (let i = 0; i < 6; i++)
      replies.push(await c.next((f) => f.route === "$default" || f.message === "Too Many Requests"));
    expect(replies.filter((f) => f.route === "$default")).toHaveLength(3);
    const throttled = replies.filter((f) => f.message === "Too Many Requests");
    expect(throttled).toHaveLength(3);
    expect(texts.filter((t) => gatewayFrame("Too Many Requests", connectionId).test(t))).toHaveLength(3);
    // Throttled messages never reached a handler.
    expect(g.events.filter(routeEvent("$default", connectionId)).length - before).toBe(3);

    // 5 tokens a second: 199 ms bring none, 100 ms more one.
    clockMs += 199;
    c.send({ n: "too soon" });
    expect(await c.next((f) => f.route === "$default" || f.message === "Too Many Requests")).toMatchObject({
      message: "Too Many Requests",
    });
    clockMs += 100;
    c.send({ n: "after" });
    expect(await c.next((f) => f.route === "$default" || f.message === "Too Many Requests")).toMatchObject({
      route: "$default",
    });
    await c.close();
  });

  it("throttles each route as a whole, not each connection: a route's bucket is shared, another route's is not", async () => {
    const g = await gateway({
      throttling: { defaultRoute: { rateLimit: 1, burstLimit: 2 } },
      throttlingClock,
    });
    const a = await connect(g.wsUrl);
    const b = await connect(g.wsUrl);
    a.send({ from: "a" });
    b.send({ from: "b" });
    await a.next((f) => f.route === "$default");
    await b.next((f) => f.route === "$default");
    // $default's bucket is empty for everyone now...
    a.send({ from: "a" });
    b.send({ from: "b" });
    expect(await a.next()).toMatchObject({ message: "Too Many Requests" });
    expect(await b.next()).toMatchObject({ message: "Too Many Requests" });
    // ...and `echo`'s is still full: a flood of one route does not throttle the others.
    b.send({ action: "echo" });
    expect(await b.next()).toMatchObject({ route: "echo" });
    await a.close();
    await b.close();
  });

  it("gives `$default` the small bucket of its route settings: a flood of junk leaves the other routes alone", async () => {
    const g = await gateway({
      throttling: {
        defaultRoute: { rateLimit: 1, burstLimit: 50 },
        routes: { $default: { rateLimit: 1, burstLimit: 2 } },
      },
      throttlingClock,
    });
    const flooder = await connect(g.wsUrl);
    const other = await connect(g.wsUrl);
    for (let i = 0; i < 40; i++) flooder.send(`junk ${i}`);
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await flooder.next());
    expect(answers.filter((f) => typeof f === "object" && f.message === "Too Many Requests")).toHaveLength(
      38,
    );
    const echoes = [];
    for (let i = 0; i < 10; i++) other.send({ action: "echo", i });
    for (let i = 0; i < 10; i++) echoes.push(await other.next());
    expect(echoes.every((f) => typeof f === "object" && f.route === "echo")).toBe(true);
    await flooder.close();
    await other.close();
  });

  it("does not count $connect against the stage's bucket", async () => {
    const g = await gateway({
      throttling: { defaultRoute: { rateLimit: 1, burstLimit: 1 } },
      throttlingClock,
    });
    const clients = await Promise.all([1, 2, 3].map(() => connect(g.wsUrl)));
    clients[0].send({ first: true });
    expect(await clients[0].next()).toMatchObject({ route: "$default" });
    await Promise.all(clients.map((c) => c.close()));
  });
});

describe("the dropDisconnects fault mode", () => {
  it("never runs $disconnect, whoever closes the connection", async () => {
    const g = await gateway({ dropDisconnects: true, idleTimeoutMs: 200 });
    const byClient = await client(g);
    await byClient.client.close(1000, "bye");
    const idle = await client(g);
    expect(await idle.client.closed).toEqual({ code: 1001, reason: "Going away" });
    const dropped = await client(g);
    dropped.client.ws.terminate();
    const open = await client(g);
    await g.stop();
    expect(await open.client.closed).toEqual({ code: 1001, reason: "Going away" });
    expect(g.events.filter((e) => e.requestContext.routeKey === "$disconnect")).toEqual([]);
    expect(g.events.filter((e) => e.requestContext.routeKey === "$connect")).toHaveLength(4);
  });
});
