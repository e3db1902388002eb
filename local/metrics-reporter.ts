import type { CountMetric, LatencyMetric } from "../handlers/metrics";

/** The summary line's words for each count; the first four always show, the others when not 0. */
const countLabels: [CountMetric, string][] = [
  ["MessagesStored", "stored"],
  ["Deliveries", "delivered"],
  ["GoneConnections", "gone"],
  ["FailedPosts", "failed"],
  ["ThrottledPosts", "throttled"],
  ["FanoutJobs", "jobs"],
  ["DeadLetters", "dead letters"],
  ["PresenceSuppressed", "presence suppressed"],
  ["RateLimitCloses", "closed for flooding"],
  ["ConnectionCapRefusals", "refused over connection caps"],
];
const alwaysShown = 4;
const latencyLabels: [LatencyMetric, string][] = [
  ["AckLatency", "ack"],
  ["TimeToLastDelivery", "last delivery"],
];

type EmfLine = {
  _aws: { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] };
  [metric: string]: unknown;
};

export type LocalMetricsReporter = {
  /** The `write` to give createMetrics: reads each EMF line as CloudWatch would. */
  emf(line: string): void;
  /** Prints the line for what arrived since the last one (nothing if no count moved). */
  report(): void;
  stop(): void;
};

/**
 * What `npm start` shows instead of CloudWatch: the EMF lines the handlers publish,
 * summed and summarised every `intervalMs` in which a count moved, e.g.
 * `metrics 5s: stored 12 · delivered 340 · gone 2 · failed 0 · ack p50 8 ms · last delivery p50 140 ms`.
 *
 * @example
 * const reporter = createLocalMetricsReporter((line) => console.log(line), 5000);
 * const metrics = createMetrics({ namespace: "roomcast", service: "roomcast", stack: "local", write: reporter.emf });
 */
export function createLocalMetricsReporter(
  write: (line: string) => void,
  intervalMs = 5000,
): LocalMetricsReporter {
  let counts = new Map<string, number>();
  let latencies = new Map<string, number[]>();
  const timer = setInterval(() => report(), intervalMs);
  timer.unref();

  function emf(line: string) {
    const record = JSON.parse(line) as EmfLine;
    for (const { Metrics: definitions } of record._aws.CloudWatchMetrics) {
      for (const { Name, Unit } of definitions) {
        const values = [record[Name]].flat() as number[];
        if (Unit === "Milliseconds") latencies.set(Name, [...(latencies.get(Name) ?? []), ...values]);
        else counts.set(Name, (counts.get(Name) ?? 0) + values.reduce((sum, value) => sum + value, 0));
      }
    }
  }

  function report() {
    // Workers publish zero counts too (a batch of joins delivers nothing): those are not traffic.
    const moved = [...counts.values()].some((count) => count !== 0);
    if (!moved) {
      latencies = new Map();
      counts = new Map();
      return;
    }
    const parts = countLabels
      .filter(([name], i) => i < alwaysShown || (counts.get(name) ?? 0) > 0)
      .map(([name, label]) => `${label} ${counts.get(name) ?? 0}`);
    for (const [name, label] of latencyLabels) {
      const values = latencies.get(name);
      if (values) parts.push(`${label} p50 ${median(values)} ms`);
    }
    write(`metrics ${intervalMs / 1000}s: ${parts.join(" · ")}`);
    counts = new Map();
    latencies = new Map();
  }

  return { emf, report, stop: () => clearInterval(timer) };
}

/** The nearest-rank median, in whole milliseconds. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.ceil(sorted.length / 2) - 1]);
}
