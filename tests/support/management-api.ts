import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** API Gateway's PostToConnection limit. */
const maxPostBytes = 131072;

export type RecordedPost = { connectionId: string; frame: unknown };

export type ManagementApiOptions = {
  /** Delay before every answer, as a stand-in for the round trip to API Gateway. */
  latencyMs?: number;
};

/** Status and error type API Gateway answers with, as the SDK parses them. */
const failures = {
  410: { type: "GoneException", message: "Gone" },
  413: { type: "PayloadTooLargeException", message: "Request entity too large" },
  429: { type: "LimitExceededException", message: "Too Many Requests" },
  500: { type: "InternalServerErrorException", message: "Internal server error" },
} as const;
export type InjectedStatus = 429 | 500;

/**
 * A loopback stand-in for API Gateway's Management API (`/@connections/{id}`)
 * that the real `@aws-sdk/client-apigatewaymanagementapi` client talks HTTP to.
 * Every connection is live until marked gone (or DELETEd); it records each
 * delivered POST as its decoded JSON frame and can fail chosen attempts.
 */
export async function startManagementApi(options: ManagementApiOptions = {}) {
  const posts: RecordedPost[] = [];
  const attempts = new Map<string, number>();
  const gone = new Set<string>();
  const deleted: string[] = [];
  const injected = new Map<string, { status: InjectedStatus; remaining: number; containing?: string }>();
  let inFlight = 0;
  let peakInFlight = 0;
  /** POSTs held unanswered until `count` of them wait (see holdPosts). */
  let held: { count: number; answers: (() => void)[] } | undefined;
  /** Connections whose next POSTs get no answer, how many more (see hang), and how many of those the client gave up on. */
  const hung = new Map<string, number>();
  const abandoned = new Map<string, number>();

  function releaseHeld() {
    const answers = held?.answers ?? [];
    held = undefined;
    for (const answerNow of answers) answerNow();
  }

  function fail(res: ServerResponse, status: keyof typeof failures) {
    const { type, message } = failures[status];
    res.writeHead(status, { "content-type": "application/json", "x-amzn-ErrorType": type });
    res.end(JSON.stringify({ message }));
  }

  function decode(body: Buffer): unknown {
    try {
      return JSON.parse(body.toString("utf8"));
    } catch {
      return body.toString("utf8");
    }
  }

  function connectionIdOf(req: IncomingMessage): string | undefined {
    const match = /\/@connections\/([^/?]+)(?:\?.*)?$/.exec(req.url ?? "");
    return match ? decodeURIComponent(match[1]) : undefined;
  }

  function answer(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const connectionId = connectionIdOf(req);
    if (connectionId === undefined) {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(JSON.stringify({ message: "Not Found" }));
    }
    if (req.method === "POST") attempts.set(connectionId, (attempts.get(connectionId) ?? 0) + 1);
    const injection = injected.get(connectionId);
    const chosen = injection && (injection.containing === undefined || body.includes(injection.containing));
    if (req.method === "POST" && injection && chosen && injection.remaining > 0) {
      injection.remaining--;
      return fail(res, injection.status);
    }
    if (gone.has(connectionId)) return fail(res, 410);
    switch (req.method) {
      case "POST":
        if (body.length > maxPostBytes) return fail(res, 413);
        posts.push({ connectionId, frame: decode(body) });
        res.writeHead(200, { "content-type": "application/json" });
        return res.end();
      case "GET": {
        const at = new Date().toISOString();
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(
          JSON.stringify({
            connectedAt: at,
            identity: { sourceIp: "203.0.113.7", userAgent: "wscat/6.1.0" },
            lastActiveAt: at,
          }),
        );
      }
      case "DELETE":
        gone.add(connectionId);
        deleted.push(connectionId);
        res.writeHead(204);
        return res.end();
      default:
        res.writeHead(405);
        return res.end();
    }
  }

  const server = createServer((req, res) => {
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    res.on("close", () => inFlight--);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const answerNow = () => answer(req, res, body);
      const target = connectionIdOf(req);
      if (target && (hung.get(target) ?? 0) > 0 && req.method === "POST") {
        hung.set(target, hung.get(target)! - 1);
        attempts.set(target, (attempts.get(target) ?? 0) + 1);
        res.on("close", () => {
          if (!res.writableEnded) abandoned.set(target, (abandoned.get(target) ?? 0) + 1);
        });
      } else if (held && req.method === "POST") {
        held.answers.push(answerNow);
        if (held.answers.length >= held.count) releaseHeld();
      } else if (options.latencyMs) setTimeout(answerNow, options.latencyMs);
      else answerNow();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    /** Every delivered frame, in arrival order. */
    posts,
    /** Connections closed with DELETE, in order. */
    deleted,
    /** Frames delivered to one connection, in order. */
    framesTo: (connectionId: string) =>
      posts.filter((p) => p.connectionId === connectionId).map((p) => p.frame),
    /** POSTs received for a connection, failed ones included. */
    attemptsFor: (connectionId: string) => attempts.get(connectionId) ?? 0,
    /** From now on, the connections answer 410 GoneException. */
    markGone(...connectionIds: string[]) {
      for (const id of connectionIds) gone.add(id);
    },
    /** The next `times` POSTs to a connection (only those whose body holds `containing`, if given) fail with `status`. */
    failNext(
      connectionId: string,
      status: InjectedStatus,
      times: number,
      only: { containing?: string } = {},
    ) {
      injected.set(connectionId, { status, remaining: times, containing: only.containing });
    },
    /**
     * Holds every POST unanswered until `count` of them are waiting, then answers them all and
     * stops holding: a client that keeps fewer than `count` in flight waits until its own
     * deadline. `holdPosts(0)` answers whatever is held now.
     */
    holdPosts(count: number) {
      if (count <= 0) return releaseHeld();
      held = { count, answers: [] };
    },
    /**
     * The next `posts` POSTs to a connection are never answered (a client that stopped reading,
     * as the Management API sees it); the ones after are answered as usual.
     */
    hang(connectionId: string, posts = Infinity) {
      hung.set(connectionId, posts);
    },
    /** POSTs to a hung connection that the client ended, unanswered. */
    abandonedPostsTo: (connectionId: string) => abandoned.get(connectionId) ?? 0,
    /** Most requests in progress at once since the last clearRecords: the client's real concurrency. */
    peakInFlight: () => peakInFlight,
    /** Forgets recorded posts, attempts and the peak (not gone connections nor injections). */
    clearRecords() {
      posts.length = 0;
      attempts.clear();
      peakInFlight = inFlight;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export type ManagementApi = Awaited<ReturnType<typeof startManagementApi>>;
