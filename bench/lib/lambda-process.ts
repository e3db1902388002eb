/**
 * One Lambda container (the stream worker, the fan-out worker, or the routes) as a
 * process of its own under its own cgroup CPU quota: built with `createDeps` like
 * a cold start (so its own clients, transport and pacer), then invoked one event at
 * a time over IPC, as Lambda invokes a container. A pool of them stands for a
 * function's concurrent containers.
 */
import { fork, type ChildProcess } from "node:child_process";
import type { Deps } from "../../handlers/deps";
import type { WebSocketEvent } from "../../handlers/route";
import { configEnv } from "../../handlers/config";
import { createLogger } from "../../handlers/log";
import type { TutorialDeployment } from "../baselines/tutorial";
import { capCpu, type CpuCap } from "./cpu-cap";
import { nowMs } from "./counting-management-api";

/** `routes`: the API's route handlers, the route picked by the event's `routeKey` as API Gateway's integration does. */
export type FunctionKind = "stream" | "fanout" | "routes";

/** Tutorial deployments a `routes` container serves beside roomcast's routes, posting to `managementEndpoint`. */
export type ContainerBaselines = { deployments: TutorialDeployment[]; managementEndpoint: string };

/** One invocation as the harness saw it, with what the container spent inside. */
export type Invocation = {
  kind: FunctionKind;
  memoryMb: number;
  records: number;
  /** Epoch ms (see nowMs), inside the container. */
  startedAt: number;
  endedAt: number;
  /** CPU of the container during the invocation. */
  cpuMs: number;
  /** Time in `store.membersFrom` (the Queries of a slice, a page at a time) and in `delivery.broadcast` (posting). */
  queryMs: number;
  postMs: number;
};

type Request = { id: number; event: unknown };
type Reply = { id: number; response?: unknown; error?: string } & Omit<
  Invocation,
  "kind" | "memoryMb" | "records"
>;

async function serve(kind: FunctionKind, env: NodeJS.ProcessEnv, baselines: ContainerBaselines) {
  const { createDeps } = await import("../../handlers/deps");
  const { streamWorker, fanoutWorker } = await import("../../handlers/workers");
  const { routeFor } = await import("../../handlers/routes");
  const { invoke } = await import("../../handlers/invoke");
  const { tutorialRoutes } = await import("../baselines/tutorial");
  const baselineRoutes = tutorialRoutes(
    baselines.deployments,
    env[configEnv.dynamodbEndpoint]!,
    baselines.managementEndpoint,
  );
  const handle = (event: never, deps: Deps): Promise<unknown> => {
    if (kind === "stream") return streamWorker.handle(event, deps);
    if (kind === "fanout") return fanoutWorker.handle(event, deps);
    const key = (event as WebSocketEvent).requestContext.routeKey;
    return invoke(baselineRoutes.find((route) => route.key === key) ?? routeFor(key), event, deps);
  };
  const timing = { queryMs: 0, postMs: 0 };
  const { createMetrics } = await import("../../handlers/metrics");
  // Flushed after every invocation as Lambda's entry does; the EMF lines go nowhere.
  const metrics = createMetrics({ namespace: "roomcast", service: "roomcast", write: () => undefined });
  const real = createDeps(env, { log: createLogger({}, () => undefined), metrics });
  const timed =
    <A extends unknown[], R>(into: "queryMs" | "postMs", f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await f(...args);
      } finally {
        timing[into] += performance.now() - started;
      }
    };
  const deps: Deps = {
    ...real,
    store: { ...real.store, membersFrom: timed("queryMs", real.store.membersFrom.bind(real.store)) },
    delivery: { broadcast: timed("postMs", real.delivery.broadcast.bind(real.delivery)) },
  };
  process.on("message", (request: Request) => {
    void (async () => {
      timing.queryMs = timing.postMs = 0;
      const cpuBefore = process.cpuUsage();
      const startedAt = nowMs();
      const reply: Partial<Reply> = { id: request.id };
      try {
        reply.response = await handle(request.event as never, deps);
      } catch (error) {
        reply.error = String(error);
      } finally {
        metrics.flush();
      }
      const cpu = process.cpuUsage(cpuBefore);
      process.send!({
        ...reply,
        startedAt,
        endedAt: nowMs(),
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...timing,
      });
    })();
  });
  // The harness is gone (killed, crashed): a container has no one left to serve.
  process.on("disconnect", () => process.exit(0));
  process.send!("ready");
}

