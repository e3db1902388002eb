import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import type { Deps } from "../../handlers/deps";
import { invoke } from "../../handlers/invoke";
import { createLogger } from "../../handlers/log";
import type { Route, RouteResult, WebSocketEvent } from "../../handlers/route";
import { startGateway, type GatewayApp, type GatewayOptions } from "../../local/gateway";
import { startLocalStack, type LocalStackOptions } from "../../local/stack";
import { localAws } from "../../model/client";

/** Handler and gateway logs would drown jest's output. */
export const silentLogger = createLogger({}, () => undefined);

/**
 * The local stack on the test file's DynamoDB Local (or `options.dynamodbEndpoint`) with a
 * fresh table, a free port and quiet logs.
 */
export function startTestStack(options: LocalStackOptions = {}) {
  const dynamodbEndpoint = options.dynamodbEndpoint ?? process.env.DYNAMODB_ENDPOINT;
  if (!dynamodbEndpoint) throw new Error("DYNAMODB_ENDPOINT is not set: run the tests through jest");
  return startLocalStack({
    port: 0,
    tableName: `roomcast-local-${randomUUID().slice(0, 8)}`,
    logger: silentLogger,
    ...options,
    dynamodbEndpoint,
  });
}

/** The real Management API client, as the handlers build it for the local stack. */
export const managementClient = (endpoint: string) =>
  new ApiGatewayManagementApiClient({ endpoint, ...localAws, maxAttempts: 1 });

const reply = (body: unknown): RouteResult => ({ statusCode: 200, body: JSON.stringify(body) });

/**
 * The gateway running stand-in handlers that record every event they get, so a
 * test sees exactly what a Lambda would. Routes:
 * - `$connect` answers `?status=` (default 200); with `?hold=1` it waits for `release(id)`;
 * - `$default` replies `{route, body}`; `echo` replies `{route, event}`;
 * - `silent` has no route response; `crash` fails in the Lambda runtime itself;
 * - `slow` replies `{route, done}` after the frame's `ms` milliseconds (`done` is set when it finishes);
 * - `big` replies a body of exactly the frame's `bytes` bytes.
 */
export async function startRecordingGateway(options: Partial<GatewayOptions> = {}) {
  const events: WebSocketEvent[] = [];
  const waiters: (() => void)[] = [];
  const holds = new Map<string, () => void>();
  // Request ids of the `slow` runs that have finished, timed out or not.
  const finished: string[] = [];
  const record = (event: WebSocketEvent) => {
    events.push(event);
    for (const wake of waiters.splice(0)) wake();
  };
  const route = (key: string, routeResponse: boolean, handle: Route["handle"]): Route => ({
    key,
    name: key.replace("$", ""),
    routeResponse,
    permissions: { table: [], post: false },
    async handle(event, deps) {
      record(event);
      return handle(event, deps);
    },
  });
  const routes: Route[] = [
    route("$connect", false, async (event) => {
      const query = event.queryStringParameters ?? {};
      if (query.hold) await new Promise<void>((done) => holds.set(event.requestContext.connectionId, done));
      return { statusCode: Number(query.status ?? 200) };
    }),
    route("$disconnect", false, async () => ({ statusCode: 200 })),
    route("$default", true, async (event) => reply({ route: "$default", body: event.body })),
    route("echo", true, async (event) => reply({ route: "echo", event })),
    route("silent", false, async () => reply({ route: "silent" })),
    route("crash", true, async () => reply({ route: "crash" })),
    route("slow", true, async (event) => {
      const { ms } = JSON.parse(event.body!) as { ms: number };
      await new Promise((done) => setTimeout(done, ms));
      finished.push(event.requestContext.requestId);
      return reply({ route: "slow" });
    }),
    route("big", true, async (event) => {
      const { bytes } = JSON.parse(event.body!) as { bytes: number };
      const frame = JSON.stringify({ route: "big", pad: "" });
      return {
        statusCode: 200,
        body: frame.replace('"pad":""', `"pad":"${"b".repeat(bytes - frame.length)}"`),
      };
    }),
  ];
  const app: GatewayApp = {
    routes,
    deps: { log: silentLogger } as unknown as Deps,
    invoke: (r, event, deps) =>
      r.key === "crash" ? Promise.reject(new Error("the Lambda runtime crashed")) : invoke(r, event, deps),
  };
  const gateway = await startGateway({
    port: 0,
    webRoot: resolve(__dirname, "../../web"),
    app: () => app,
    log: silentLogger,
    ...options,
  });
  const management = managementClient(gateway.httpUrl);

  return {
    ...gateway,
    events,
    finished,
    management,
    /** The first recorded event that matches, waiting for it if need be. */
    event(match: (event: WebSocketEvent) => boolean): Promise<WebSocketEvent> {
      return new Promise((done) => {
        const look = () => {
          const found = events.find(match);
          if (found) done(found);
          else waiters.push(look);
        };
        look();
      });
    },
    /** Lets a held `$connect` finish. */
    release(connectionId: string) {
      holds.get(connectionId)?.();
    },
    async stop() {
      for (const done of holds.values()) done();
      await gateway.stop();
      management.destroy();
    },
  };
}

export type RecordingGateway = Awaited<ReturnType<typeof startRecordingGateway>>;

/** Starts recording gateways as a test file needs them, and stops them all after the file. */
export function recordingGateways() {
  const started: RecordingGateway[] = [];
  afterAll(() => Promise.all(started.map((g) => g.stop())));
  return async (options: Partial<GatewayOptions> = {}) => {
    const gateway = await startRecordingGateway(options);
    started.push(gateway);
    return gateway;
  };
}

/** Matches the event of one route (and one connection). */
export const routeEvent = (routeKey: string, connectionId?: string) => (event: WebSocketEvent) =>
  event.requestContext.routeKey === routeKey &&
  (connectionId === undefined || event.requestContext.connectionId === connectionId);
