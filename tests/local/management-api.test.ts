import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { request } from "node:http";
import { sign } from "aws4";
import type { WebSocketEvent } from "../../handlers/route";
import { localAws } from "../../model/client";
import {
  managementClient,
  routeEvent,
  startRecordingGateway,
  type RecordingGateway,
} from "../support/local-stack";
import { opcodes, rawWebSocket } from "../support/raw-websocket";
import { connect, type TestClient } from "../support/ws-client";

// The Management API on the gateway's origin, driven by the real AWS SDK client.
let gateway: RecordingGateway;

beforeAll(async () => {
  gateway = await startRecordingGateway();
});

afterAll(async () => {
  await gateway.stop();
});

/** A connected client and its connection id (learned from the echo route). */
async function connectWithId(query = "", headers: Record<string, string> = {}) {
  const client = await connect(`${gateway.wsUrl}${query}`, { headers });
  client.send({ action: "echo" });
  const { event } = await client.next((f) => f.route === "echo");
  return { client, connectionId: (event as WebSocketEvent).requestContext.connectionId };
}

/** A POST signed by another SigV4 implementation (aws4) than the SDK's, with `localAws` unless told. */
function signedFetch(path: string, body: string, credentials = localAws.credentials, sentBody = body) {
  const url = new URL(path, gateway.httpUrl);
  const signed = sign(
    { host: url.host, path: url.pathname, method: "POST", body, service: "execute-api", region: "us-east-1" },
    credentials,
  );
  return fetch(url, { method: "POST", headers: signed.headers as Record<string, string>, body: sentBody });
}

const post = (connectionId: string, data: string | Uint8Array) =>
  gateway.management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));

describe("PostToConnection", () => {
  let client: TestClient;
  let connectionId: string;
  beforeAll(async () => {
    ({ client, connectionId } = await connectWithId());
  });
  afterAll(async () => {
    await client.close();
  });

  it("answers 200 and delivers the data as a text frame", async () => {
    const binaryFlags: boolean[] = [];
    client.ws.on("message", (_data, isBinary) => binaryFlags.push(isBinary));
    const result = await post(connectionId, JSON.stringify({ type: "hello", n: 1 }));
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(await client.next((f) => f.type === "hello")).toEqual({ type: "hello", n: 1 });
    expect(binaryFlags).toEqual([false]);
  });

  it("accepts exactly 131072 bytes and refuses one more with 413 PayloadTooLargeException", async () => {
    const fits = JSON.stringify({ pad: "x".repeat(131072 - 10) });
    expect(Buffer.byteLength(fits)).toBe(131072);
    await post(connectionId, fits);
    expect((await client.next((f) => typeof f.pad === "string")).pad).toHaveLength(131072 - 10);

    const tooBig = post(connectionId, "y".repeat(131073));
    await expect(tooBig).rejects.toBeInstanceOf(PayloadTooLargeException);
    await expect(tooBig).rejects.toMatchObject({ $metadata: { httpStatusCode: 413 } });
  });

  it("answers at the stage-prefixed path too, with a URL-encoded id", async () => {
    const staged = managementClient(`${gateway.httpUrl}/local`);
    await staged.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify({ type: "staged" }) }),
    );
    staged.destroy();
    expect(await client.next((f) => f.type === "staged")).toEqual({ type: "staged" });
  });

  it("simulates the configured latency before answering", async () => {
    const slow = await startRecordingGateway({ managementLatencyMs: 150 });
    const { client: c, connectionId: id } = await (async () => {
      const cl = await connect(slow.wsUrl);
      cl.send({ action: "echo" });
      const { event } = await cl.next((f) => f.route === "echo");
      return { client: cl, connectionId: (event as WebSocketEvent).requestContext.connectionId };
    })();
    const started = performance.now();
    await slow.management.send(new PostToConnectionCommand({ ConnectionId: id, Data: "{}" }));
    // A lower bound only: the answer cannot come before the simulated latency.
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    await c.close();
    await slow.stop();
  });
});

