import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CountMetric } from "../handlers/metrics";

export type WatchedQueue = { name: string; queueName: pulumi.Input<string> };

/** A Lambda the alarms watch: its short name (`sendmessage`, `fanout`) and physical name. */
export type WatchedFunction = { name: string; functionName: pulumi.Input<string>; timeoutSeconds: number };

export type ChatAlarmsArgs = {
  /** Alarm names start with it: `roomcast-dev-sendmessage-errors`. */
  namePrefix: string;
  /** The `stack` dimension of the roomcast metrics. */
  stack: string;
  functions: WatchedFunction[];
  apiId: pulumi.Input<string>;
  stage: string;
  tableName: pulumi.Input<string>;
  /** Queues that should stay empty. */
  deadLetterQueues: WatchedQueue[];
  /** Queues of work in flight (fan-out jobs, ...): their depth alarms above {@link queueDepthThreshold}. */
  workQueues: WatchedQueue[];
  /** The function reading the table's stream: its IteratorAge says how far delivery trails the writes. */
  streamFunctionName: pulumi.Input<string>;
  /** Subscribed to the topic by email (SNS sends a confirmation first). */
  alarmEmail?: string;
};

/** Every alarm looks at 5-minute periods and treats no data as fine: an idle stack is healthy. */
const periodSeconds = 300;
/** Duration alarm: p99 above this share of the timeout means the next spike times out. */
export const durationShareOfTimeout = 0.8;
/** API Gateway 4xx (throttled messages included) per 5 minutes before it alarms. */
export const clientErrorThreshold = 100;
/** FailedPosts per 5 minutes before it alarms: a few are normal (clients vanish mid-post). */
export const failedPostsThreshold = 50;
/** Stream IteratorAge (ms, maximum) before it alarms: the newest delivered write is a minute old. */
export const iteratorAgeThresholdMs = 60_000;
/** Messages visible in a work queue before it alarms: jobs pile up faster than workers take them. */
export const queueDepthThreshold = 1000;
/**
 * roomcast's delivery-health counts per 5 minutes before they alarm: each is normal in
 * small numbers (a crashed fast path, a retried batch, a full client buffer, two sends
 * to one room at once) and a fault when sustained.
 */
export const deliveryHealthThresholds = {
  SafetyNetDeliveries: 100,
  Repeats: 100,
  ThrottledPosts: 100,
  TransactionConflicts: 100,
} satisfies Partial<Record<CountMetric, number>>;
/** The DynamoDB operations roomcast performs, for the table's per-operation SystemErrors. */
const tableOperations = [
  "GetItem",
  "Query",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
  "TransactWriteItems",
];

/**
 * The alarms an operator of roomcast wants, all notifying one SNS topic (and an
 * optional email address); docs/operations.md says what each means and what to do:
 * 1. per function: errors, throttles, duration p99 near the timeout;
 * 2. the stage: integration errors, execution errors, client errors (throttled messages);
 * 3. the table: throttled requests and system errors;
 * 4. each dead-letter queue: not empty; each work queue: deeper than {@link queueDepthThreshold};
 * 5. the stream's IteratorAge: delivery trailing the writes by a minute;
 * 6. roomcast's own counts above a rate: FailedPosts, and the delivery tier's health —
 *    safety-net deliveries, repeats, throttled posts, transaction conflicts.
 *
 * @example
 * const alarms = new ChatAlarms("roomcast", { namePrefix: "roomcast-dev", stack: "dev", functions, ... });
 * alarms.topic.arn; // subscribe a pager to it
 */
