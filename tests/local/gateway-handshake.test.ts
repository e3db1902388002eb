import { randomBytes } from "node:crypto";
import { connect as tcpConnect, type Socket } from "node:net";
import {
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import type { WebSocketEvent } from "../../handlers/route";
import { startGateway } from "../../local/gateway";
import {
  routeEvent,
  silentLogger,
  startRecordingGateway,
  type RecordingGateway,
} from "../support/local-stack";
import { connect, handshakeStatus } from "../support/ws-client";

// `$connect` runs before the handshake completes; its status becomes the handshake's.
let gateway: RecordingGateway;

beforeAll(async () => {
  gateway = await startRecordingGateway();
});

afterAll(async () => {
  await gateway.stop();
});

/** Writes an HTTP request on a raw TCP socket and resolves with the status line of the answer. */
function rawRequest(
  port: number,
  request: string,
): Promise<{ statusLine: string; response: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1", () => socket.write(request));
    let response = "";
    socket.on("data", (chunk) => {
      response += chunk.toString("latin1");
      if (response.includes("\r\n\r\n")) resolve({ statusLine: response.split("\r\n")[0], response, socket });
    });
    socket.on("error", reject);
  });
}

const upgradeRequest = (path: string, extra = "") =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe("handshake status from $connect", () => {
  it.each([
    [400, "Bad Request"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [429, "Too Many Requests"],
    [500, "Internal Server Error"],
  ])(
    "answers the handshake %i %s when $connect returns it, as a plain HTTP response",
    async (status, text) => {
      const { statusLine, response, socket } = await rawRequest(
        gateway.port,
        upgradeRequest(`/?status=${status}`),
      );
      expect(statusLine).toBe(`HTTP/1.1 ${status} ${text}`);
      expect(response).toMatch(/\r\nConnection: close\r\n/i);
      await new Promise((resolve) => socket.once("close", resolve));
    },
  );

  it("upgrades (101) when $connect returns 2xx", async () => {
    const { statusLine, socket } = await rawRequest(gateway.port, upgradeRequest("/?status=204"));
    expect(statusLine).toBe("HTTP/1.1 101 Switching Protocols");
    socket.destroy();
  });

  it("shows a real ws client the status, and fires no $disconnect for a refused connection", async () => {
    expect(await handshakeStatus(`${gateway.wsUrl}?status=403&probe=refused`)).toBe(403);
    const refused = await gateway.event(
      (e) => e.requestContext.routeKey === "$connect" && e.queryStringParameters?.probe === "refused",
    );
    // A later connection's whole life is recorded; the refused one never reaches $disconnect.
    const later = await connect(gateway.wsUrl);
    later.send({ action: "echo" });
    const { event } = await later.next((f) => f.route === "echo");
    await later.close();
    await gateway.event(routeEvent("$disconnect", (event as WebSocketEvent).requestContext.connectionId));
    expect(gateway.events.filter(routeEvent("$disconnect", refused.requestContext.connectionId))).toEqual([]);
  });

  it("accepts the stage as the path, and refuses other paths (404) without running $connect", async () => {
    expect(await handshakeStatus(`${gateway.wsUrl}/local?probe=stage`)).toBe(101);
    expect(await handshakeStatus(`${gateway.wsUrl}/elsewhere?probe=elsewhere`)).toBe(404);
    expect(gateway.events.some((e) => e.queryStringParameters?.probe === "elsewhere")).toBe(false);
  });

  it("refuses a malformed upgrade (400) without running $connect", async () => {
    const request =
      "GET /?probe=malformed HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const { statusLine, socket } = await rawRequest(gateway.port, request);
    expect(statusLine).toBe("HTTP/1.1 400 Bad Request");
    socket.destroy();
    expect(gateway.events.some((e) => e.queryStringParameters?.probe === "malformed")).toBe(false);
  });

  it("answers 503 while the handlers are not loaded yet", async () => {
    const starting = await startGateway({ port: 0, webRoot: "web", app: () => undefined, log: silentLogger });
    expect(await handshakeStatus(starting.wsUrl)).toBe(503);
    await starting.stop();
  });

  it("never echoes a subprotocol (no $connect here returns one), as API Gateway", async () => {
    const { response, socket } = await rawRequest(
      gateway.port,
      upgradeRequest("/", "Sec-WebSocket-Protocol: chat.v1\r\n"),
    );
    expect(response).toMatch(/^HTTP\/1.1 101/);
    expect(response).not.toMatch(/Sec-WebSocket-Protocol/i);
    socket.destroy();
  });
});

describe("while $connect runs", () => {
  it("answers 410 Gone to PostToConnection and GetConnection for the pending connection", async () => {
    const pending = connect(`${gateway.wsUrl}?hold=1&probe=pending`);
    const connectEvent = await gateway.event((e) => e.queryStringParameters?.probe === "pending");
    const { connectionId } = connectEvent.requestContext;

    const post = gateway.management.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: "early" }),
    );
    await expect(post).rejects.toBeInstanceOf(GoneException);
    const get = gateway.management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    await expect(get).rejects.toBeInstanceOf(GoneException);

    gateway.release(connectionId);
    const client = await pending;
    const data = JSON.stringify({ greeting: "now open" });
    await gateway.management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
    expect(await client.next()).toEqual({ greeting: "now open" });
    await client.close();
  });

  it("fires $disconnect when the client leaves before a successful $connect completes", async () => {
    const { socket } = await new Promise<{ socket: Socket }>((resolve) => {
      const s = tcpConnect(gateway.port, "127.0.0.1", () => {
        s.write(upgradeRequest("/?hold=1&probe=leaver"));
        resolve({ socket: s });
      });
    });
    const connectEvent = await gateway.event((e) => e.queryStringParameters?.probe === "leaver");
    const { connectionId } = connectEvent.requestContext;
    socket.destroy();
    await new Promise((resolve) => socket.once("close", resolve));
    gateway.release(connectionId);
    const disconnect = await gateway.event(routeEvent("$disconnect", connectionId));
    expect(disconnect.requestContext).toMatchObject({
      disconnectStatusCode: 1006,
      disconnectReason: "Connection closed abnormally",
    });
  });
});
