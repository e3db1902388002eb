import { ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { configEnv } from "../../handlers/config";
import { createDeps, type Deps } from "../../handlers/deps";
import { invoke } from "../../handlers/invoke";
import { createLogger } from "../../handlers/log";
import { createMetrics } from "../../handlers/metrics";
import { fanoutWorker, streamWorker } from "../../handlers/workers";
import { createEventPipeline } from "../../local/event-pipeline";
import type { RouteResult, WebSocketEvent } from "../../handlers/route";
import { routeFor } from "../../handlers/routes";
import { wsClient, type ClientOptions, type WsClient } from "../support/events";
import { startManagementApi } from "../support/management-api";
import { freshTable } from "../support/table";

export type Frame = Record<string, unknown> & { type: string };
export type LogLine = Record<string, unknown> & { level: string; msg: string };

/**
 * The chat as Lambda runs it: a fresh table on DynamoDB Local, the loopback
 * Management API, deps from `createDeps` (env vars, as at a cold start) and every
 * event through `invoke`. Rate limiting and the connection caps are off unless `env`
 * turns them on, so tests can send and connect freely.
 */
/**
 * Items no test counts as the chat's data: rate-limit buckets (every frame counts against them,
 * a rejected one too) and the stream worker's counted-change markers (written a moment after
 * each membership change, whatever the test is looking at).
 */
const bookkeeping = new Set(["rateLimit", "countedChange"]);

export async function startChat(env: Partial<Record<keyof typeof configEnv, string>> = {}) {
  const table = await freshTable("roomcast-handlers");
  const api = await startManagementApi();
  const logLines: string[] = [];
  const events = await createEventPipeline({
    dynamodbEndpoint: table.endpoint,
    tableName: table.tableName,
    queuePrefix: table.tableName,
    // Longer than a fan-out job takes on a loaded machine, short enough for redelivery tests.
    queues: { visibilityTimeoutSeconds: 5, maxReceiveCount: 3 },
    streamPollMs: 20,
    fanoutMaxConcurrency: 4,
    streamMaximumRetryAttempts: 3,
    onError: (error) =>
      logLines.push(JSON.stringify({ level: "error", msg: "event source mapping", error: String(error) })),
  });
  const settings: Record<string, string> = {
    [configEnv.tableName]: table.tableName,
    [configEnv.dynamodbEndpoint]: table.endpoint,
    [configEnv.managementEndpoint]: api.url,
    [configEnv.sqsEndpoint]: events.sqsEndpoint,
    [configEnv.fanoutQueueUrl]: events.queues.fanout.url,
    [configEnv.rateLimitMessages]: "0",
    [configEnv.rateLimitReads]: "0",
    [configEnv.rateLimitJunk]: "0",
    [configEnv.userRateLimitMessages]: "0",
    [configEnv.userRateLimitReads]: "0",
    [configEnv.maxConnectionsPerUser]: "0",
    [configEnv.maxConnectionsPerIp]: "0",
  };
  for (const [key, value] of Object.entries(env)) settings[configEnv[key as keyof typeof configEnv]] = value!;
  const metricLines: string[] = [];
  const deps = createDeps(settings, {
    log: createLogger({ service: "roomcast" }, (line) => logLines.push(line)),
    metrics: createMetrics({
      namespace: "roomcast",
      service: "roomcast",
      write: (line) => metricLines.push(line),
    }),
  });
  await events.start(() => ({ deps, stream: streamWorker, fanout: fanoutWorker }));
  /** Waits until every change went through the table's stream and the fan-out queue (generous: a loaded CI). */
  const settle = () => events.idle(120_000);

  /** What Lambda does with an event: the route of its routeKey, through `invoke`. */
  const run = (event: WebSocketEvent, using: Deps = deps): Promise<RouteResult> =>
    invoke(routeFor(event.requestContext.routeKey), event, using);

  /**
   * Every item of the table but the bookkeeping above, sorted by key (a Scan: fine in tests, never in runtime code).
   */
  async function items(): Promise<Record<string, unknown>[]> {
    const all: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await table.doc.send(
        new ScanCommand({ TableName: table.tableName, ConsistentRead: true, ExclusiveStartKey }),
      );
      all.push(...(page.Items ?? []).filter((item) => !bookkeeping.has(item.e as string)));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const key = (item: Record<string, unknown>) => `${item.pk}\u0000${item.sk}`;
    return all.sort((a, b) => key(a).localeCompare(key(b)));
  }

  /** Sends a frame and returns the reply, once what it set off (fan-out, presence) has gone through. */
  async function send(client: WsClient, frame: string | object, using: Deps = deps): Promise<Frame> {
    const result = await run(client.messageEvent(frame), using);
    expect(result.statusCode).toBe(200);
    await settle();
    return JSON.parse(result.body!) as Frame;
  }

  return {
    table,
    api,
    deps,
    run,
    items,
    send,
    events,
    metricLines,
    /** Waits until every change went through the table's stream and the fan-out queue. */
    settle,

    /** Makes a membership expired a minute ago, as a lost `$disconnect` leaves it before TTL deletes it. */
    expireMembership: (room: string, connectionId: string) =>
      table.doc.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk: room, sk: connectionId },
          UpdateExpression: "SET #ttl = :past",
          ExpressionAttributeNames: { "#ttl": "ttl" },
          ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 60 },
        }),
      ),

    /** Opens a connection through `$connect`; throws unless the handshake succeeds. */
    async connect(query: Record<string, string> = {}, options: ClientOptions = {}): Promise<WsClient> {
      const client = wsClient(options);
      const result = await run(client.connectEvent(query));
      if (result.statusCode !== 200)
        throw new Error(`$connect answered ${result.statusCode}: ${result.body}`);
      await settle();
      return client;
    },

    /** `$disconnect`, then what it set off (counts, presence). */
    async disconnect(client: WsClient, using: Deps = deps) {
      const result = await run(client.disconnectEvent(), using);
      await settle();
      return result;
    },

    /**
     * Sends a frame the protocol must reject with `code`, and checks the promise
     * of docs/design.md (Guarantees): nothing was written to the table and nobody else got a frame.
     */
    async expectRejected(client: WsClient, frame: string | object, code: string): Promise<Frame> {
      await settle();
      const before = await items();
      const posted = api.posts.length;
      const reply = await send(client, frame);
      expect(reply).toMatchObject({ type: "error", code });
      await settle();
      expect(await items()).toEqual(before);
      expect(api.posts.slice(posted)).toEqual([]);
      return reply;
    },

    /** Log lines, parsed: the handlers log one JSON object a line. */
    logs: () => logLines.map((line) => JSON.parse(line) as LogLine),

    async close() {
      await events.stop();
      await api.close();
      await table.drop();
    },
  };
}

export type Chat = Awaited<ReturnType<typeof startChat>>;
