import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { configEnv, readConfig, readSettings } from "../handlers/config";
import type { Deps } from "../handlers/deps";
import type { Route } from "../handlers/route";
import { assertAuthSecret, authorize } from "../handlers/authorizer";
import { createLogger, type Logger } from "../handlers/log";
import { createMetrics } from "../handlers/metrics";
import { createDynamoClient } from "../model/client";
import { ensureTable } from "../model/create-table";
import type { Authorize } from "./authorizer";
import { dataAccessKey, withAccessKey } from "./data-key";
import { startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local";
import { createEventPipeline, type EventPipeline } from "./event-pipeline";
import { startGateway } from "./gateway";
import { startTtlEmulation, type TtlEmulation } from "./ttl-emulation";
import type { GatewaySettings } from "./gateway-settings";
import { forgetReloadableModules, loadApp, type App } from "./handler-app";
import type { QueueOverrides, RoomcastQueues } from "./sqs-server";
import { createSteps } from "./steps";

export type LocalStackOptions = {
  /** Gateway port; default `PORT` or 3001; 0 picks a free one. */
  port?: number;
  /** DynamoDB Local's data folder; null or omitted keeps the data in memory. */
  dataDir?: string | null;
  /** Reuse a running DynamoDB Local (tests) instead of starting one. */
  dynamodbEndpoint?: string;
  tableName?: string;
  idleTimeoutMs?: number;
  maxDurationMs?: number;
  /** Simulated per-call latency of the Management API (benchmarks); default 0. */
  managementLatencyMs?: number;
  /** Extra handler settings (see handlers/config.ts), on top of the process environment. */
  env?: Record<string, string>;
  onProgress?: (line: string) => void;
  /** Where handler and gateway logs go; JSON lines on stdout by default. */
  logger?: Logger;
  /** Signing secret of `$connect` tokens: runs the JWT authorizer as the deployed stack does. */
  authSecret?: string;
  /** Replaces parts of the handlers' deps, given the real ones (fault-injection tests). */
  overrideDeps?: (deps: Deps) => Partial<Deps>;
  /** Replaces the route table, given the real one (benchmarks plug in baseline handlers). */
  routes?: (routes: readonly Route[]) => readonly Route[];
  /** Reuse a running SQS-compatible server (tests) instead of starting one. */
  sqsEndpoint?: string;
  /** Shorter queue timings (tests). */
  queues?: QueueOverrides;
  /** How often the stream is read; Lambda: 250 ms. */
  streamPollMs?: number;
  /** Gateway fidelity settings: throttling, integrationTimeoutMs, dropDisconnects, managementCredentials. */
  gateway?: GatewaySettings;
  /**
   * Expired items stay readable this long, then a sweeper deletes them (local/ttl-emulation.ts),
   * so the expired-but-present state AWS shows for up to days is exercised. Unset: DynamoDB
   * Local's own TTL, which deletes them about 10 s after expiry.
   */
  ttlDelayMs?: number;
  /**
   * The clock the TTL sweeper judges expiry by; default `Date.now`. A test that moves time
   * ahead gives the handlers' store the same clock (`overrideDeps`).
   */
  ttlClock?: () => number;
  /**
   * Receives the handlers' EMF lines, one a flush: after each route invocation and each
   * worker batch, as in Lambda (`npm start` sums them with local/metrics-reporter.ts).
   * Omitted: the lines are dropped.
   */
  metrics?: (line: string) => void;
};

export type LocalStack = {
  wsUrl: string;
  httpUrl: string;
  port: number;
  tableName: string;
  dynamodbEndpoint: string;
  /** Pid of the DynamoDB Local this stack started, if it started one. */
  dynamodbPid?: number;
  connectionCount(): number;
  /** Reloads handlers/ and model/ from disk (`--watch`), keeping sockets and data; returns the route count. */
  reload(): number;
  /** The SQS-compatible server and roomcast's queues. */
  sqsEndpoint: string;
  queues: RoomcastQueues;
  /** Resolves once the gateway's handler runs are done and every stored change has gone through the stream and the queue. */
  settled(timeoutMs?: number): Promise<void>;
  /** Closes every socket (each fires `$disconnect`), the server, and the DynamoDB Local it started. */
  stop(): Promise<void>;
};

export const defaultPort = 3001;
export const defaultTableName = "roomcast-local";
const webRoot = resolve(__dirname, "../web");

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === "") return defaultPort;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT=${value} is not a port number`);
  return port;
}

/**
 * The whole chat on one machine: DynamoDB Local, the table, the handlers (deps
 * built once) and the local gateway. The gateway binds first, so a taken port
 * fails in milliseconds, before Java starts; it answers 503 until ready.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const step = createSteps(6, options.onProgress ?? (() => {}));
  const tableName = options.tableName ?? defaultTableName;
  let app: App | undefined;

  const gateway = await step(
    "gateway",
    () =>
      startGateway({
        port: options.port ?? portFromEnv(process.env.PORT),
        webRoot,
        app: () => app,
        idleTimeoutMs: options.idleTimeoutMs,
        maxDurationMs: options.maxDurationMs,
        managementLatencyMs: options.managementLatencyMs,
        authorize: options.authSecret ? localAuthorizer(options.authSecret, options) : undefined,
        log: options.logger,
        ...options.gateway,
      }),
    (g) => `listening on port ${g.port}`,
  );
  let dynamodb: DynamoDbLocal | undefined;
  let pipeline: EventPipeline | undefined;
  let ttl: TtlEmulation | undefined;
  try {
    // Absolute: DynamoDB Local runs in its package's folder, where a relative path would land.
    const dataDir = options.dataDir ? resolve(options.dataDir) : null;
    const dynamodbEndpoint = options.dynamodbEndpoint
      ? await step(
          "DynamoDB Local",
          async () => options.dynamodbEndpoint!,
          (endpoint) => `reusing ${endpoint}`,
        )
      : await step(
          `DynamoDB Local (${dataDir ? `data in ${dataDir}` : "in memory"})`,
          async () => {
            if (dataDir) mkdirSync(dataDir, { recursive: true });
            // Detached: a terminal's Ctrl-C must not kill it before the `$disconnect`s are written.
            dynamodb = await startDynamoDbLocal({ dbPath: dataDir ?? undefined, detached: true });
            // Persisted data is reachable only with the folder's own key (the endpoint carries it).
            return dataDir ? withAccessKey(dynamodb.endpoint, dataAccessKey(dataDir)) : dynamodb.endpoint;
          },
          () => `ready at ${dynamodb!.endpoint} (pid ${dynamodb!.pid})`,
          { slow: true },
        );

    await step(
      `table ${tableName}`,
      async () => {
        const client = createDynamoClient(dynamodbEndpoint);
        try {
          const created = await ensureTable(client, tableName);
          if (options.ttlDelayMs !== undefined)
            ttl = await startTtlSweeper(dynamodbEndpoint, tableName, options);
          return created;
        } finally {
          client.destroy();
        }
      },
      (created) => (created ? "created" : "exists"),
    );

    const settings = readConfig({
      ...process.env,
      ...options.env,
      [configEnv.tableName]: tableName,
      [configEnv.managementEndpoint]: `http://127.0.0.1:${gateway.port}`,
    });
    const events = (pipeline = await step(
      "SQS queues",
      () =>
        createEventPipeline({
          dynamodbEndpoint,
          tableName,
          sqsEndpoint: options.sqsEndpoint,
          queuePrefix: tableName,
          queues: options.queues,
          streamPollMs: options.streamPollMs,
          fanoutMaxConcurrency: settings.fanoutMaxConcurrency,
          onError: (error) =>
            (options.logger ?? createLogger({ service: "local-aws" })).error("event source mapping", {
              error,
            }),
        }),
      (p) => `fan-out queue and dead-letter queues at ${p.sqsEndpoint}`,
    ));

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      [configEnv.tableName]: tableName,
      [configEnv.dynamodbEndpoint]: dynamodbEndpoint,
      [configEnv.sqsEndpoint]: events.sqsEndpoint,
      [configEnv.fanoutQueueUrl]: events.queues.fanout.url,
      // The gateway's own origin; 127.0.0.1 spares the handlers a localhost lookup.
      [configEnv.managementEndpoint]: `http://127.0.0.1:${gateway.port}`,
    };
    const overrides = {
      ...(options.logger && { log: options.logger }),
      metrics: createMetrics({
        namespace: "roomcast",
        service: "roomcast",
        stack: "local",
        write: options.metrics ?? (() => {}),
      }),
    };
    const load = (): App => {
      const loaded = loadApp(env, overrides);
      return {
        ...loaded,
        // Lambda's entry publishes after each invocation (handlers/lambda.ts); the gateway calls this.
        invoke: async (route, event, deps) => {
          try {
            return await loaded.invoke(route, event, deps);
          } finally {
            deps.metrics.flush();
          }
        },
        routes: options.routes?.(loaded.routes) ?? loaded.routes,
        deps: options.overrideDeps ? { ...loaded.deps, ...options.overrideDeps(loaded.deps) } : loaded.deps,
      };
    };
    app = await step(
      "handlers",
      async () => load(),
      (a) => `${a.routes.length} routes loaded`,
    );
    await step(
      "event source mappings",
      () =>
        events.start(() => ({
          deps: app!.deps,
          ...app!.workers,
          container: () => {
            const { deps } = loadApp(env, overrides);
            return options.overrideDeps ? { ...deps, ...options.overrideDeps(deps) } : deps;
          },
        })),
      () => "table stream -> stream worker, fan-out queue -> fan-out worker, a timer -> room sweep",
    );

    let stopped: Promise<void> | undefined;
    return {
      wsUrl: gateway.wsUrl,
      httpUrl: gateway.httpUrl,
      port: gateway.port,
      tableName,
      dynamodbEndpoint,
      dynamodbPid: dynamodb?.pid,
      connectionCount: gateway.connectionCount,
      sqsEndpoint: events.sqsEndpoint,
      queues: events.queues,
      async settled(timeoutMs) {
        await gateway.idle(timeoutMs);
        await events.idle(timeoutMs);
      },
      reload() {
        forgetReloadableModules();
        app = load();
        return app.routes.length;
      },
      stop: () =>
        (stopped ??= (async () => {
          await gateway.stop();
          await ttl?.stop();
          // The $disconnects just written still flow through the stream before DynamoDB Local goes.
          await events.idle(5_000).catch(() => undefined);
          await events.stop();
          await dynamodb?.stop();
        })()),
    };
  } catch (error) {
    await gateway.stop();
    await ttl?.stop();
    await pipeline?.stop();
    await dynamodb?.stop();
    throw error;
  }
}

/** The TTL sweeper on its own client, which it destroys when it stops. */
async function startTtlSweeper(
  endpoint: string,
  tableName: string,
  options: LocalStackOptions,
): Promise<TtlEmulation> {
  const client = createDynamoClient(endpoint);
  const log = options.logger ?? createLogger({ service: "local-aws" });
  try {
    const sweeper = await startTtlEmulation({
      client,
      tableName,
      ttlDelayMs: options.ttlDelayMs,
      now: options.ttlClock,
      onError: (error) => log.error("ttl emulation", { error }),
    });
    return {
      sweep: sweeper.sweep,
      async stop() {
        await sweeper.stop();
        client.destroy();
      },
    };
  } catch (error) {
    client.destroy();
    throw error;
  }
}

/** The same authorizer the deployed stack runs on `$connect`, in-process, refusing a short secret as it does. */
function localAuthorizer(secret: string, options: LocalStackOptions): Authorize {
  assertAuthSecret(secret);
  const policy = readSettings({ ...process.env, ...options.env });
  const log = (options.logger ?? createLogger({ service: "roomcast" })).child({ route: "authorizer" });
  return (event) => authorize(event, { secret, log, policy });
}
