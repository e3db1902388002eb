import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { WebSocketEvent } from "../../handlers/route";
import { createDelivery, StragglerCutOffError } from "../../handlers/delivery/delivery";
import { createTransport, PostFailedError, type TransportOptions } from "../../handlers/delivery/transport";
import { localAws } from "../../model/client";
import { startRecordingGateway, type RecordingGateway } from "../support/local-stack";
import { connect } from "../support/ws-client";

/** How the scripted server answers one POST: a status (and error type, after `delayMs`: 2 by default), or never. */
type Answer = { status: number; errorType?: string; delayMs?: number } | "hang";
type Captured = {
  method: string;
  path: string;
  connectionId: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
};

/**
 * A loopback Management API that answers each connection's POSTs from a script
 * (then 200), records every request as received and the sockets it came on.
 */
async function startScriptedApi() {
  const requests: Captured[] = [];
  const scripts = new Map<string, Answer[]>();
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let peakInFlight = 0;

  function answer(res: ServerResponse, { status, errorType }: { status: number; errorType?: string }) {
    res.writeHead(status, {
      "content-type": "application/json",
      ...(errorType && { "x-amzn-ErrorType": errorType }),
    });
    res.end(status === 200 ? "" : JSON.stringify({ message: errorType ?? "error" }));
  }

  const server = createServer((req, res) => {
    sockets.add(req.socket);
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    res.on("close", () => inFlight--);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "";
      const connectionId = decodeURIComponent(/\/@connections\/([^/?]+)$/.exec(path)?.[1] ?? "");
      requests.push({
        method: req.method ?? "",
        path,
        connectionId,
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      const next = scripts.get(connectionId)?.shift() ?? { status: 200 };
      // A hung call keeps its socket open and never answers, as PostToConnection sometimes does.
      if (next !== "hang") setTimeout(() => answer(res, next), next.delayMs ?? 2);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sockets,
    peakInFlight: () => peakInFlight,
    /** The next POSTs to `connectionId` get these answers, in order. */
    script: (connectionId: string, ...answers: Answer[]) => void scripts.set(connectionId, answers),
    attemptsFor: (connectionId: string) => requests.filter((r) => r.connectionId === connectionId).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type ScriptedApi = Awaited<ReturnType<typeof startScriptedApi>>;

const frame = Buffer.from(JSON.stringify({ type: "message", room: "lobby", text: "hi" }));

let api: ScriptedApi;
beforeEach(async () => {
  api = await startScriptedApi();
});
afterEach(async () => {
  await api.close();
});

/** A transport to the scripted API with fast backoff; failures go to `failures`. */
function transportFor(endpoint: string, overrides: Partial<TransportOptions> = {}) {
  const failures: [string, unknown][] = [];
  const transport = createTransport({
    endpoint,
    ...localAws,
    maxAttempts: 3,
    timeoutMs: 1000,
    maxSockets: 4,
    backoff: { baseMs: 5, capMs: 20 },
    onFailure: (connectionId, error) => failures.push([connectionId, error]),
    ...overrides,
  });
  return { transport, failures };
}

/** Runs `use` with a transport and destroys it after, even when an expectation fails. */
async function withTransport(
  use: (t: ReturnType<typeof transportFor>) => Promise<void>,
  overrides: Partial<TransportOptions> = {},
  endpoint = `${api.url}/dev`,
) {
  const t = transportFor(endpoint, overrides);
  try {
    await use(t);
  } finally {
    t.transport.destroy();
  }
}

describe("outcomes", () => {
  it("delivers the bytes to /{stage}/@connections/{id}", () =>
    withTransport(async ({ transport, failures }) => {
      expect(await transport.post("abc123=", frame)).toBe("delivered");
      expect(api.requests).toHaveLength(1);
      const [request] = api.requests;
      expect(request.method).toBe("POST");
      expect(request.path).toBe("/dev/@connections/abc123%3D");
      expect(request.body.equals(frame)).toBe(true);
      expect(failures).toEqual([]);
    }));

  it("answers gone on 410 at once, without a retry and without a failure report", () =>
    withTransport(async ({ transport, failures }) => {
      api.script("left", { status: 410, errorType: "GoneException" });
      expect(await transport.post("left", frame)).toBe("gone");
      expect(api.attemptsFor("left")).toBe(1);
      expect(failures).toEqual([]);
    }));

  it.each([
    ["429", { status: 429, errorType: "TooManyRequestsException" }],
    ["500", { status: 500, errorType: "InternalServerErrorException" }],
    ["503", { status: 503 }],
    ["LimitExceededException (a full client buffer)", { status: 429, errorType: "LimitExceededException" }],
    [
      "LimitExceededException by its error type, suffix included, whatever the status",
      { status: 400, errorType: "LimitExceededException:http://internal.amazon.com/coral/com.amazon.coral/" },
    ],
  ])("retries %s, then delivers", (_, failure) =>
    withTransport(async ({ transport, failures }) => {
      api.script("busy", failure, failure);
      expect(await transport.post("busy", frame)).toBe("delivered");
      expect(api.attemptsFor("busy")).toBe(3);
      expect(failures).toEqual([]);
    }),
  );

  it("tells onThrottled of every attempt answered 429 or LimitExceededException, even when a retry delivers", async () => {
    const throttled: string[] = [];
    await withTransport(
      async ({ transport }) => {
        api.script("busy", { status: 429, errorType: "TooManyRequestsException" }, { status: 500 });
        api.script("full", { status: 400, errorType: "LimitExceededException" });
        api.script("left", { status: 410, errorType: "GoneException" });
        api.script("down", { status: 503 }, { status: 503 }, { status: 503 });
        expect(await transport.post("busy", frame)).toBe("delivered");
        expect(await transport.post("full", frame)).toBe("delivered");
        expect(await transport.post("left", frame)).toBe("gone");
        expect(await transport.post("down", frame)).toBe("failed");
      },
      { onThrottled: (connectionId) => throttled.push(connectionId) },
    );
    expect(throttled).toEqual(["busy", "full"]);
  });

  it("tells onUnanswered of every attempt that got no answer (its frame may have arrived), not of answered ones", async () => {
    const unanswered: string[] = [];
    await withTransport(
      async ({ transport }) => {
        api.script("stuck", "hang", "hang");
        api.script("busy", { status: 429 });
        expect(await transport.post("stuck", frame)).toBe("delivered");
        expect(await transport.post("busy", frame)).toBe("delivered");
      },
      { timeoutMs: 150, onUnanswered: (connectionId) => unanswered.push(connectionId) },
    );
    expect(unanswered).toEqual(["stuck", "stuck"]);
  });

  it("aborts a request that hangs after timeoutMs and retries it", () =>
    withTransport(
      async ({ transport, failures }) => {
        api.script("stuck", "hang");
        const started = performance.now();
        expect(await transport.post("stuck", frame)).toBe("delivered");
        expect(performance.now() - started).toBeGreaterThanOrEqual(149); // a timer never fires early (1 ms for rounding);
        expect(api.attemptsFor("stuck")).toBe(2);
        expect(failures).toEqual([]);
      },
      { timeoutMs: 150 },
    ));

  it("ends a post when its signal aborts, in flight or before it starts, without a retry, failed with the signal's reason", () =>
    withTransport(
      async ({ transport, failures }) => {
        api.script("stuck", "hang", "hang");
        const controller = new AbortController();
        const reason = new Error("ended by the test");
        const outcome = transport.post("stuck", frame, { signal: controller.signal });
        while (api.attemptsFor("stuck") === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        controller.abort(reason);
        expect(await outcome).toBe("failed");
        expect(await transport.post("stuck", frame, { signal: controller.signal })).toBe("failed");
        expect(api.attemptsFor("stuck")).toBe(1);
        expect(failures.map(([, error]) => (error as PostFailedError).cause)).toEqual([reason, reason]);
      },
      { timeoutMs: 60_000 },
    ));

  it("fails after maxAttempts retryable answers, reporting the last one once", () =>
    withTransport(async ({ transport, failures }) => {
      const error = { status: 500, errorType: "InternalServerErrorException" };
      api.script("down", error, error, error, error);
      expect(await transport.post("down", frame)).toBe("failed");
      expect(api.attemptsFor("down")).toBe(3);
      expect(failures).toHaveLength(1);
      const [connectionId, reported] = failures[0];
      expect(connectionId).toBe("down");
      expect(reported).toBeInstanceOf(PostFailedError);
      expect(reported).toMatchObject({ status: 500, errorType: "InternalServerErrorException", attempts: 3 });
    }));

  it("fails after maxAttempts timeouts", () =>
    withTransport(
      async ({ transport, failures }) => {
        api.script("stuck", "hang", "hang");
        expect(await transport.post("stuck", frame)).toBe("failed");
        expect(api.attemptsFor("stuck")).toBe(2);
        expect((failures[0][1] as PostFailedError).cause).toMatchObject({ name: "TimeoutError" });
      },
      { timeoutMs: 100, maxAttempts: 2 },
    ));

  it.each([
    ["413", { status: 413, errorType: "PayloadTooLargeException" }],
    ["403", { status: 403, errorType: "ForbiddenException" }],
    ["400", { status: 400, errorType: "BadRequestException" }],
  ])("fails on %s without a retry", (_, failure) =>
    withTransport(async ({ transport, failures }) => {
      api.script("bad", failure, failure);
      expect(await transport.post("bad", frame)).toBe("failed");
      expect(api.attemptsFor("bad")).toBe(1);
      expect(failures).toHaveLength(1);
      expect(failures[0][1]).toMatchObject({ status: failure.status, attempts: 1 });
    }),
  );

  it("never throws: an endpoint that refuses connections is retried, then failed", async () => {
    const closed = await startScriptedApi();
    await closed.close();
    await withTransport(
      async ({ transport, failures }) => {
        expect(await transport.post("anyone", frame)).toBe("failed");
        expect((failures[0][1] as PostFailedError).cause).toMatchObject({ code: "ECONNREFUSED" });
        expect((failures[0][1] as PostFailedError).attempts).toBe(3);
      },
      {},
      closed.url,
    );
  });

  it("never throws when the failure hook does", () =>
    withTransport(
      async ({ transport }) => {
        api.script("bad", { status: 413 });
        expect(await transport.post("bad", frame)).toBe("failed");
      },
      {
        onFailure: () => {
          throw new Error("the logger broke");
        },
      },
    ));
});

describe("a broadcast's stragglers (createDelivery)", () => {
  it("ends the posts still unanswered stragglerGraceMs after half of them answered; the others are delivered", () =>
    withTransport(
      async ({ transport, failures }) => {
        api.script("silent", "hang");
        const delivery = createDelivery({ transport, concurrency: 4 });
        const report = await delivery.broadcast(["a", "b", "silent", "c"], "{}", { stragglerGraceMs: 20 });
        expect(report).toEqual({ delivered: 3, gone: [], failed: ["silent"], throttled: [] });
        expect(api.attemptsFor("silent")).toBe(1);
        expect((failures[0][1] as PostFailedError).cause).toBeInstanceOf(StragglerCutOffError);
      },
      { timeoutMs: 60_000, maxAttempts: 1 },
    ));

  it("gives the stragglers at least as long again as half the posts took", () =>
    withTransport(
      async ({ transport }) => {
        for (const early of ["a", "b"]) api.script(early, { status: 200, delayMs: 300 });
        api.script("late", { status: 200, delayMs: 400 });
        api.script("silent", "hang");
        const delivery = createDelivery({ transport, concurrency: 4 });
        // Half answered after 300 ms: the late one, 100 ms after them, is no straggler yet.
        const report = await delivery.broadcast(["a", "b", "late", "silent"], "{}", { stragglerGraceMs: 20 });
        expect(report).toEqual({ delivered: 3, gone: [], failed: ["silent"], throttled: [] });
      },
      { timeoutMs: 60_000, maxAttempts: 1 },
    ));

  it("a broadcast of one post has no stragglers: its own timeout ends it", () =>
    withTransport(
      async ({ transport, failures }) => {
        api.script("silent", "hang");
        const delivery = createDelivery({ transport, concurrency: 4 });
        const report = await delivery.broadcast(["silent"], "{}", { stragglerGraceMs: 1 });
        expect(report.failed).toEqual(["silent"]);
        expect((failures[0][1] as PostFailedError).cause).toMatchObject({ name: "TimeoutError" });
      },
      { timeoutMs: 100, maxAttempts: 1 },
    ));
});

describe("requests", () => {
  it.each(["a=b", "a+b", "a/b", "L0SM9cOFvHcCIhw=", "x+y/z=="])("URL-encodes the id %s", (id) =>
    withTransport(async ({ transport }) => {
      expect(await transport.post(id, frame)).toBe("delivered");
      expect(api.requests[0].path).toBe(`/dev/@connections/${encodeURIComponent(id)}`);
      expect(api.requests[0].connectionId).toBe(id);
    }),
  );

  it("keeps at most maxSockets keep-alive sockets for many posts", () =>
    withTransport(
      async ({ transport }) => {
        const ids = Array.from({ length: 20 }, (_, i) => `c${i}`);
        const outcomes = await Promise.all(ids.map((id) => transport.post(id, frame)));
        expect(outcomes.every((o) => o === "delivered")).toBe(true);
        await Promise.all(ids.map((id) => transport.post(id, frame)));
        expect(api.peakInFlight()).toBe(2);
        expect(api.sockets.size).toBe(2);
      },
      { maxSockets: 2 },
    ));

  it.each([
    ["the top of", 0.999999],
    ["the bottom of", 0],
  ])(
    "backs off with full jitter: at %s the range, waits are random × min(cap, base × 2^(n-1))",
    (_, draw) => {
      const waits: number[] = [];
      const backoff = {
        baseMs: 100,
        capMs: 300,
        random: () => draw,
        wait: async (ms: number) => void waits.push(ms),
      };
      return withTransport(
        async ({ transport }) => {
          const error = { status: 500 };
          api.script("slow", error, error, error);
          expect(await transport.post("slow", frame)).toBe("delivered");
          expect(api.attemptsFor("slow")).toBe(4);
          // Bounds 100, 200, then 400 capped at 300.
          expect(waits).toEqual([100, 200, 300].map((bound) => draw * bound));
        },
        { maxAttempts: 4, backoff },
      );
    },
  );

  it("draws each wait from Math.random by default, below its bound", () => {
    const waits: number[] = [];
    const backoff = { baseMs: 100, capMs: 300, wait: async (ms: number) => void waits.push(ms) };
    return withTransport(
      async ({ transport }) => {
        const error = { status: 500 };
        api.script("slow", error, error, error);
        expect(await transport.post("slow", frame)).toBe("delivered");
        expect(waits).toHaveLength(3);
        [100, 200, 300].forEach((bound, i) => {
          expect(waits[i]).toBeGreaterThanOrEqual(0);
          expect(waits[i]).toBeLessThan(bound);
        });
      },
      { maxAttempts: 4, backoff },
    );
  });
});

type SigningKeys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The request's SigV4 signature matches the AWS SDK's own signer's for these keys. */
async function expectValidSignature(request: Captured, host: string, credentials: SigningKeys) {
  const { sent, recomputed } = await signatures(request, host, credentials);
  expect(sent).toBe(recomputed);
}

/**
 * Checks everything about the request's SigV4 header but the signature itself (key id, date,
 * region, service, signed headers), then recomputes the signature with the AWS SDK's own signer.
 */
async function signatures(request: Captured, host: string, credentials: SigningKeys) {
  const authorization = String(request.headers.authorization);
  const parts =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  expect(parts).not.toBeNull();
  const [, accessKeyId, , region, service, signedHeaders, signature] = parts!;
  expect({ accessKeyId, region, service }).toEqual({
    accessKeyId: credentials.accessKeyId,
    region: localAws.region,
    service: "execute-api",
  });
  expect(signedHeaders.split(";")).toEqual(expect.arrayContaining(["host", "x-amz-date"]));
  expect(request.headers.host).toBe(host);

  const amzDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    String(request.headers["x-amz-date"]),
  )!;
  const signingDate = new Date(
    Date.UTC(+amzDate[1], +amzDate[2] - 1, +amzDate[3], +amzDate[4], +amzDate[5], +amzDate[6]),
  );
  const headers = Object.fromEntries(
    signedHeaders.split(";").map((name) => [name, String(request.headers[name])]),
  );
  const signer = new SignatureV4({
    credentials,
    region: localAws.region,
    service: "execute-api",
    sha256: Hash.bind(null, "sha256"),
    applyChecksum: false,
  });
  const expected = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: "http:",
      hostname: host.split(":")[0],
      // As sent: still percent-encoded; the signer encodes it once more, as execute-api does.
      path: request.path,
      headers,
      body: request.body,
    }),
    { signingDate, signableHeaders: new Set(Object.keys(headers)), unsignableHeaders: new Set() },
  );
  return {
    sent: signature,
    recomputed: /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))![1],
  };
}

