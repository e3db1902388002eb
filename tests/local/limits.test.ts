import { PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import type { WebSocketEvent } from "../../handlers/route";
import { recordingGateways, routeEvent, type RecordingGateway } from "../support/local-stack";
import { opcodes, rawWebSocket } from "../support/raw-websocket";
import { connect } from "../support/ws-client";

// API Gateway's limits: 32 KB a frame, 128 KB a message, text only, idle 10 min, 2 h at most.
const KB = 1024;
const gateway = recordingGateways();

/** A raw client and its connection id, from the `$connect` event its `probe` marks. */
async function rawClient(g: RecordingGateway, probe: string) {
  const raw = await rawWebSocket(g.port, `/?probe=${probe}`);
  const connectEvent = await g.event((e) => e.queryStringParameters?.probe === probe);
  return { raw, connectionId: connectEvent.requestContext.connectionId };
}

/** The JSON text of `bytes` bytes that routes to `$default`. */
const paddedBody = (bytes: number) => JSON.stringify({ pad: "p".repeat(bytes - 10) });

describe("frame and message size", () => {
  let g: RecordingGateway;
  beforeAll(async () => {
    g = await gateway();
  });

  it("routes a single 32 KB frame", async () => {
    const client = await connect(g.wsUrl);
    const body = paddedBody(32 * KB);
    client.send(body);
    const reply = await client.next((f) => f.route === "$default");
    expect((reply.body as string).length).toBe(32 * KB);
    await client.close();
  });

  it("closes 1009 on a single frame of 32 KB + 1 byte, before any handler sees it", async () => {
    const client = await connect(g.wsUrl);
    client.send({ action: "echo" });
    const { event } = await client.next((f) => f.route === "echo");
    const { connectionId } = (event as WebSocketEvent).requestContext;
    client.send(paddedBody(32 * KB + 1));
    expect(await client.closed).toEqual({ code: 1009, reason: "Message too big" });
    const disconnect = await g.event(routeEvent("$disconnect", connectionId));
    expect(disconnect.requestContext).toMatchObject({
      disconnectStatusCode: 1009,
      disconnectReason: "Message too big",
    });
    expect(g.events.filter(routeEvent("$default", connectionId))).toEqual([]);
  });

  it("routes a 128 KB message sent as four 32 KB fragments", async () => {
    const { raw, connectionId } = await rawClient(g, "fragments-fit");
    const body = Buffer.from(paddedBody(128 * KB));
    for (let i = 0; i < 4; i++) {
      raw.send(
        i === 0 ? opcodes.text : opcodes.continuation,
        body.subarray(i * 32 * KB, (i + 1) * 32 * KB),
        i === 3,
      );
    }
    const event = await g.event(routeEvent("$default", connectionId));
    expect(event.body).toBe(body.toString());
    raw.socket.destroy();
  });

  it("closes 1009 on a message of 128 KB + 1 byte, even in fragments of at most 32 KB", async () => {
    const { raw, connectionId } = await rawClient(g, "fragments-too-big");
    const body = Buffer.from(paddedBody(128 * KB + 1));
    for (let offset = 0; offset < body.length; offset += 32 * KB) {
      const last = offset + 32 * KB >= body.length;
      raw.send(
        offset === 0 ? opcodes.text : opcodes.continuation,
        body.subarray(offset, offset + 32 * KB),
        last,
      );
    }
    expect(await raw.closeFrame()).toEqual({ code: 1009, reason: "Message too big" });
    const disconnect = await g.event(routeEvent("$disconnect", connectionId));
    expect(disconnect.requestContext.disconnectStatusCode).toBe(1009);
    expect(g.events.filter(routeEvent("$default", connectionId))).toEqual([]);
  });
});

describe("binary frames", () => {
  it("closes 1003 on a binary frame, which no handler sees", async () => {
    const g = await gateway();
    const { raw, connectionId } = await rawClient(g, "binary");
    raw.send(opcodes.binary, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(await raw.closeFrame()).toEqual({ code: 1003, reason: "Binary frames are not supported" });
    const disconnect = await g.event(routeEvent("$disconnect", connectionId));
    expect(disconnect.requestContext).toMatchObject({
      disconnectStatusCode: 1003,
      disconnectReason: "Binary frames are not supported",
    });
    expect(g.events.filter(routeEvent("$default", connectionId))).toEqual([]);
  });

  it("closes 1003 when a real ws client sends binary", async () => {
    const g = await gateway();
    const client = await connect(g.wsUrl);
    client.ws.send(Buffer.from("not text"), { binary: true });
    expect((await client.closed).code).toBe(1003);
  });
});

describe("idle timeout and maximum duration", () => {
  it("closes an idle connection with 1001 Going away, and tells $disconnect", async () => {
    const g = await gateway({ idleTimeoutMs: 200 });
    const { raw, connectionId } = await rawClient(g, "idle");
    expect(await raw.closeFrame()).toEqual({ code: 1001, reason: "Going away" });
    const disconnect = await g.event(routeEvent("$disconnect", connectionId));
    expect(disconnect.requestContext).toMatchObject({
      disconnectStatusCode: 1001,
      disconnectReason: "Going away",
    });
  });

  it("keeps a connection that keeps talking past the idle timeout", async () => {
    const idleTimeoutMs = 1000;
    const g = await gateway({ idleTimeoutMs });
    const client = await connect(g.wsUrl);
    // Messages a tenth of the timeout apart (a wide margin for a loaded machine) over 2.5 idle
    // periods; each one is answered.
    for (let i = 0; i < 25; i++) {
      client.send({ action: "echo", i });
      await client.next((f) => f.route === "echo");
      await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs / 10));
    }
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    // Then silence: the idle timeout closes it.
    expect(await client.closed).toEqual({ code: 1001, reason: "Going away" });
  });

  it("counts posts to the client as activity: the idle timeout watches both directions", async () => {
    const idleTimeoutMs = 1000;
    const g = await gateway({ idleTimeoutMs });
    const { raw, connectionId } = await rawClient(g, "posted-to");
    // Posts a tenth of the timeout apart, over 2.5 idle periods; the client says nothing.
    for (let i = 0; i < 25; i++) {
      await g.management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: "{}" }));
      await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs / 10));
    }
    expect(raw.frames.filter((f) => f.opcode === opcodes.close)).toEqual([]);
    expect(await raw.closeFrame()).toEqual({ code: 1001, reason: "Going away" });
  });

  it("does not count ping frames as activity (API Gateway ignores them for the idle timeout)", async () => {
    const idleTimeoutMs = 400;
    const g = await gateway({ idleTimeoutMs });
    const { raw } = await rawClient(g, "pinging");
    // Pings a quarter of the timeout apart; had they counted, 40 of them (ten idle periods, on the
    // same event loop as the gateway's timer) would pass without a close.
    let pings = 0;
    const pinger = setInterval(() => {
      pings++;
      raw.send(opcodes.ping, Buffer.from("keepalive"));
    }, idleTimeoutMs / 4);
    const tooManyPings = new Promise<"still open">((resolve) => {
      const watch = setInterval(() => pings >= 40 && (clearInterval(watch), resolve("still open")), 10);
      void raw.closeFrame().then(() => clearInterval(watch));
    });
    expect(await Promise.race([raw.closeFrame(), tooManyPings])).toEqual({
      code: 1001,
      reason: "Going away",
    });
    clearInterval(pinger);
  });

  it("closes at the maximum duration with 1001 Going away, however busy the connection", async () => {
    const g = await gateway({ maxDurationMs: 500 });
    const client = await connect(g.wsUrl);
    client.send({ action: "echo" });
    const { event } = await client.next((f) => f.route === "echo");
    const { connectionId } = (event as WebSocketEvent).requestContext;
    const chatter = setInterval(() => client.send({ action: "silent" }), 50);
    expect(await client.closed).toEqual({ code: 1001, reason: "Going away" });
    clearInterval(chatter);
    const disconnect = await g.event(routeEvent("$disconnect", connectionId));
    expect(disconnect.requestContext).toMatchObject({
      disconnectStatusCode: 1001,
      disconnectReason: "Going away",
    });
  });
});
