import type { Deps } from "../../handlers/deps";
import { invoke } from "../../handlers/invoke";
import type { WebSocketEvent } from "../../handlers/route";
import { startGateway } from "../../local/gateway";
import {
  routeEvent,
  silentLogger,
  startRecordingGateway,
  type RecordingGateway,
} from "../support/local-stack";
import { connect, type Frame, type TestClient } from "../support/ws-client";

// The events the gateway hands a route's Lambda, and how it routes frames and replies.
let gateway: RecordingGateway;

beforeAll(async () => {
  gateway = await startRecordingGateway();
});

afterAll(async () => {
  await gateway.stop();
});

const connectionIdPattern = /^[A-Za-z0-9_-]{15}=$/;
const requestTimePattern =
  /^\d{2}\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/;

/** Sends a frame to `echo` and returns the event its Lambda got. */
async function echo(client: TestClient, extra: object = {}): Promise<WebSocketEvent> {
  client.send({ action: "echo", ...extra });
  const reply = await client.next((f) => f.route === "echo");
  return reply.event as WebSocketEvent;
}

describe("route selection on $request.body.action", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect(gateway.wsUrl);
  });
  afterAll(async () => {
    await client.close();
  });

  it("routes a JSON object to the route its action names", async () => {
    const event = await echo(client);
    expect(event.requestContext.routeKey).toBe("echo");
    expect(JSON.parse(event.body!)).toEqual({ action: "echo" });
  });

  it.each([
    ["not JSON", "hello there"],
    ["JSON without action", JSON.stringify({ message: "hi" })],
    ["an unknown action", JSON.stringify({ action: "dance" })],
    ["a non-string action", JSON.stringify({ action: 42 })],
    ["a JSON array", JSON.stringify([{ action: "echo" }])],
    ["JSON null", "null"],
    ["a reserved route key", JSON.stringify({ action: "$connect" })],
    ["a differently cased action", JSON.stringify({ action: "ECHO" })],
  ])("sends %s to $default", async (_what, body) => {
    client.send(body);
    const reply = await client.next((f) => f.route === "$default" && f.body === body);
    expect(reply).toEqual({ route: "$default", body });
  });

  it("sends nothing back for a route without a route response", async () => {
    client.send({ action: "silent" });
    const silent = await gateway.event(
      routeEvent("silent", (await echo(client)).requestContext.connectionId),
    );
    expect(silent.requestContext.routeKey).toBe("silent");
    // The echo after it is answered; the silent route's body never arrives.
    await echo(client);
    expect(client.frames.filter((f) => typeof f === "object" && (f as Frame).route === "silent")).toEqual([]);
  });

  it("answers API Gateway's own Forbidden when nothing matches and the API has no $default", async () => {
    const app = { routes: [], deps: { log: silentLogger } as unknown as Deps, invoke };
    const noDefault = await startGateway({ port: 0, webRoot: "web", app: () => app, log: silentLogger });
    const other = await connect(noDefault.wsUrl);
    other.send("anything");
    expect(await other.next()).toEqual({
      message: "Forbidden",
      connectionId: expect.stringMatching(connectionIdPattern),
      requestId: expect.stringMatching(connectionIdPattern),
    });
    await noDefault.stop();
  });

  it("answers API Gateway's own error when the integration itself fails", async () => {
    client.send({ action: "crash" });
    const reply = await client.next((f) => f.message === "Internal server error");
    const { connectionId } = (await echo(client)).requestContext;
    expect(reply).toEqual({
      message: "Internal server error",
      connectionId,
      requestId: expect.stringMatching(connectionIdPattern),
    });
  });
});