describe("framing of posts, read from the raw TCP stream", () => {
  it("splits a post over 32 KB into text frames of at most 32 KB, as API Gateway does", async () => {
    const raw = await rawWebSocket(gateway.port, "/?probe=raw");
    const connectEvent = await gateway.event((e) => e.queryStringParameters?.probe === "raw");
    await post(connectEvent.requestContext.connectionId, "z".repeat(100_000));
    await raw.frame((f) => f.fin);
    expect(raw.frames.map((f) => ({ fin: f.fin, opcode: f.opcode, length: f.payload.length }))).toEqual([
      { fin: false, opcode: opcodes.text, length: 32768 },
      { fin: false, opcode: opcodes.continuation, length: 32768 },
      { fin: false, opcode: opcodes.continuation, length: 32768 },
      { fin: true, opcode: opcodes.continuation, length: 100_000 - 3 * 32768 },
    ]);
    raw.socket.destroy();
  });

  it("sends an empty post as one empty text frame", async () => {
    const raw = await rawWebSocket(gateway.port, "/?probe=raw-empty");
    const connectEvent = await gateway.event((e) => e.queryStringParameters?.probe === "raw-empty");
    await post(connectEvent.requestContext.connectionId, "");
    const frame = await raw.frame((f) => f.opcode === opcodes.text);
    expect({ fin: frame.fin, length: frame.payload.length }).toEqual({ fin: true, length: 0 });
    raw.socket.destroy();
  });
});

describe("GetConnection", () => {
  it("answers connectedAt, identity and lastActiveAt; a message moves lastActiveAt", async () => {
    const { client, connectionId } = await connectWithId("", { "User-Agent": "roomcast-test/2.0" });
    const get = () => gateway.management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    const first = await get();
    expect(first.$metadata.httpStatusCode).toBe(200);
    expect(first.Identity).toEqual({ SourceIp: "127.0.0.1", UserAgent: "roomcast-test/2.0" });
    expect(first.ConnectedAt).toBeInstanceOf(Date);
    expect(first.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(first.ConnectedAt!.getTime());

    // Wait until the clock has moved on, so the next message's time is strictly later.
    const before = first.LastActiveAt!.getTime();
    while (Date.now() <= before) await new Promise((resolve) => setTimeout(resolve, 5));
    client.send({ action: "echo" });
    await client.next((f) => f.route === "echo");
    const second = await get();
    expect(second.LastActiveAt!.getTime()).toBeGreaterThan(before);
    expect(second.ConnectedAt).toEqual(first.ConnectedAt);
    await client.close();
  });
});

describe("DeleteConnection", () => {
  it("answers 204, closes the socket with 1000 and fires $disconnect", async () => {
    const { client, connectionId } = await connectWithId();
    const result = await gateway.management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect(result.$metadata.httpStatusCode).toBe(204);
    expect(await client.closed).toEqual({ code: 1000, reason: "" });
    const disconnect = await gateway.event(routeEvent("$disconnect", connectionId));
    expect(disconnect.requestContext).toMatchObject({
      disconnectStatusCode: 1000,
      disconnectReason: "Connection Closed Normally",
    });
  });
});

describe("gone connections: 410 GoneException", () => {
  it.each([
    ["PostToConnection", (id: string) => new PostToConnectionCommand({ ConnectionId: id, Data: "{}" })],
    ["GetConnection", (id: string) => new GetConnectionCommand({ ConnectionId: id })],
    ["DeleteConnection", (id: string) => new DeleteConnectionCommand({ ConnectionId: id })],
  ] as const)("%s to a closed or unknown connection", async (_name, command) => {
    const { client, connectionId } = await connectWithId();
    await client.close();
    for (const id of [connectionId, "AAAAAAAAAAAAAAA=", "no/such=id"]) {
      const attempt = gateway.management.send(command(id) as PostToConnectionCommand);
      await expect(attempt).rejects.toBeInstanceOf(GoneException);
      await expect(attempt).rejects.toMatchObject({ $metadata: { httpStatusCode: 410 } });
    }
  });

  it("answers 410 with the x-amzn-ErrorType header and a JSON body, as the SDK expects", async () => {
    const response = await signedFetch(`/@connections/${encodeURIComponent("gone=")}`, "{}");
    expect(response.status).toBe(410);
    expect(response.headers.get("x-amzn-errortype")).toBe("GoneException");
    expect(await response.json()).toEqual({ message: "Gone" });
  });
});

describe("SigV4: only requests signed with the local credentials get through", () => {
  let client: TestClient;
  let connectionId: string;
  beforeAll(async () => {
    ({ client, connectionId } = await connectWithId());
  });
  afterAll(async () => {
    await client.close();
  });

  const sdkWith = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new ApiGatewayManagementApiClient({
      ...localAws,
      credentials,
      endpoint: gateway.httpUrl,
      maxAttempts: 1,
    });

  it("refuses the real SDK client signing with a wrong secret key: 403 InvalidSignatureException, nothing delivered", async () => {
    const wrong = sdkWith({ ...localAws.credentials, secretAccessKey: "not-the-local-secret" });
    const attempt = wrong.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"type":"forged"}' }),
    );
    await expect(attempt).rejects.toMatchObject({
      name: "InvalidSignatureException",
      message: expect.stringMatching(
        /^The request signature we calculated does not match the signature you provided/,
      ),
      $metadata: { httpStatusCode: 403 },
    });
    wrong.destroy();
    // An accepted post after it arrives alone: the forged one never did.
    await post(connectionId, '{"type":"genuine"}');
    await client.next((f) => f.type === "genuine");
    expect(client.frames).not.toContainEqual({ type: "forged" });
  });

  it("refuses an unknown access key: 403 UnrecognizedClientException", async () => {
    const stranger = sdkWith({ accessKeyId: "AKIASTRANGER", secretAccessKey: "x" });
    await expect(
      stranger.send(new GetConnectionCommand({ ConnectionId: connectionId })),
    ).rejects.toMatchObject({ name: "UnrecognizedClientException", $metadata: { httpStatusCode: 403 } });
    stranger.destroy();
  });

  it("refuses an unsigned request: 403 Missing Authentication Token", async () => {
    const response = await fetch(`${gateway.httpUrl}/@connections/${encodeURIComponent(connectionId)}`, {
      method: "POST",
      body: '{"type":"unsigned"}',
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    expect(await response.json()).toEqual({ message: "Missing Authentication Token" });
  });

  it("accepts another signer's signature, and refuses it once the body is changed (the body hash is signed)", async () => {
    const path = `/@connections/${encodeURIComponent(connectionId)}`;
    const good = await signedFetch(path, '{"type":"aws4"}');
    expect(good.status).toBe(200);
    await client.next((f) => f.type === "aws4");

    const tampered = await signedFetch(path, '{"type":"aws4"}', localAws.credentials, '{"type":"evil"}');
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get("x-amzn-errortype")).toBe("InvalidSignatureException");
  });

  it("accepts anything when started with managementCredentials: null (stand-ins for benchmarks)", async () => {
    const open = await startRecordingGateway({ managementCredentials: null });
    const c = await connect(open.wsUrl);
    c.send({ action: "echo" });
    const { event } = await c.next((f) => f.route === "echo");
    const id = (event as WebSocketEvent).requestContext.connectionId;
    const response = await fetch(`${open.httpUrl}/@connections/${encodeURIComponent(id)}`, {
      method: "POST",
      body: '{"type":"unsigned"}',
    });
    expect(response.status).toBe(200);
    await c.next((f) => f.type === "unsigned");
    await c.close();
    await open.stop();
  });
});

