import { queueDefinitions } from "../model/queues";

/**
 * Defaults of the infrastructure settings, keyed by their config key. Plain data, apart from
 * infra/config.ts, so the local stack reads the same numbers without loading Pulumi.
 */
export const infraDefaults = {
  // Chosen by measurement (bench/RESULTS.md, fanout-scale): the fan-out waits on posts more than
  // it computes, so 256 MB is the cheaper size per delivery and, one slice per invocation, fast enough.
  memorySize: 256,
  streamMemorySize: 256,
  fanoutMemorySize: 256,
  // API Gateway stops waiting for an integration after 29 s.
  timeoutSeconds: 29,
  streamTimeoutSeconds: 60,
  fanoutMaxReceiveCount: queueDefinitions.fanout.maxReceiveCount,
  streamMaximumRetryAttempts: 10,
  streamParallelizationFactor: 1,
  logRetentionDays: 14,
  // The stage's route throttling: each route gets a bucket of this size (docs/operations.md has the arithmetic).
  throttlingRateLimit: 500,
  throttlingBurstLimit: 1000,
  // `$default` (frames that match no action: junk) gets a small bucket of its own.
  unmatchedRouteRateLimit: 10,
  unmatchedRouteBurstLimit: 20,
  /**
   * Reserved concurrency per function (by route or worker name): a flood or a huge room
   * takes at most this much of the account's Lambda concurrency (1,000 by default, of
   * which AWS keeps 100 unreserved). Config `reservedConcurrency` overrides by name;
   * -1 leaves a function unreserved (accounts with a lower quota need that).
   */
  reservedConcurrency: {
    connect: 100,
    disconnect: 50,
    default: 10,
    sendmessage: 100,
    joinroom: 50,
    leaveroom: 50,
    listrooms: 30,
    history: 50,
    members: 30,
    // One `session` frame per connection that has none; one `resume` per reconnect (joins its rooms).
    session: 30,
    resume: 50,
    // Room administration: rare next to messages and joins.
    createroom: 10,
    invite: 10,
    revokeinvite: 10,
    setrole: 10,
    kick: 10,
    ban: 10,
    // Edits and deletes: rare next to messages.
    editmessage: 10,
    deletemessage: 10,
    // Direct messages: opened once a pair, then written to with sendmessage.
    dm: 10,
    authorizer: 50,
    stream: 20,
    fanout: 20,
    // One sweep at a time: a run that outlasts its schedule is not joined by the next.
    sweep: 1,
  } as Record<string, number>,
  apiGatewayLogsRole: true,
  tracing: false,
};
