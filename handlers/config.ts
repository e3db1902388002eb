import { defaultStoreOptions } from "../model/store/context";
import { parseOrigins } from "./origins";

/**
 * Runtime settings of the handlers, read from environment variables once per cold
 * start. index.ts sets them from the stack config; the local stack from its flags.
 */
export type ChatConfig = {
  tableName: string;
  /** DynamoDB Local endpoint; unset in AWS. */
  dynamodbEndpoint?: string;
  /**
   * Where posts go: the stage's own execute-api endpoint (set by Pulumi), or the local
   * gateway's origin. Never derived from the request, which may come through a custom domain.
   */
  managementEndpoint: string;
  /** The FIFO queue of fan-out jobs for rooms above `inlineFanoutMax` (stream worker). */
  fanoutQueueUrl?: string;
  /** A local SQS-compatible server; unset in AWS. */
  sqsEndpoint?: string;
  /** Page origins a browser may connect from (`$connect`, handlers/origins.ts); unset: any. */
  allowedOrigins?: string[];
  /**
   * Keys the `members` and `listrooms` cursors (handlers/cursors.ts). The stack generates
   * one; unset (local stack, tests), the deps make their own, so cursors last a run.
   */
  cursorSecret?: string;
  maxMessageLength: number;
  maxNameLength: number;
  maxRoomsPerConnection: number;
  historyPageDefault: number;
  historyPageOnJoin: number;
  historyPageMax: number;
  /** Concurrent PostToConnection calls per broadcast. */
  fanoutConcurrency: number;
  /** Attempts per PostToConnection (429, 5xx and a full client buffer are retried with backoff). */
  postMaxAttempts: number;
  /** A PostToConnection that has not answered by then is abandoned and retried. */
  postTimeoutMs: number;
  /**
   * Messages with up to this many recipients (the room's members but the sender) are posted to by the
   * sender's own request, all at once (the fast path); larger rooms go to the queue.
   */
  inlineFanoutMax: number;
  /**
   * The fast path's hard cap: one attempt per recipient, all ended by then; a post it did not
   * confirm becomes a retry job, and a message it did not settle at all is delivered by the
   * stream's safety net once this much (and a margin) has passed. Bounds the sender's ack.
   */
  fastPathTimeoutMs: number;
  /** A recipient whose posts keep failing this long is disconnected (Management API DELETE), so it reconnects and resumes. */
  recipientGiveUpSeconds: number;
  /** Slices of a queued room: one job, one message group and one worker each. */
  fanoutSlices: number;
  /** Posts per second of the whole stack's fan-out workers together (API Gateway's budget is per account). */
  maxPostsPerSecond: number;
  /** Fan-out workers at once (the queue mapping's maximum concurrency): each posts its share of the rate. */
  fanoutMaxConcurrency: number;
  /**
   * The fan-out function's timeout. A slice job posts for about half of it at most, then hands
   * the rest of its slice to a job of its own, so no room is too large for one invocation.
   */
  fanoutTimeoutSeconds: number;
  /** Join and leave are announced in rooms up to this size; above it only the counts change. */
  presenceMaxMembers: number;
  /**
   * A 410 for a connection younger than this does not remove it: API Gateway answers
   * 410 until `$connect` has returned (29 s at most), and the records exist before that.
   */
  connectGraceSeconds: number;
  /**
   * Frames that write (sendmessage, joinroom, leaveroom) per connection per rate window,
   * in a burst of up to as many; 0 turns the limit off.
   */
  rateLimitMessages: number;
  rateLimitWindowSeconds: number;
  /** Frames that only read (history, members, listrooms) per connection per window: their own bucket; 0: off. */
  rateLimitReads: number;
  /** Frames that match no action (`$default`: junk) per connection per window; nothing is written for them. */
  rateLimitJunk: number;
  /** The same two limits per user (token subject) or, without auth, per client session, across its connections. */
  userRateLimitMessages: number;
  userRateLimitReads: number;
  /** Refusals in a row, or within one rate-limit window, after which a connection is closed (Management API DELETE); 0: never. */
  rateLimitCloseAfter: number;
  /**
   * Live connections one user (token subject) may hold at once; `$connect` answers 429
   * beyond it. 0 turns the cap off; connections from a loopback address are never counted.
   */
  maxConnectionsPerUser: number;
  /** Live connections from one source IP at once, users and guests together; 0: off. */
  maxConnectionsPerIp: number;
  /** The longest a `$connect` token may be valid: `exp` at most this long after now (and after `iat`). */
  tokenMaxLifetimeSeconds: number;
  /** Clocks disagree a little: a token's `iat`/`nbf` may be this far in the future, `exp` this far past. */
  tokenClockSkewSeconds: number;
  /** How long a session the server issued (the `session` action) is recognised at `$connect`. */
  sessionTtlSeconds: number;
  /** How long an invitation code (the `invite` action) lets its holder into a private room. */
  inviteTtlSeconds: number;
  connectionTtlSeconds: number;
  messageTtlSeconds: number;
};