describe("hostile bodies: refused before they are read", () => {
  /**
   * Streams `totalBytes` to the Management API until it answers; returns the status and how
   * many bytes had been written by then, and how much the process's buffers had grown.
   */
  function streamBody(headers: Record<string, string>, totalBytes: number) {
    const url = new URL("/@connections/whoever", gateway.httpUrl);
    const chunk = Buffer.alloc(1024 * 1024, "x");
    const buffersBefore = process.memoryUsage().arrayBuffers;
    return new Promise<{ status: number; written: number; buffersGrewBy: number }>((resolve, reject) => {
      let written = 0;
      let answered = false;
      const req = request(url, { method: "POST", headers }, (res) => {
        answered = true;
        const buffersGrewBy = process.memoryUsage().arrayBuffers - buffersBefore;
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, written, buffersGrewBy }));
      });
      // The server may close while we still write: that is the point, not a failure.
      req.on("error", (error) => (answered ? undefined : reject(error)));
      const pump = () => {
        while (!answered && written < totalBytes) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
  }
  const total = 128 * 1024 * 1024;

  it("answers an unsigned 128 MB POST with 403 before its body is sent, buffering none of it", async () => {
    const { status, written, buffersGrewBy } = await streamBody(
      { "Content-Type": "application/json", "Content-Length": String(total) },
      total,
    );
    expect(status).toBe(403);
    expect(written).toBeLessThan(total);
    expect(buffersGrewBy).toBeLessThan(32 * 1024 * 1024);
  });

  it("stops reading a signed POST without Content-Length at 128 KB: 413", async () => {
    const url = new URL("/@connections/whoever", gateway.httpUrl);
    const signed = sign(
      { host: url.host, path: url.pathname, method: "POST", service: "execute-api", region: "us-east-1" },
      localAws.credentials,
    );
    const headers: Record<string, string> = {
      ...(signed.headers as Record<string, string>),
      "Transfer-Encoding": "chunked",
    };
    delete headers["Content-Length"];
    const { status, written } = await streamBody(headers, total);
    expect(status).toBe(413);
    expect(written).toBeLessThan(total);
  });
});
