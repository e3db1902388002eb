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
  fanoutTimeoutSeconds: 60,
  fanoutMaxReceiveCount: queueDefinitions.fanout.maxReceiveCount,
  streamMaximumRetryAttempts: 10,
  streamParallelizationFactor: 1,
  logRetentionDays: 14,
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  apiGatewayLogsRole: true,
  tracing: false,
};
