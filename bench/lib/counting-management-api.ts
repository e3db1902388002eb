/**
 * A counting stand-in for API Gateway's Management API in a child process: every
 * POST is answered 200 after a fixed delay (the round trip to API Gateway) and
 * counted by the text it carries (a roomcast message frame's `text`, or a
 * baseline's raw `data`), with the time it arrived. No sockets behind it, so a
 * room of 50 000 costs this process a counter, not 50 000 WebSockets.
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

type Tally = { count: number; last: number };
type Command = { expect: string; count: number } | { total: true };

function keyOf(body: string): string {
  try {
    const frame = JSON.parse(body) as { text?: unknown; type?: unknown };
    return typeof frame.text === "string" ? frame.text : `frame:${String(frame.type)}`;
  } catch {
    return body;
  }
}

async function serve(latencyMs: number) {
  const tallies = new Map<string, Tally>();
  const waiting = new Map<string, number>();
  let total = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () =>
      setTimeout(() => {
        const key = keyOf(Buffer.concat(chunks).toString("utf8"));
        const tally = tallies.get(key) ?? { count: 0, last: 0 };
        tally.count++;
        tally.last = nowMs();
        tallies.set(key, tally);
        total++;
        res.writeHead(200).end();
        if (waiting.has(key) && tally.count >= waiting.get(key)!) {
          waiting.delete(key);
          process.send!({ key, ...tally });
        }
      }, latencyMs),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.send!(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  process.on("message", (command: Command) => {
    if ("total" in command) return process.send!({ total });
    const tally = tallies.get(command.expect);
    if (tally && tally.count >= command.count) process.send!({ key: command.expect, ...tally });
    else waiting.set(command.expect, command.count);
  });
  process.on("disconnect", () => server.close());
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
  let totalAsked: ((total: number) => void) | undefined;
  child.on("message", (m: unknown) => {
    if (typeof m !== "object" || m === null) return;
    if ("total" in m) totalAsked?.((m as { total: number }).total);
    else {
      const { key, ...tally } = m as Tally & { key: string };
      pending.get(key)?.(tally);
      pending.delete(key);
    }
  });
  return {
    url,
    delivered: (text: string, count: number) =>
      new Promise<Tally>((resolve) => {
        pending.set(text, resolve);
        child.send({ expect: text, count } satisfies Command);
      }),
    /** Every post received so far, presence frames and retries included. */
    total: () =>
      new Promise<number>((resolve) => {
        totalAsked = resolve;
        child.send({ total: true } satisfies Command);
      }),
    stop: () => child.disconnect(),
  };
}

if (require.main === module && process.argv[2] === "--serve") void serve(Number(process.argv[3]));
