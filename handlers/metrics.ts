import { Metrics as PowertoolsMetrics, MetricUnit } from "@aws-lambda-powertools/metrics";

/** Counted events, summed per flush. */
export type CountMetric =
  | "MessagesStored"
  | "Deliveries"
  | "GoneConnections"
  | "FailedPosts"
  /** A post answered 429 (throttled or a full client buffer) and retried. */
  | "ThrottledPosts"
  /** Deliveries made by the safety net (the stream side) for what the fast path did not confirm. */
  | "SafetyNetDeliveries"
  /**
   * Posts that may repeat a delivery: attempts that ended with no answer (a timeout, the fast
   * path's cap, a cut-off straggler), whose frame may have arrived before a retry, a retry job or
   * the safety net posted it again. An upper bound; the safety net's own doubles (a fast path
   * that posted, then failed before its mark) are within SafetyNetDeliveries.
   */
  | "Repeats"
  /** Retries of a post to one recipient, apart from the rest of its room. */
  | "RecipientRetries"
  /** Recipients disconnected (Management API DELETE) after failing every post for the configured time. */
  | "RecipientDisconnects"
  /** Writes tried again because a concurrent one took their item or their room's next seq (concurrent sends to one room). */
  | "TransactionConflicts"
  | "FanoutJobs"
  /** Stream records sent to the stream dead-letter queue. */
  | "DeadLetters"
  | "PresenceSuppressed"
  /** Connections closed (Management API DELETE) for exceeding their rate limits again and again. */
  | "RateLimitCloses"
  /** `$connect`s refused (429) because the user or the source IP had every connection slot taken. */
  | "ConnectionCapRefusals";

/** Durations in milliseconds; every value is kept, so CloudWatch can give percentiles. */
export type LatencyMetric = "AckLatency" | "TimeToLastDelivery";

export const countMetrics: readonly CountMetric[] = [
  "MessagesStored",
  "Deliveries",
  "GoneConnections",
  "FailedPosts",
  "ThrottledPosts",
  "SafetyNetDeliveries",
  "Repeats",
  "RecipientRetries",
  "RecipientDisconnects",
  "TransactionConflicts",
  "FanoutJobs",
  "DeadLetters",
  "PresenceSuppressed",
  "RateLimitCloses",
  "ConnectionCapRefusals",
];
export const latencyMetrics: readonly LatencyMetric[] = ["AckLatency", "TimeToLastDelivery"];

/** What handlers record; `flush` publishes it (the Lambda entry calls it after each event). */
export type Metrics = {
  count(name: CountMetric, n?: number): void;
  milliseconds(name: LatencyMetric, ms: number): void;
  /** Writes what was recorded since the last flush as CloudWatch embedded metric format; nothing if nothing was. */
  flush(): void;
};

/** The Lambda variable naming the stack, the `stack` dimension of every metric (set by the Pulumi program). */
export const metricsStackEnv = "ROOMCAST_STACK";

export type MetricsOptions = {
  /** CloudWatch namespace, `roomcast`. */
  namespace: string;
  /** The `service` dimension, `roomcast`. */
  service: string;
  /** The `stack` dimension; default: `ROOMCAST_STACK`, else `local`. */
  stack?: string;
  /** Receives each EMF line; default: stdout, where Lambda hands it to CloudWatch. */
  write?: (line: string) => void;
};

/** Powertools publishes by itself when a metric reaches 100 values: a line carries at most 99 of each. */
const valuesPerLine = 99;

/**
 * roomcast's metrics through Powertools for AWS Lambda's Metrics, as EMF lines
 * (CloudWatch turns each into metric data points, no API call from the function):
 * namespace `roomcast`, dimensions `service` and `stack`. Counts are summed until
 * `flush`; latencies keep every value (99 per line, more lines if needed).
 *
 * @example
 * const metrics = createMetrics({ namespace: "roomcast", service: "roomcast" });
 * metrics.count("Deliveries", 340);
 * metrics.milliseconds("AckLatency", 8);
 * metrics.flush(); // {"_aws":{...},"service":"roomcast","stack":"dev","Deliveries":340,"AckLatency":8}
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const emf = new PowertoolsMetrics({
    namespace: options.namespace,
    serviceName: options.service,
    defaultDimensions: { stack: options.stack ?? process.env[metricsStackEnv] ?? "local" },
  });
  const counts = new Map<CountMetric, number>();
  const latencies = new Map<LatencyMetric, number[]>();

  return {
    count(name, n = 1) {
      counts.set(name, (counts.get(name) ?? 0) + n);
    },
    milliseconds(name, ms) {
      latencies.set(name, [...(latencies.get(name) ?? []), ms]);
    },
    flush() {
      for (const [name, total] of counts) emf.addMetric(name, MetricUnit.Count, total);
      counts.clear();
      while (emf.hasStoredMetrics() || latencies.size > 0) {
        for (const [name, values] of latencies) {
          for (const value of values.splice(0, valuesPerLine))
            emf.addMetric(name, MetricUnit.Milliseconds, value);
          if (values.length === 0) latencies.delete(name);
        }
        write(JSON.stringify(emf.serializeMetrics()));
        emf.clearMetrics();
      }
    },
  };
}
