/**
 * roomcast's handler side (local gateway, routes, stream worker, fan-out worker)
 * in a child process of its own, so a cgroup can cap it at a Lambda's CPU share.
 * Posts go to `managementEndpoint` (another process) through roomcast's own
 * delivery; the baselines' `sendmessage` routes sit beside roomcast's.
 */
import { fork, type ChildProcess } from "node:child_process";
import { configEnv } from "../../handlers/config";
import { createDelivery, type Delivery } from "../../handlers/delivery";
import { createLogger } from "../../handlers/log";
import { createTransport } from "../../handlers/transport";
import { startLocalStack } from "../../local/stack";
import { createDynamoClient, localAws } from "../../model/client";
import { tutorialConnections, tutorialSendMessageRoute } from "../baselines/tutorial";

export type CappedStackOptions = {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  managementEndpoint: string;
  /** Handler settings (INLINE_FANOUT_MAX, ...). */
  env: Record<string, string>;
  /** Baseline routes: action -> the tutorial connections table it Scans, and how it posts. */
  baselines: { action: string; table: string; posting: "all at once" | "one at a time" }[];
};

/** What the child reports: its CPU time so far; since the last report, the longest broadcast and all broadcasts' time (the functions' posting time). */
export type ChildStats = { cpuMs: number; longestBroadcastMs: number; broadcastMs: number };

async function serve(options: CappedStackOptions) {
  const quiet = createLogger({}, () => undefined);
  let longestBroadcastMs = 0;
  let broadcastMs = 0;
  const stack = await startLocalStack({
    port: 0,
    dynamodbEndpoint: options.dynamodbEndpoint,
    sqsEndpoint: options.sqsEndpoint,
    tableName: options.tableName,
    logger: quiet,
    env: { [configEnv.rateLimitMessages]: "0", ...options.env },
    overrideDeps: (deps): { delivery: Delivery } => {
      const transport = createTransport({
        endpoint: options.managementEndpoint,
        region: localAws.region,
        credentials: localAws.credentials,
        maxAttempts: deps.config.postMaxAttempts,
        timeoutMs: deps.config.postTimeoutMs,
        maxSockets: deps.config.fanoutConcurrency,
      });
      const delivery = createDelivery({
        transport,
        concurrency: deps.config.fanoutConcurrency,
        postsPerSecond: deps.config.maxPostsPerSecond / Math.max(1, deps.config.fanoutMaxConcurrency),
      });
      return {
        delivery: {
          async broadcast(ids, json, broadcastOptions) {
            const started = performance.now();
            const report = await delivery.broadcast(ids, json, broadcastOptions);
            const took = performance.now() - started;
            longestBroadcastMs = Math.max(longestBroadcastMs, took);
            broadcastMs += took;
            return report;
          },
        },
      };
    },
    routes: (routes) => [
      ...routes,
      ...options.baselines.map(({ action, table, posting }) =>
        tutorialSendMessageRoute(
          action,
          tutorialConnections(createDynamoClient(options.dynamodbEndpoint), table),
          posting,
          { ...localAws, endpoint: options.managementEndpoint },
        ),
      ),
    ],
  });
  process.send!({ wsUrl: stack.wsUrl });
  process.on("message", (command: "stats" | "settled" | "stop") => {
    void (async () => {
      if (command === "settled") await stack.settled(300_000);
      if (command === "stop") await stack.stop();
      const used = process.cpuUsage();
      process.send!({
        cpuMs: (used.user + used.system) / 1000,
        longestBroadcastMs,
        broadcastMs,
      } satisfies ChildStats);
      if (command === "stop") process.exit(0);
      longestBroadcastMs = 0;
      broadcastMs = 0;
    })();
  });
}

/**
 * Forks the handler process; `wsUrl` resolves once its stack is up.
 *
 * @example
 * const stack = forkCappedStack(options);
 * capCpu(stack.pid, 256, "roomcast-bench");
 * const url = await stack.wsUrl;
 */
export function forkCappedStack(options: CappedStackOptions) {
  const child: ChildProcess = fork(__filename, ["--serve", JSON.stringify(options)]);
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`handler process exited (${code})`))),
  );
  exited.catch(() => undefined);
  const next = <T>() =>
    Promise.race([new Promise<T>((resolve) => child.once("message", (m) => resolve(m as T))), exited]);
  const wsUrl = next<{ wsUrl: string }>().then((m) => m.wsUrl);
  const ask = (command: "stats" | "settled" | "stop") => {
    const answer = next<ChildStats>();
    child.send(command);
    return answer;
  };
  return {
    pid: child.pid!,
    wsUrl,
    /** CPU ms so far and the longest broadcast since the last ask. */
    stats: () => ask("stats"),
    /** Waits until the stream and the queue are drained, then reports. */
    settled: () => ask("settled"),
    stop: async () => {
      if (child.exitCode !== null || !child.connected) return undefined;
      const stats = await ask("stop");
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
      return stats;
    },
  };
}

if (require.main === module && process.argv[2] === "--serve") {
  serve(JSON.parse(process.argv[3]) as CappedStackOptions).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