export type LambdaProcess = {
  pid: number;
  invoke(event: unknown, records: number): Promise<unknown>;
  stop(): Promise<void>;
};

/**
 * Forks one container of `kind`, waits for its init (uncapped, as Lambda's init
 * runs at burst CPU), then caps it at `memoryMb`'s share. Every invocation is
 * appended to `log`.
 *
 * @example
 * const fanout = await startLambdaProcess("fanout", env, 256, "bench-1", log);
 * const response = await fanout.invoke(sqsEvent, sqsEvent.Records.length);
 */
export async function startLambdaProcess(
  kind: FunctionKind,
  env: Record<string, string>,
  memoryMb: number,
  cgroupName: string,
  log: Invocation[],
  baselines: ContainerBaselines = { deployments: [], managementEndpoint: "" },
): Promise<LambdaProcess & { cap: CpuCap }> {
  const child: ChildProcess = fork(__filename, [
    "--serve",
    kind,
    JSON.stringify(env),
    JSON.stringify(baselines),
  ]);
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`${kind} container process exited (${code}) during init`)));
  });
  const cap = capCpu(child.pid!, memoryMb, cgroupName);
  const pending = new Map<number, { resolve(r: unknown): void; reject(e: Error): void; records: number }>();
  let nextId = 0;
  child.on("message", (reply: Reply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    const { startedAt, endedAt, cpuMs, queryMs, postMs } = reply;
    log.push({ kind, memoryMb, records: call.records, startedAt, endedAt, cpuMs, queryMs, postMs });
    if (reply.error) call.reject(new Error(reply.error));
    else call.resolve(reply.response);
  });
  child.on("exit", () => {
    for (const call of pending.values()) call.reject(new Error(`${kind} container process exited`));
  });
  return {
    pid: child.pid!,
    cap,
    invoke: (event, records) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject, records });
        child.send({ id, event } satisfies Request);
      }),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        await exited;
      }
      cap.remove();
    },
  };
}

/**
 * `size` containers of one function; each invocation goes to a free one (the
 * mapping never runs more than `size` at once, as its maximum concurrency says).
 *
 * @example
 * const pool = await startLambdaPool("fanout", 8, env, 256, "bench", log);
 * await pool.invoke(event, event.Records.length);
 */
export async function startLambdaPool(
  kind: FunctionKind,
  size: number,
  env: Record<string, string>,
  memoryMb: number,
  cgroupPrefix: string,
  log: Invocation[],
  baselines?: ContainerBaselines,
) {
  const members = await Promise.all(
    Array.from({ length: size }, (_, i) =>
      startLambdaProcess(kind, env, memoryMb, `${cgroupPrefix}-${kind}-${i}`, log, baselines),
    ),
  );
  const free: LambdaProcess[] = [...members];
  const waiting: ((member: LambdaProcess) => void)[] = [];
  const release = (member: LambdaProcess) => {
    const next = waiting.shift();
    if (next) next(member);
    else free.push(member);
  };
  return {
    members,
    capped: members.every((m) => m.cap.applied),
    capReason: members.find((m) => !m.cap.applied)?.cap.reason,
    async invoke(event: unknown, records: number): Promise<unknown> {
      const member = free.pop() ?? (await new Promise<LambdaProcess>((resolve) => waiting.push(resolve)));
      try {
        return await member.invoke(event, records);
      } finally {
        release(member);
      }
    },
    stop: () => Promise.all(members.map((m) => m.stop())),
  };
}

if (require.main === module && process.argv[2] === "--serve") {
  const [kind, env, baselines] = process.argv.slice(3);
  serve(
    kind as FunctionKind,
    JSON.parse(env) as NodeJS.ProcessEnv,
    JSON.parse(baselines) as ContainerBaselines,
  ).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
