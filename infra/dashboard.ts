import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { countMetrics, latencyMetrics, type CountMetric } from "../handlers/metrics";

export type ChatDashboardArgs = {
  /** The dashboard's name: `roomcast-dev`. */
  namePrefix: string;
  stack: string;
  functionNames: pulumi.Input<string>[];
  apiId: pulumi.Input<string>;
  stage: string;
  tableName: pulumi.Input<string>;
  /** The stream worker: its IteratorAge is how far delivery trails the writes. */
  streamFunctionName: pulumi.Input<string>;
  workQueueNames: pulumi.Input<string>[];
  deadLetterQueueNames: pulumi.Input<string>[];
  alarmArns: pulumi.Input<string>[];
};

/** What says whether delivery is healthy, graphed together (each is also in the counts graph). */
export const deliveryHealthMetrics: CountMetric[] = [
  "SafetyNetDeliveries",
  "Repeats",
  "ThrottledPosts",
  "RecipientRetries",
  "RecipientDisconnects",
  "TransactionConflicts",
];

/** The metrics handlers/metrics.ts publishes: the dashboard shows each of them. */
const roomcastCounts = countMetrics;
const roomcastLatencies = latencyMetrics;

type Metric = pulumi.Input<string | { stat: string; label?: string }>[];

/**
 * One CloudWatch dashboard with what the alarms watch and what explains them:
 * 1. the alarms' states;
 * 2. roomcast's own metrics (messages stored, deliveries, gone, failed and
 *    throttled posts, fan-out jobs, dead letters, presence suppressed; ack latency
 *    and time to last delivery at p50 and p99);
 * 3. per function: invocations, errors, throttles, duration p99;
 * 4. the stage: connections, messages, errors, integration latency;
 * 5. the table's throttles and the queues' depth and age;
 * 6. delivery health: the stream's IteratorAge, safety-net deliveries, repeats,
 *    throttled posts, per-recipient retries and disconnects, transaction conflicts.
 *
 * @example
 * const { dashboard, url } = createDashboard("roomcast", { namePrefix: "roomcast-dev", ... }, { parent: this });
 */
export function createDashboard(name: string, args: ChatDashboardArgs, opts: { parent: pulumi.Resource }) {
  const { region } = aws.getRegionOutput({}, opts);
  /** A line graph, 12 of 24 columns wide. */
  const graph = (title: string, metrics: Metric[], stat = "Sum") => ({
    type: "metric",
    width: 12,
    height: 6,
    properties: { title, view: "timeSeries", stat, period: 60, region, metrics },
  });
  const roomcast = (metricName: string, stat: string) => [
    "roomcast",
    metricName,
    "service",
    "roomcast",
    "stack",
    args.stack,
    { stat, label: `${metricName} ${stat}` },
  ];
  const perFunction = (metricName: string, stat: string) =>
    args.functionNames.map((fn) => ["AWS/Lambda", metricName, "FunctionName", fn, { stat }]);
  const stage = (metricName: string, stat = "Sum") => [
    "AWS/ApiGateway",
    metricName,
    "ApiId",
    args.apiId,
    "Stage",
    args.stage,
    { stat },
  ];
  const table = (metricName: string) => [
    "AWS/DynamoDB",
    metricName,
    "TableName",
    args.tableName,
    { stat: "Sum" },
  ];
  const queue = (metricName: string, queueName: pulumi.Input<string>, stat: string) => [
    "AWS/SQS",
    metricName,
    "QueueName",
    queueName,
    { stat },
  ];
  const widgets = [
    { type: "alarm", width: 24, height: 4, properties: { title: "Alarms", alarms: args.alarmArns } },
    graph(
      "roomcast: messages and posts",
      roomcastCounts.map((metric) => roomcast(metric, "Sum")),
    ),
    graph(
      "roomcast: latency (ms)",
      roomcastLatencies.flatMap((metric) => [roomcast(metric, "p50"), roomcast(metric, "p99")]),
      "p50",
    ),
    graph("Lambda: invocations", perFunction("Invocations", "Sum")),
    graph("Lambda: errors and throttles", [
      ...perFunction("Errors", "Sum"),
      ...perFunction("Throttles", "Sum"),
    ]),
    graph("Lambda: duration p99 (ms)", perFunction("Duration", "p99"), "p99"),
    graph("Lambda: concurrent executions", perFunction("ConcurrentExecutions", "Maximum"), "Maximum"),
    graph(
      "API Gateway: connections and messages",
      ["ConnectCount", "MessageCount"].map((metric) => stage(metric)),
    ),
    graph("API Gateway: errors and integration latency", [
      ...["IntegrationError", "ClientError", "ExecutionError"].map((metric) => stage(metric)),
      stage("IntegrationLatency", "p99"),
    ]),
    graph("DynamoDB: throttles", ["ReadThrottleEvents", "WriteThrottleEvents"].map(table)),
    graph(
      "Delivery health",
      deliveryHealthMetrics.map((metric) => roomcast(metric, "Sum")),
    ),
    graph(
      "Stream: iterator age (ms)",
      [["AWS/Lambda", "IteratorAge", "FunctionName", args.streamFunctionName, { stat: "Maximum" }]],
      "Maximum",
    ),
    graph(
      "SQS: jobs waiting, age (s) and dead letters",
      [
        ...args.workQueueNames.flatMap((name) => [
          queue("ApproximateNumberOfMessagesVisible", name, "Maximum"),
          queue("ApproximateAgeOfOldestMessage", name, "Maximum"),
        ]),
        ...args.deadLetterQueueNames.map((dlq) =>
          queue("ApproximateNumberOfMessagesVisible", dlq, "Maximum"),
        ),
      ],
      "Maximum",
    ),
  ];
  const dashboard = new aws.cloudwatch.Dashboard(
    name,
    { dashboardName: args.namePrefix, dashboardBody: pulumi.jsonStringify({ widgets }) },
    opts,
  );
  const url = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${dashboard.dashboardName}`;
  return { dashboard, url };
}