/** Sets (or, for undefined, removes) environment variables; returns what puts them back. */
function setEnv(values: Record<string, string | undefined>) {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (next: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(next)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(saved);
}

describe("SigV4", () => {
  it.each([
    ["with a stage path", "/dev", "/dev/@connections/"],
    ["without one", "", "/@connections/"],
  ])("signs a valid signature for an endpoint %s", (_, stagePath, prefix) =>
    withTransport(
      async ({ transport }) => {
        const id = "L0SM9cOFvHc=+/";
        expect(await transport.post(id, frame)).toBe("delivered");
        const [request] = api.requests;
        expect(request.path).toBe(`${prefix}${encodeURIComponent(id)}`);
        await expectValidSignature(request, new URL(api.url).host, localAws.credentials);
      },
      {},
      `${api.url}${stagePath}`,
    ),
  );

  const wrongKey = { ...localAws.credentials, secretAccessKey: "not-the-key" };
  it("a wrong key gives a signature that does not verify", () =>
    withTransport(
      async ({ transport }) => {
        expect(await transport.post("someone", frame)).toBe("delivered");
        const host = new URL(api.url).host;
        // Every other part of the header checks out; only the signature differs, and it is the key's.
        const { sent, recomputed } = await signatures(api.requests[0], host, localAws.credentials);
        expect(sent).not.toBe(recomputed);
        await expectValidSignature(api.requests[0], host, wrongKey);
      },
      { credentials: wrongKey },
    ));

  it("signs with Lambda's environment credentials, session token included, when none are given", async () => {
    const credentials = {
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: "env-secret",
      sessionToken: "env-token",
    };
    const restore = setEnv({
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    });
    try {
      await withTransport(
        async ({ transport }) => {
          expect(await transport.post("someone", frame)).toBe("delivered");
          const [request] = api.requests;
          expect(request.headers["x-amz-security-token"]).toBe("env-token");
          expect(String(request.headers.authorization)).toContain("x-amz-security-token");
          await expectValidSignature(request, new URL(api.url).host, credentials);
        },
        { credentials: undefined },
      );
    } finally {
      restore();
    }
  });

  it("refuses to start without credentials", () => {
    const restore = setEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    try {
      expect(() =>
        createTransport({
          endpoint: api.url,
          region: "us-east-1",
          maxAttempts: 1,
          timeoutMs: 100,
          maxSockets: 1,
        }),
      ).toThrow(/AWS_ACCESS_KEY_ID/);
    } finally {
      restore();
    }
  });
});

describe("through the local gateway's Management API", () => {
  let gateway: RecordingGateway;
  beforeAll(async () => {
    gateway = await startRecordingGateway();
  });
  afterAll(async () => {
    await gateway.stop();
  });

  it.each([
    ["its origin", ""],
    ["the stage path", "/local"],
  ])("a real ws client receives the frame posted to %s; 410 once it has left", (_, stagePath) =>
    withTransport(
      async ({ transport, failures }) => {
        const client = await connect(gateway.wsUrl);
        client.send({ action: "echo" });
        const { event } = await client.next((f) => f.route === "echo");
        const { connectionId } = (event as WebSocketEvent).requestContext;

        const marker = `via-transport${stagePath}`;
        expect(
          await transport.post(connectionId, Buffer.from(JSON.stringify({ type: "message", marker }))),
        ).toBe("delivered");
        expect(await client.next((f) => f.marker === marker)).toEqual({ type: "message", marker });

        await client.close();
        expect(await transport.post(connectionId, frame)).toBe("gone");
        expect(failures).toEqual([]);
      },
      {},
      `${gateway.httpUrl}${stagePath}`,
    ),
  );
});
