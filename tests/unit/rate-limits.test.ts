import { configEnv, readConfig } from "../../handlers/config";
import type { Deps } from "../../handlers/deps";
import { createLogger } from "../../handlers/log";
import { createMetrics } from "../../handlers/metrics";
import { createRateLimiter } from "../../handlers/rate-limits";

// The in-container layer of the rate limits on its own clock: when a flooding connection is
// closed, in frames and seconds of that clock (the stage's throttle sets the pace of what
// reaches the handler).

/** `npm start`'s defaults: 5 junk frames per 10 s, closed past 20 refusals. */
const config = readConfig({
  [configEnv.tableName]: "t",
  [configEnv.managementEndpoint]: "http://127.0.0.1:1",
});

function flood(framesPerSecond: number, seconds: number) {
  let clock = 0;
  const limiter = createRateLimiter(config, () => clock);
  const closed: { connectionId: string; atMs: number }[] = [];
  const logs: string[] = [];
  const deps = {
    log: createLogger({}, (line) => logs.push(line)),
    metrics: createMetrics({ namespace: "roomcast", service: "roomcast", write: () => undefined }),
    closeConnection: async (connectionId: string) => void closed.push({ connectionId, atMs: clock }),
  } as unknown as Deps;
  return (async () => {
    const verdicts: string[] = [];
    for (; clock < seconds * 1000; clock += 1000 / framesPerSecond) {
      verdicts.push(
        await limiter.admitFrame(deps, "flooder", "junk").then(
          () => "admitted",
          (error: { code: string }) => error.code,
        ),
      );
    }
    return { verdicts, closed, logs };
  })();
}

test("a junk flood let through at 10 frames/s (the stage's $default throttle) is closed within 3 s, although its bucket lets a frame through every 2 s", async () => {
  const { verdicts, closed } = await flood(10, 20);
  // Never 20 refusals in a row: the bucket admits one frame in 20 once its burst is spent.
  const admittedAfterBurst = verdicts.slice(5).filter((v) => v === "admitted").length;
  expect(admittedAfterBurst).toBeGreaterThan(0);
  expect(closed.map((c) => c.connectionId)).toEqual(["flooder"]);
  expect(closed[0].atMs).toBeLessThanOrEqual(3000);
});

test("a client that sends faster than its limit (2 frames/s against 0.5/s) is refused, but not closed in a minute", async () => {
  const { verdicts, closed } = await flood(2, 60);
  expect(verdicts).toContain("RATE_LIMITED");
  expect(closed).toEqual([]);
});

test("a close says why in the log", async () => {
  const { logs } = await flood(10, 5);
  const close = logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((l) => l.msg === "closing connection");
  expect(close).toMatchObject({
    level: "warn",
    connectionId: "flooder",
    reason: "rate limit",
    tooManyInAWindow: true,
  });
});
