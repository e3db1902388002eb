/**
 * A counting stand-in for API Gateway's Management API in a child process: every
 * POST is answered 200 after a fixed delay (the round trip to API Gateway) and
 * counted by the text it carries (a roomcast message frame's `text`, or a
 * baseline's raw `data`), with the time it arrived. No sockets behind it, so a
 * room of 50 000 costs this process a counter, not 50 000 WebSockets.
 *
 * For the benchmarks that mix real clients with counted ones: with `forward`
 * origins set, only seeded ids ({@link seededConnectionId}) are counted here and
 * every other call goes on to the gateways that hold real connections. Arrivals
 * can be recorded one by one (`record`), a seeded id can be made to fail (an
 * instant 429, or a post that never answers), and a DELETE disconnects it (410
 * from then on), as API Gateway does.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

const seededSuffix = "-seed=";
/**
 * A connection id that only exists at the stand-in (a member written straight to the table):
 * random first characters, as API Gateway's, so it falls in any fan-out slice; 22 characters
 * where API Gateway's have 16, so it is never a real connection's.
 */
export const seededConnectionId = () => `${randomBytes(12).toString("base64url")}${seededSuffix}`;

export type FailureMode = "429" | "hang";
/** One counted post: its key (the text), the connection, when it arrived (epoch ms). */
export type Arrival = [key: string, connectionId: string, at: number];
/** What `take` hands over: the recorded arrivals and the DELETEs (disconnects) since the last take. */
export type Taken = { arrivals: Arrival[]; deletes: [connectionId: string, at: number][] };

type Tally = { count: number; last: number };
type Command =
  | { expect: string; count: number }
  | { total: true }
  | { forward: string[] }
  | { record: string }
  | { take: true }
  | { fail: string; mode: FailureMode }
  | { heal: true };
type Request = { id: number; command: Command };

function keyOf(body: string): string {
  try {
    const frame = JSON.parse(body) as { text?: unknown; type?: unknown };
    return typeof frame.text === "string" ? frame.text : `frame:${String(frame.type)}`;
  } catch {
    return body;
  }
}

const connectionIdOf = (url = "") =>
  decodeURIComponent(/\/(?:@|%40)connections\/([^/?]+)/.exec(url)?.[1] ?? "");