export class ChatAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly subscription?: aws.sns.TopicSubscription;
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: ChatAlarmsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:ChatAlarms", name, {}, opts);
    const asChild = { parent: this };
    const prefix = args.namePrefix;

    const topic = new aws.sns.Topic(`${name}-alarms`, { name: `${prefix}-alarms` }, asChild);
    const subscription = args.alarmEmail ? subscribe(args.alarmEmail) : undefined;
    const alarms = [
      ...args.functions.flatMap(functionAlarms),
      ...stageAlarms(),
      ...tableAlarms(),
      ...args.deadLetterQueues.map(deadLetterAlarm),
      ...args.workQueues.map(queueDepthAlarm),
      iteratorAgeAlarm(),
      roomcastAlarm(
        "FailedPosts",
        "failed-posts",
        "posts to connections failing (neither delivered nor gone)",
        failedPostsThreshold,
      ),
      roomcastAlarm(
        "SafetyNetDeliveries",
        "safety-net-deliveries",
        "the safety net delivering what the fast path did not (fast path crashing or timing out)",
        deliveryHealthThresholds.SafetyNetDeliveries,
      ),
      roomcastAlarm(
        "Repeats",
        "repeats",
        "posts that may have repeated a delivery (attempts with no answer, posted again)",
        deliveryHealthThresholds.Repeats,
      ),
      roomcastAlarm(
        "ThrottledPosts",
        "throttled-posts",
        "posts answered 429: full client buffers, or the account's Management API rate",
        deliveryHealthThresholds.ThrottledPosts,
      ),
      roomcastAlarm(
        "TransactionConflicts",
        "transaction-conflicts",
        "writes retried after a concurrent one took their item or room seq (BUSY when sends run out)",
        deliveryHealthThresholds.TransactionConflicts,
      ),
    ];

    this.topic = topic;
    this.subscription = subscription;
    this.alarms = alarms;
    this.registerOutputs({ topicArn: topic.arn });

    function subscribe(email: string) {
      return new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        { topic: topic.arn, protocol: "email", endpoint: email },
        asChild,
      );
    }

    /** An alarm on `threshold` being exceeded in one 5-minute period, notifying the topic both ways. */
    function alarm(suffix: string, description: string, spec: Partial<aws.cloudwatch.MetricAlarmArgs>) {
      return new aws.cloudwatch.MetricAlarm(
        `${name}-${suffix}`,
        {
          name: `${prefix}-${suffix}`,
          alarmDescription: description,
          comparisonOperator: "GreaterThanThreshold",
          evaluationPeriods: 1,
          threshold: 0,
          treatMissingData: "notBreaching",
          alarmActions: [topic.arn],
          okActions: [topic.arn],
          ...spec,
        },
        asChild,
      );
    }

    function functionAlarms(fn: WatchedFunction) {
      const lambda = {
        namespace: "AWS/Lambda",
        period: periodSeconds,
        dimensions: { FunctionName: fn.functionName },
      };
      return [
        alarm(`${fn.name}-errors`, `${fn.name}: invocations failed`, {
          ...lambda,
          metricName: "Errors",
          statistic: "Sum",
        }),
        alarm(`${fn.name}-throttles`, `${fn.name}: invocations throttled`, {
          ...lambda,
          metricName: "Throttles",
          statistic: "Sum",
        }),
        alarm(`${fn.name}-duration`, `${fn.name}: p99 duration above 80% of its timeout`, {
          ...lambda,
          metricName: "Duration",
          extendedStatistic: "p99",
          threshold: durationShareOfTimeout * fn.timeoutSeconds * 1000,
        }),
      ];
    }

    function stageAlarms() {
      const apiGateway = {
        namespace: "AWS/ApiGateway",
        period: periodSeconds,
        statistic: "Sum",
        dimensions: { ApiId: args.apiId, Stage: args.stage },
      };
      return [
        alarm("api-integration-errors", "API Gateway: a route's Lambda failed or answered badly", {
          ...apiGateway,
          metricName: "IntegrationError",
        }),
        alarm("api-execution-errors", "API Gateway: errors inside API Gateway", {
          ...apiGateway,
          metricName: "ExecutionError",
        }),
        alarm("api-client-errors", "API Gateway: many 4xx, throttled messages among them", {
          ...apiGateway,
          metricName: "ClientError",
          threshold: clientErrorThreshold,
        }),
      ];
    }

    function tableAlarms() {
      const tableMetric = (id: string, metricName: string, operation?: string) => ({
        id,
        metric: {
          namespace: "AWS/DynamoDB",
          metricName,
          period: periodSeconds,
          stat: "Sum",
          dimensions: { TableName: args.tableName, ...(operation ? { Operation: operation } : {}) },
        },
      });
      return [
        alarm("table-throttles", "DynamoDB: reads or writes throttled", {
          metricQueries: [
            tableMetric("reads", "ReadThrottleEvents"),
            tableMetric("writes", "WriteThrottleEvents"),
            {
              id: "throttled",
              expression: "FILL(reads, 0) + FILL(writes, 0)",
              label: "Throttled",
              returnData: true,
            },
          ],
        }),
        alarm("table-system-errors", "DynamoDB: requests failed with a 500", {
          metricQueries: [
            ...tableOperations.map((operation, i) => tableMetric(`op${i}`, "SystemErrors", operation)),
            { id: "errors", expression: "SUM(FILL(METRICS(), 0))", label: "SystemErrors", returnData: true },
          ],
        }),
      ];
    }

    function deadLetterAlarm(queue: WatchedQueue) {
      return alarm(`${queue.name}-not-empty`, `${queue.name}: messages waiting in a dead-letter queue`, {
        ...queueDepth(queue),
      });
    }

    function queueDepthAlarm(queue: WatchedQueue) {
      return alarm(`${queue.name}-depth`, `${queue.name}: more than ${queueDepthThreshold} jobs waiting`, {
        ...queueDepth(queue),
        threshold: queueDepthThreshold,
      });
    }

    function queueDepth(queue: WatchedQueue) {
      return {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        period: periodSeconds,
        statistic: "Maximum",
        dimensions: { QueueName: queue.queueName },
      };
    }

    function iteratorAgeAlarm() {
      return alarm("stream-iterator-age", "stream: delivery trails the table's writes by a minute", {
        namespace: "AWS/Lambda",
        metricName: "IteratorAge",
        period: periodSeconds,
        statistic: "Maximum",
        dimensions: { FunctionName: args.streamFunctionName },
        threshold: iteratorAgeThresholdMs,
      });
    }

    function roomcastAlarm(metricName: CountMetric, suffix: string, description: string, threshold: number) {
      return alarm(suffix, `roomcast: ${description}`, {
        namespace: "roomcast",
        metricName,
        period: periodSeconds,
        statistic: "Sum",
        dimensions: { service: "roomcast", stack: args.stack },
        threshold,
      });
    }
  }
}