/** Environment variable of each setting, for index.ts and the local stack. */
export const configEnv = {
  tableName: "TABLE_NAME",
  dynamodbEndpoint: "DYNAMODB_ENDPOINT",
  managementEndpoint: "MANAGEMENT_ENDPOINT",
  fanoutQueueUrl: "FANOUT_QUEUE_URL",
  sqsEndpoint: "SQS_ENDPOINT",
  allowedOrigins: "ALLOWED_ORIGINS",
  cursorSecret: "CURSOR_SECRET",
  maxMessageLength: "MAX_MESSAGE_LENGTH",
  maxNameLength: "MAX_NAME_LENGTH",
  maxRoomsPerConnection: "MAX_ROOMS_PER_CONNECTION",
  historyPageDefault: "HISTORY_PAGE_DEFAULT",
  historyPageOnJoin: "HISTORY_PAGE_ON_JOIN",
  historyPageMax: "HISTORY_PAGE_MAX",
  fanoutConcurrency: "FANOUT_CONCURRENCY",
  postMaxAttempts: "POST_MAX_ATTEMPTS",
  postTimeoutMs: "POST_TIMEOUT_MS",
  inlineFanoutMax: "INLINE_FANOUT_MAX",
  fastPathTimeoutMs: "FAST_PATH_TIMEOUT_MS",
  recipientGiveUpSeconds: "RECIPIENT_GIVE_UP_SECONDS",
  fanoutSlices: "FANOUT_SLICES",
  maxPostsPerSecond: "MAX_POSTS_PER_SECOND",
  fanoutMaxConcurrency: "FANOUT_MAX_CONCURRENCY",
  fanoutTimeoutSeconds: "FANOUT_TIMEOUT_SECONDS",
  presenceMaxMembers: "PRESENCE_MAX_MEMBERS",
  connectGraceSeconds: "CONNECT_GRACE_SECONDS",
  rateLimitMessages: "RATE_LIMIT_MESSAGES",
  rateLimitWindowSeconds: "RATE_LIMIT_WINDOW_SECONDS",
  rateLimitReads: "RATE_LIMIT_READS",
  rateLimitJunk: "RATE_LIMIT_JUNK",
  userRateLimitMessages: "USER_RATE_LIMIT_MESSAGES",
  userRateLimitReads: "USER_RATE_LIMIT_READS",
  rateLimitCloseAfter: "RATE_LIMIT_CLOSE_AFTER",
  maxConnectionsPerUser: "MAX_CONNECTIONS_PER_USER",
  maxConnectionsPerIp: "MAX_CONNECTIONS_PER_IP",
  tokenMaxLifetimeSeconds: "TOKEN_MAX_LIFETIME_SECONDS",
  tokenClockSkewSeconds: "TOKEN_CLOCK_SKEW_SECONDS",
  sessionTtlSeconds: "SESSION_TTL_SECONDS",
  inviteTtlSeconds: "INVITE_TTL_SECONDS",
  connectionTtlSeconds: "CONNECTION_TTL_SECONDS",
  messageTtlSeconds: "MESSAGE_TTL_SECONDS",
} as const satisfies Record<keyof ChatConfig, string>;

type EndpointSettings =
  | "tableName"
  | "dynamodbEndpoint"
  | "managementEndpoint"
  | "fanoutQueueUrl"
  | "sqsEndpoint"
  | "allowedOrigins"
  | "cursorSecret";

export const defaultConfig: Omit<ChatConfig, EndpointSettings> = {
  maxMessageLength: 4096,
  maxNameLength: 32,
  maxRoomsPerConnection: 20,
  historyPageDefault: 50,
  historyPageOnJoin: 20,
  historyPageMax: 100,
  fanoutConcurrency: 32,
  postMaxAttempts: 4,
  postTimeoutMs: 3000,
  inlineFanoutMax: 100,
  fastPathTimeoutMs: 1000,
  recipientGiveUpSeconds: 10,
  fanoutSlices: 16,
  maxPostsPerSecond: 5000,
  fanoutMaxConcurrency: 16,
  fanoutTimeoutSeconds: 60,
  presenceMaxMembers: 50,
  connectGraceSeconds: 30,
  rateLimitMessages: 20,
  rateLimitWindowSeconds: 10,
  rateLimitReads: 40,
  rateLimitJunk: 5,
  userRateLimitMessages: 20,
  userRateLimitReads: 40,
  rateLimitCloseAfter: 20,
  maxConnectionsPerUser: 10,
  maxConnectionsPerIp: 100,
  tokenMaxLifetimeSeconds: 24 * 60 * 60,
  tokenClockSkewSeconds: 60,
  sessionTtlSeconds: 30 * 24 * 60 * 60,
  inviteTtlSeconds: 24 * 60 * 60,
  connectionTtlSeconds: defaultStoreOptions.connectionTtlSeconds,
  messageTtlSeconds: defaultStoreOptions.messageTtlSeconds,
};

/** The numeric settings alone (the authorizer needs no endpoints); a malformed one throws. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): typeof defaultConfig {
  return Object.fromEntries(
    Object.entries(defaultConfig).map(([key, fallback]) => {
      const raw = env[configEnv[key as keyof typeof defaultConfig]];
      if (raw === undefined || raw === "") return [key, fallback];
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(
          `${configEnv[key as keyof typeof defaultConfig]}=${raw} is not a non-negative integer`,
        );
      }
      return [key, value];
    }),
  ) as typeof defaultConfig;
}

/** Reads the config; a malformed number fails the cold start loudly rather than running with a wrong limit. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ChatConfig {
  const tableName = env[configEnv.tableName];
  if (!tableName) throw new Error(`${configEnv.tableName} is not set`);
  const managementEndpoint = env[configEnv.managementEndpoint];
  if (!managementEndpoint) throw new Error(`${configEnv.managementEndpoint} is not set`);
  return {
    ...readSettings(env),
    tableName,
    dynamodbEndpoint: env[configEnv.dynamodbEndpoint] || undefined,
    managementEndpoint,
    fanoutQueueUrl: env[configEnv.fanoutQueueUrl] || undefined,
    sqsEndpoint: env[configEnv.sqsEndpoint] || undefined,
    allowedOrigins: parseOrigins(env[configEnv.allowedOrigins]),
    cursorSecret: env[configEnv.cursorSecret] || undefined,
  };
}