/** A call for a real connection: each gateway in turn until one knows it (410 from all: gone). */
async function forwardCall(origins: string[], req: IncomingMessage, body: Buffer, res: ServerResponse) {
  for (const [i, origin] of origins.entries()) {
    const answer = await new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>(
      (resolve, reject) => {
        const url = new URL(req.url ?? "/", origin);
        // The Host header stays the signed one: the gateway checks SigV4 against it.
        const out = request(url, { method: req.method, headers: req.headers }, (reply) => {
          const chunks: Buffer[] = [];
          reply.on("data", (chunk: Buffer) => chunks.push(chunk));
          reply.on("end", () =>
            resolve({ status: reply.statusCode ?? 500, headers: reply.headers, body: Buffer.concat(chunks) }),
          );
        });
        out.once("error", reject);
        out.end(body);
      },
    );
    if (answer.status !== 410 || i === origins.length - 1) {
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
  }
}

async function serve(latencyMs: number) {
  const tallies = new Map<string, Tally>();
  const waiting = new Map<string, number>();
  let total = 0;
  let forward: string[] = [];
  let recordPrefix: string | undefined;
  let taken: Taken = { arrivals: [], deletes: [] };
  const failing = new Map<string, FailureMode>();
  const gone = new Set<string>();
  const hanging = new Set<ServerResponse>();
  const counted = (connectionId: string) => forward.length === 0 || connectionId.endsWith(seededSuffix);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const connectionId = connectionIdOf(req.url);
      if (!counted(connectionId)) {
        forwardCall(forward, req, body, res).catch(() => res.writeHead(502).end());
        return;
      }
      if (req.method === "DELETE") {
        gone.add(connectionId);
        taken.deletes.push([connectionId, nowMs()]);
        return void res.writeHead(204).end();
      }
      if (gone.has(connectionId))
        return void res.writeHead(410, { "x-amzn-ErrorType": "GoneException" }).end('{"message":"Gone"}');
      const failure = failing.get(connectionId);
      if (failure === "429")
        return void res
          .writeHead(429, { "x-amzn-ErrorType": "LimitExceededException" })
          .end('{"message":"Rate exceeded"}');
      if (failure === "hang") {
        hanging.add(res);
        res.once("close", () => hanging.delete(res));
        return;
      }
      setTimeout(() => {
        const key = keyOf(body.toString("utf8"));
        const tally = tallies.get(key) ?? { count: 0, last: 0 };
        tally.count++;
        tally.last = nowMs();
        tallies.set(key, tally);
        total++;
        if (recordPrefix !== undefined && key.startsWith(recordPrefix))
          taken.arrivals.push([key, connectionId, tally.last]);
        res.writeHead(200).end();
        if (waiting.has(key) && tally.count >= waiting.get(key)!) {
          waiting.delete(key);
          process.send!({ key, ...tally });
        }
      }, latencyMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.send!(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  const answer = (id: number, result: unknown) => process.send!({ id, result });
  process.on("message", (message: Request | { expect: string; count: number }) => {
    if ("expect" in message) {
      const tally = tallies.get(message.expect);
      if (tally && tally.count >= message.count) process.send!({ key: message.expect, ...tally });
      else waiting.set(message.expect, message.count);
      return;
    }
    const { id, command } = message;
    if ("total" in command) return answer(id, total);
    if ("forward" in command) forward = command.forward;
    else if ("record" in command) recordPrefix = command.record;
    else if ("fail" in command) failing.set(command.fail, command.mode);
    else if ("heal" in command) {
      failing.clear();
      for (const res of hanging) res.destroy();
    } else if ("take" in command) {
      const out = taken;
      taken = { arrivals: [], deletes: [] };
      return answer(id, out);
    }
    answer(id, null);
  });
  process.on("disconnect", () => {
    for (const res of hanging) res.destroy();
    server.close();
    server.closeAllConnections();
  });
}

/**
 * Starts the stand-in. `delivered(text, n)` resolves once n posts carrying `text`
 * arrived, with the arrival time of the last one (see {@link nowMs}).
 *
 * @example
 * const api = startCountingManagementApi(20);
 * const { last } = await api.delivered("hello-1", 1000);
 */
export function startCountingManagementApi(latencyMs: number) {
  const child = fork(__filename, ["--serve", String(latencyMs)]);
  const url = new Promise<string>((resolve) => child.once("message", (m) => resolve(m as string)));
  const pending = new Map<string, (tally: Tally) => void>();
  const calls = new Map<number, (result: unknown) => void>();
  let nextId = 0;
  child.on("message", (m: unknown) => {
    if (typeof m !== "object" || m === null) return;
    if ("id" in m) {
      const { id, result } = m as { id: number; result: unknown };
      calls.get(id)?.(result);
      calls.delete(id);
    } else {
      const { key, ...tally } = m as Tally & { key: string };
      pending.get(key)?.(tally);
      pending.delete(key);
    }
  });
  const call = <T>(command: Command) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      calls.set(id, resolve as (result: unknown) => void);
      child.send({ id, command } satisfies Request);
    });
  return {
    url,
    delivered: (text: string, count: number) =>
      new Promise<Tally>((resolve) => {
        pending.set(text, resolve);
        child.send({ expect: text, count });
      }),
    /** Every post received so far, presence frames and retries included. */
    total: () => call<number>({ total: true }),
    /** From now on only seeded ids are counted; calls for others go to these gateway origins. */
    forwardTo: (origins: string[]) => call<null>({ forward: origins }),
    /** Records every arrival whose key starts with `prefix`, for {@link take}. */
    record: (prefix: string) => call<null>({ record: prefix }),
    /** The arrivals and DELETEs recorded since the last take. */
    take: () => call<Taken>({ take: true }),
    /** Every post to this seeded connection fails: an instant 429, or no answer at all. */
    fail: (connectionId: string, mode: FailureMode) => call<null>({ fail: connectionId, mode }),
    /** No connection fails any more; hanging posts are cut. */
    heal: () => call<null>({ heal: true }),
    stop: () => child.disconnect(),
  };
}

if (require.main === module && process.argv[2] === "--serve") void serve(Number(process.argv[3]));
