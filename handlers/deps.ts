import { SQSClient } from "@aws-sdk/client-sqs";
import { clientConfig, createDocumentClient, createDynamoClient, localAws } from "../model/client";
import { createChatService } from "../model/service";
import { createSessionStore, type SessionStore } from "../model/sessions";
import { createChatStore, type ChatStore } from "../model/store";
import { readConfig, type ChatConfig } from "./config";
import { createConnectionCloser, type CloseConnection } from "./close-connection";
import { createCursors, randomCursorSecret, type Cursors } from "./cursors";
import { createDelivery, type Delivery } from "./delivery/delivery";
import { createLogger, type Logger } from "./log";
import { createMetrics, type Metrics } from "./metrics";
import { createProtocol, type Protocol } from "./protocol";
import { createRateLimiter, type RateLimiter } from "./rate-limits";
import { createThrottleWatch, type ThrottleWatch } from "./delivery/throttle-watch";
import { createTransport } from "./delivery/transport";

/** Everything a handler needs; handlers depend on these interfaces only. */
export type Deps = {
  config: ChatConfig;
  store: ChatStore;
  sessions: SessionStore;
  delivery: Delivery;
  /** The FIFO queue of delivery jobs (slices, recipient retries, checks); where FANOUT_QUEUE_URL is set. */
  fanoutQueue?: { client: SQSClient; url: string };
  protocol: Protocol;
  /** Rate limits on every route; its in-container buckets live as long as these deps (a container). */
  limiter: RateLimiter;
  /** Seals and opens the `members` and `listrooms` cursors. */
  cursors: Cursors;
  /** Closes a client's connection (Management API DELETE). */
  closeConnection: CloseConnection;
  /** This container's recent posts: whether 429s are the account's or one client's. */
  throttles: ThrottleWatch;
  log: Logger;
  metrics: Metrics;
};

/**
 * Builds a handler's dependencies once per cold start (Lambda) or once per
 * process (local stack): clients, the ElectroDB service and the schemas.
 */
export function createDeps(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Deps> = {}): Deps {
  const config = readConfig(env);
  const log = overrides.log ?? createLogger({ service: "roomcast" });
  // Built before the transport, which counts throttled posts into it.
  const metrics = overrides.metrics ?? createMetrics({ namespace: "roomcast", service: "roomcast" });
  // A local endpoint means DynamoDB Local and the local gateway: use the fixed local keys.
  const local = config.dynamodbEndpoint ? localAws : undefined;
  const doc = createDocumentClient(createDynamoClient(config.dynamodbEndpoint));
  const service = createChatService(doc, config.tableName);
  const store = createChatStore(service, {
    connectionTtlSeconds: config.connectionTtlSeconds,
    messageTtlSeconds: config.messageTtlSeconds,
    maxRoomsPerConnection: config.maxRoomsPerConnection,
    onConflict: () => metrics.count("TransactionConflicts"),
  });
  const management = {
    endpoint: config.managementEndpoint,
    region: local?.region ?? env.AWS_REGION ?? "us-east-1",
    credentials: local?.credentials,
  };
  const transport = createTransport({
    ...management,
    maxAttempts: config.postMaxAttempts,
    timeoutMs: config.postTimeoutMs,
    // The fast path posts to all of a small room's recipients at once, each on its own socket.
    maxSockets: Math.max(config.fanoutConcurrency, config.inlineFanoutMax),
    onFailure: (recipient, error) => log.warn("post failed", { recipient, error }),
    onThrottled: () => metrics.count("ThrottledPosts"),
    onUnanswered: () => metrics.count("Repeats"),
  });
  return {
    config,
    log,
    store,
    sessions: createSessionStore(service, { sessionTtlSeconds: config.sessionTtlSeconds }),
    protocol: createProtocol(config),
    limiter: createRateLimiter(config),
    cursors: createCursors(config.cursorSecret ?? randomCursorSecret()),
    closeConnection: createConnectionCloser(management),
    throttles: createThrottleWatch(),
    delivery: createDelivery({
      transport,
      concurrency: config.fanoutConcurrency,
      // Each worker posts its share of the stack's rate: the queue runs at most fanoutMaxConcurrency of them.
      postsPerSecond: config.maxPostsPerSecond / Math.max(1, config.fanoutMaxConcurrency),
      // A small room's fast path posts together; the rate still bounds a container that keeps posting.
      burst: config.inlineFanoutMax,
    }),
    fanoutQueue: config.fanoutQueueUrl
      ? {
          client: new SQSClient(clientConfig(config.sqsEndpoint)),
          url: config.fanoutQueueUrl,
        }
      : undefined,
    metrics,
    ...overrides,
  };
}