describe("requestContext and event shape", () => {
  let client: TestClient;
  let connectEvent: WebSocketEvent;
  let messageEvent: WebSocketEvent;

  beforeAll(async () => {
    client = await connect(`${gateway.wsUrl}/?name=alice&room=lobby&tag=a&tag=b&empty=`, {
      headers: { "User-Agent": "roomcast-test/1.0", "X-Custom-Header": "custom", Cookie: "session=1" },
    });
    messageEvent = await echo(client);
    connectEvent = await gateway.event(routeEvent("$connect", messageEvent.requestContext.connectionId));
  });
  afterAll(async () => {
    await client.close();
  });

  it("gives a connection an API Gateway style id, the same in every event", async () => {
    expect(connectEvent.requestContext.connectionId).toMatch(connectionIdPattern);
    expect(messageEvent.requestContext.connectionId).toBe(connectEvent.requestContext.connectionId);
    expect(messageEvent.requestContext.connectedAt).toBe(connectEvent.requestContext.connectedAt);
  });

  it("builds $connect's requestContext field for field", () => {
    const context = connectEvent.requestContext;
    expect(context).toEqual({
      routeKey: "$connect",
      eventType: "CONNECT",
      extendedRequestId: context.requestId,
      requestTime: expect.stringMatching(requestTimePattern),
      messageDirection: "IN",
      stage: "local",
      connectedAt: expect.any(Number),
      requestTimeEpoch: expect.any(Number),
      identity: { sourceIp: "127.0.0.1", userAgent: "roomcast-test/1.0" },
      requestId: expect.stringMatching(connectionIdPattern),
      domainName: "localhost",
      connectionId: expect.stringMatching(connectionIdPattern),
      apiId: expect.stringMatching(/^[a-z0-9]{10}$/),
    });
    expect(connectEvent.isBase64Encoded).toBe(false);
    expect(connectEvent.body).toBeUndefined();
  });

  it("formats requestTime from requestTimeEpoch, in UTC", () => {
    const { requestTime, requestTimeEpoch } = connectEvent.requestContext;
    const [day, month, year, hh, mm, ss] = requestTime.split(/[/: ]/);
    const parsed = Date.parse(`${day} ${month} ${year} ${hh}:${mm}:${ss} GMT`);
    expect(parsed).toBe(Math.floor(requestTimeEpoch / 1000) * 1000);
  });

  it("hands $connect the handshake's headers, in the client's case, and API Gateway's proxy headers", () => {
    expect(connectEvent.headers).toMatchObject({
      "User-Agent": "roomcast-test/1.0",
      "X-Custom-Header": "custom",
      Cookie: "session=1",
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": expect.any(String),
      Host: expect.stringMatching(/^localhost:\d+$/),
      "X-Forwarded-For": "127.0.0.1",
      "X-Forwarded-Proto": "http",
      "X-Forwarded-Port": String(gateway.port),
      "X-Amzn-Trace-Id": expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/),
    });
    expect(connectEvent.multiValueHeaders?.["X-Custom-Header"]).toEqual(["custom"]);
  });

  it("hands $connect the query string, last value single, every value multi", () => {
    expect(connectEvent.queryStringParameters).toEqual({ name: "alice", room: "lobby", tag: "b", empty: "" });
    expect(connectEvent.multiValueQueryStringParameters).toEqual({
      name: ["alice"],
      room: ["lobby"],
      tag: ["a", "b"],
      empty: [""],
    });
  });

  it("builds a MESSAGE event with a body and a messageId of its own, and no headers or query", async () => {
    const context = messageEvent.requestContext;
    expect(context).toEqual({
      ...connectEvent.requestContext,
      routeKey: "echo",
      eventType: "MESSAGE",
      messageId: expect.stringMatching(connectionIdPattern),
      requestId: expect.stringMatching(connectionIdPattern),
      extendedRequestId: context.requestId,
      requestTime: expect.stringMatching(requestTimePattern),
      requestTimeEpoch: expect.any(Number),
    });
    expect(context.requestId).not.toBe(connectEvent.requestContext.requestId);
    expect(messageEvent.body).toBe(JSON.stringify({ action: "echo" }));
    expect(messageEvent.isBase64Encoded).toBe(false);
    for (const field of [
      "headers",
      "multiValueHeaders",
      "queryStringParameters",
      "multiValueQueryStringParameters",
    ]) {
      expect(messageEvent).not.toHaveProperty(field);
    }
    const next = await echo(client);
    expect(next.requestContext.messageId).not.toBe(context.messageId);
  });

  it("builds a DISCONNECT event with the close code and none of the client's headers or query", async () => {
    const { connectionId } = connectEvent.requestContext;
    await client.close(4001, "bye now");
    const event = await gateway.event(routeEvent("$disconnect", connectionId));
    expect(event.requestContext).toEqual({
      ...connectEvent.requestContext,
      routeKey: "$disconnect",
      eventType: "DISCONNECT",
      disconnectStatusCode: 4001,
      disconnectReason: "bye now",
      requestId: expect.stringMatching(connectionIdPattern),
      extendedRequestId: event.requestContext.requestId,
      requestTime: expect.stringMatching(requestTimePattern),
      requestTimeEpoch: expect.any(Number),
    });
    // The fixed headers AWS documents for $disconnect, none of the handshake's.
    expect(event.headers).toEqual({
      Host: connectEvent.headers?.Host,
      "x-api-key": "",
      "X-Forwarded-For": "",
      "x-restapi": "",
    });
    expect(event).not.toHaveProperty("queryStringParameters");
    expect(event.body).toBeUndefined();
  });

  it("omits the query fields when the URL has none, and userAgent when the client sent none", async () => {
    const bare = await connect(gateway.wsUrl);
    const event = await gateway.event(routeEvent("$connect", (await echo(bare)).requestContext.connectionId));
    expect(event).not.toHaveProperty("queryStringParameters");
    expect(event).not.toHaveProperty("multiValueQueryStringParameters");
    expect(event.requestContext.identity).toEqual({ sourceIp: "127.0.0.1" });
    await bare.close();
  });
});
