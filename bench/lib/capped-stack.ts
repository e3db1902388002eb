/**
 * roomcast's API side — the local gateway and the route handlers (one Lambda per
 * route on AWS) — in a child process of its own, so a cgroup can cap it at a
 * Lambda's CPU share. Or, with `routeContainers`, the gateway alone (API Gateway's
 * work is not the function's CPU) handing each request to a free route container,
 * a capped process of its own (lambda-process.ts), as Lambda runs concurrent
 * requests in containers of their own. No event machinery here: the stream and
 * fan-out workers run in their own capped processes, fed by mappings in the harness.
 * The baselines' `sendmessage` routes sit beside roomcast's and post to
 * `managementEndpoint` (another process).
 */
import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { configEnv } from "../../handlers/config";
import { createLogger } from "../../handlers/log";
import { startGateway } from "../../local/gateway";
import { loadApp } from "../../local/handler-app";
import type { RouteResult } from "../../handlers/route";
import { tutorialRoutes, type TutorialDeployment } from "../baselines/tutorial";
import { startLambdaPool } from "./lambda-process";

export type CappedStackOptions = {
  dynamodbEndpoint: string;
  tableName: string;
  managementEndpoint: string;
  /**
   * Where the routes post (replies, and whatever they deliver themselves). Default: the
   * gateway itself; a stand-in that forwards real connections to it can count the rest.
   */
  routesManagementEndpoint?: string;
  /** Handler settings on top of the defaults. */
  env: Record<string, string>;
  /** Baseline routes: the tutorial deployments served beside roomcast's routes (in its route containers, if any). */
  baselines: TutorialDeployment[];
  /** Route containers the gateway hands requests to, each capped at `memoryMb`'s share; none: the routes run in the gateway's process. */
  routeContainers?: { count: number; memoryMb: number; cgroupPrefix: string };
};

/** What the child reports: its CPU time so far. */
export type ChildStats = { cpuMs: number };
/** What the child reports once its gateway is up: its URL, and whether its route containers are capped. */
type Ready = { wsUrl: string; routesCapped?: { applied: boolean; reason?: string } };

async function serve(options: CappedStackOptions) {
  const quiet = createLogger({}, () => undefined);
  let origin = "";
  const routesEnv = () => ({
    ...(process.env as Record<string, string>),
    ...options.env,
    // No rate limits: the benchmarks offer more than one client would.
    [configEnv.rateLimitMessages]: "0",
    [configEnv.userRateLimitMessages]: "0",
    [configEnv.rateLimitReads]: "0",
    [configEnv.userRateLimitReads]: "0",
    [configEnv.tableName]: options.tableName,
    [configEnv.dynamodbEndpoint]: options.dynamodbEndpoint,
    // Routes post nothing but replies; their Management API is the gateway itself.
    [configEnv.managementEndpoint]: options.routesManagementEndpoint ?? origin,
  });
  const loaded = () => {
    const app = loadApp(routesEnv(), { log: quiet });
    const baselines = tutorialRoutes(options.baselines, options.dynamodbEndpoint, options.managementEndpoint);
    return { ...app, routes: [...app.routes, ...baselines] };
  };
  // Loaded once the gateway's port (the routes' Management API origin) is known; 503 until then.
  const ready: { app?: ReturnType<typeof loaded> } = {};
  const gateway = await startGateway({
    port: 0,
    webRoot: resolve(__dirname, "../../web"),
    app: () => ready.app,
    log: quiet,
  });
  origin = `http://127.0.0.1:${gateway.port}`;
  const containers = options.routeContainers;
  const pool =
    containers &&
    (await startLambdaPool(
      "routes",
      containers.count,
      routesEnv(),
      containers.memoryMb,
      containers.cgroupPrefix,
      [],
      { deployments: options.baselines, managementEndpoint: options.managementEndpoint },
    ));
  const app = loaded();
  ready.app = pool
    ? { ...app, invoke: (_route, event) => pool.invoke(event, 1) as Promise<RouteResult> }
    : app;
  process.send!({
    wsUrl: gateway.wsUrl,
    routesCapped: pool && { applied: pool.capped, reason: pool.capReason },
  } satisfies Ready);
  // The harness is gone (killed, crashed): the gateway would otherwise keep this process alive.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (command: "stats" | "stop") => {
    void (async () => {
      if (command === "stop") await gateway.stop().then(() => pool?.stop());
      const used = process.cpuUsage();
      process.send!({ cpuMs: (used.user + used.system) / 1000 } satisfies ChildStats);
      if (command === "stop") process.exit(0);
    })();
  });
}

/**
 * Forks the API process; `wsUrl` resolves once its gateway is up.
 *
 * @example
 * const stack = forkCappedStack(options);
 * capCpu(stack.pid, 256, "roomcast-bench");
 * const url = await stack.wsUrl;
 */
export function forkCappedStack(options: CappedStackOptions) {
  const child: ChildProcess = fork(__filename, ["--serve", JSON.stringify(options)]);
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`API process exited (${code})`))),
  );
  exited.catch(() => undefined);
  const next = <T>() =>
    Promise.race([new Promise<T>((resolve) => child.once("message", (m) => resolve(m as T))), exited]);
  const ready = next<Ready>();
  const wsUrl = ready.then((m) => m.wsUrl);
  const ask = (command: "stats" | "stop") => {
    const answer = next<ChildStats>();
    child.send(command);
    return answer;
  };
  return {
    pid: child.pid!,
    wsUrl,
    /** With `routeContainers`: whether their CPU caps applied. */
    routesCapped: ready.then((m) => m.routesCapped),
    /** CPU ms so far. */
    stats: () => ask("stats"),
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
