import { DeleteConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import type { WebSocketEvent } from "../../handlers/route";
import { recordingGateways, routeEvent, type RecordingGateway } from "../support/local-stack";
import { opcodes, rawWebSocket } from "../support/raw-websocket";
import { connect, type TestClient } from "../support/ws-client";

// `$disconnect` fires after every kind of close, with its code and reason, exactly once.
// Each test has gateways of its own: what one closes never counts in another.
const startGateway = recordingGateways();

async function idOf(client: TestClient): Promise<string> {
  client.send({ action: "echo" });
  const { event } = await client.next((f) => f.route === "echo");
  return (event as WebSocketEvent).requestContext.connectionId;
}

async function disconnectOf(g: RecordingGateway, connectionId: string) {
  const event = await g.event(routeEvent("$disconnect", connectionId));
  const { disconnectStatusCode, disconnectReason } = event.requestContext;
  return { disconnectStatusCode, disconnectReason };
}

/**
 * Stops the gateway (which closes what is left open and waits for every handler), then
 * checks that each connection got exactly one `$disconnect`: a close never fires a second.
 */
async function expectOneDisconnectEach(g: RecordingGateway, connectionIds: string[]) {
  await g.stop();
  for (const id of connectionIds)
    expect({ id, count: g.events.filter(routeEvent("$disconnect", id)).length }).toEqual({ id, count: 1 });
}

/** A raw client, for closes a polite client never makes. */
async function rawClient(g: RecordingGateway, probe: string) {
  const raw = await rawWebSocket(g.port, `/?probe=${probe}`);
  const { connectionId } = (await g.event((e) => e.queryStringParameters?.probe === probe)).requestContext;
  return { raw, connectionId };
}

it.each([
  ["a normal client close", 1000, "", ""],
  ["a client close with its own code and reason", 4000, "see you", "see you"],
  ["a browser leaving the page", 1001, "", ""],
])("reports %s with the client's code and reason", async (_what, code, reason, expected) => {
  const gateway = await startGateway();
  const client = await connect(gateway.wsUrl);
  const id = await idOf(client);
  await client.close(code, reason);
  expect(await disconnectOf(gateway, id)).toEqual({ disconnectStatusCode: code, disconnectReason: expected });
  await expectOneDisconnectEach(gateway, [id]);
});

it("reports a close frame without a code as 1005, in AWS's words", async () => {
  const gateway = await startGateway();
  const client = await connect(gateway.wsUrl);
  const id = await idOf(client);
  await client.close();
  expect(await disconnectOf(gateway, id)).toEqual({
    disconnectStatusCode: 1005,
    disconnectReason: "Client-side close frame status not set",
  });
  await expectOneDisconnectEach(gateway, [id]);
});

it("reports a dropped TCP connection (no close frame) as 1006", async () => {
  const gateway = await startGateway();
  const client = await connect(gateway.wsUrl);
  const id = await idOf(client);
  client.ws.terminate();
  expect(await disconnectOf(gateway, id)).toEqual({
    disconnectStatusCode: 1006,
    disconnectReason: "Connection closed abnormally",
  });
  await expectOneDisconnectEach(gateway, [id]);
});

it("reports a DeleteConnection as 1000 Connection Closed Normally", async () => {
  const gateway = await startGateway();
  const client = await connect(gateway.wsUrl);
  const id = await idOf(client);
  await gateway.management.send(new DeleteConnectionCommand({ ConnectionId: id }));
  expect(await disconnectOf(gateway, id)).toEqual({
    disconnectStatusCode: 1000,
    disconnectReason: "Connection Closed Normally",
  });
  await expectOneDisconnectEach(gateway, [id]);
});

it("reports a frame over the limits as 1009 and a binary frame as 1003", async () => {
  const gateway = await startGateway();
  const tooBig = await rawClient(gateway, "too-big");
  tooBig.raw.send(opcodes.text, Buffer.alloc(32 * 1024 + 1, "a"));
  const binary = await rawClient(gateway, "binary");
  binary.raw.send(opcodes.binary, Buffer.from([1, 2, 3]));
  expect(await disconnectOf(gateway, tooBig.connectionId)).toEqual({
    disconnectStatusCode: 1009,
    disconnectReason: "Message too big",
  });
  expect((await disconnectOf(gateway, binary.connectionId)).disconnectStatusCode).toBe(1003);
  await expectOneDisconnectEach(gateway, [tooBig.connectionId, binary.connectionId]);
});

it("reports a protocol error (a text frame that is not UTF-8) with the code ws closed with, 1007", async () => {
  const gateway = await startGateway();
  const { raw, connectionId } = await rawClient(gateway, "bad-utf8");
  raw.send(opcodes.text, Buffer.from([0xc3, 0x28]));
  expect((await raw.closeFrame()).code).toBe(1007);
  expect((await disconnectOf(gateway, connectionId)).disconnectStatusCode).toBe(1007);
  await expectOneDisconnectEach(gateway, [connectionId]);
});

it("reports the idle timeout and the maximum duration as 1001 Going away", async () => {
  const [idleGateway, shortLivedGateway] = await Promise.all([
    startGateway({ idleTimeoutMs: 200 }),
    startGateway({ maxDurationMs: 300 }),
  ]);
  const idle = await connect(idleGateway.wsUrl);
  const idleId = await idOf(idle);
  const shortLived = await connect(shortLivedGateway.wsUrl);
  const shortLivedId = await idOf(shortLived);
  const goingAway = { disconnectStatusCode: 1001, disconnectReason: "Going away" };
  expect(await disconnectOf(idleGateway, idleId)).toEqual(goingAway);
  expect(await disconnectOf(shortLivedGateway, shortLivedId)).toEqual(goingAway);
  await expectOneDisconnectEach(idleGateway, [idleId]);
  await expectOneDisconnectEach(shortLivedGateway, [shortLivedId]);
});

it("closes every socket when the gateway stops, with 1001, and runs each $disconnect before stop() returns", async () => {
  const gateway = await startGateway();
  const clients = await Promise.all([connect(gateway.wsUrl), connect(gateway.wsUrl), connect(gateway.wsUrl)]);
  const ids = await Promise.all(clients.map(idOf));
  expect(gateway.connectionCount()).toBe(3);
  await gateway.stop();
  for (const client of clients) expect(await client.closed).toEqual({ code: 1001, reason: "Going away" });
  for (const id of ids) {
    // Already recorded: stop() waited for the handlers.
    const event = gateway.events.find(routeEvent("$disconnect", id));
    expect(event?.requestContext.disconnectStatusCode).toBe(1001);
  }
  await expectOneDisconnectEach(gateway, ids);
});
