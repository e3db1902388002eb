import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

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
  deadLetterQueues: { name: string; queueName: pulumi.Input<string> }[];
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
 * 4. each dead-letter queue: not empty;
 * 5. roomcast's own FailedPosts above a rate.
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
      failedPostsAlarm(),
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

    function deadLetterAlarm(queue: { name: string; queueName: pulumi.Input<string> }) {
      return alarm(`${queue.name}-not-empty`, `${queue.name}: messages waiting in a dead-letter queue`, {
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        period: periodSeconds,
        statistic: "Maximum",
        dimensions: { QueueName: queue.queueName },
      });
    }

    function failedPostsAlarm() {
      return alarm("failed-posts", "roomcast: posts to connections failing (neither delivered nor gone)", {
        namespace: "roomcast",
        metricName: "FailedPosts",
        period: periodSeconds,
        statistic: "Sum",
        dimensions: { service: "roomcast", stack: args.stack },
        threshold: failedPostsThreshold,
      });
    }
  }
}
