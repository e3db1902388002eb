import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionSize } from "./config";
import { createLambdaFunction } from "./function";
import type { FunctionPermissions } from "../handlers/permissions";
import { functionPolicy, type FunctionResources } from "./policies";
import { fanoutJobsPerInvocation } from "../handlers/delivery/fanout-jobs";
import { streamFilterPatterns } from "../model/stream-filter";

/** Where a worker's events come from, with the mapping's settings. */
export type WorkerSource =
  | {
      kind: "stream";
      streamArn: pulumi.Input<string>;
      /** Records the worker gave up on (retries exhausted) go there. */
      onFailureQueueArn: pulumi.Input<string>;
      maximumRetryAttempts: number;
      parallelizationFactor: number;
    }
  | {
      kind: "queue";
      queueArn: pulumi.Input<string>;
      /** Concurrent invocations the mapping may run (2..1,000). */
      maximumConcurrency: number;
    }
  | {
      kind: "schedule";
      /** EventBridge's `rate(...)` or `cron(...)`. */
      scheduleExpression: string;
    };

export type ChatWorkerArgs<E, R> = {
  /** Physical names end with it: `roomcast-dev-<name>`. */
  name: string;
  callbackFactory: aws.lambda.CallbackFactory<E, R>;
  /** What the handler does; the source's own needs are added. */
  permissions: FunctionPermissions;
  source: WorkerSource;
  namePrefix: string;
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  size: FunctionSize;
  logRetentionDays: number;
  reservedConcurrency?: number;
  resources: Omit<FunctionResources, "logGroupArn">;
};

/**
 * A Lambda that consumes events rather than routes: its function, log group,
 * role and policy ({@link createLambdaFunction}) and its event source mapping:
 * - a DynamoDB stream: newest records first, batches of 100, partial batch
 *   failures, bounded retries, never bisected (a split batch would reorder a
 *   room's messages), records given up on sent to an SQS queue;
 * - an SQS queue: batches of 10 (a FIFO queue's most), partial batch failures,
 *   bounded concurrency;
 * - a schedule: an EventBridge rule that invokes it (and may invoke nothing else).
 *
 * @example
 * new ChatWorker("roomcast-fanout", {
 *   name: "fanout", callbackFactory: workerFactory(fanoutWorker), permissions: fanoutWorker.permissions,
 *   source: { kind: "queue", queueArn: queues.jobs.arn, maximumConcurrency: 10 }, ...
 * }, { parent: this });
 */
export class ChatWorker<E, R> extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly function: aws.lambda.CallbackFunction<E, R>;
  /** A stream's or a queue's. */
  readonly mapping?: aws.lambda.EventSourceMapping;
  /** A schedule's. */
  readonly schedule?: aws.cloudwatch.EventRule;

  constructor(name: string, args: ChatWorkerArgs<E, R>, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:ChatWorker", name, {}, opts);
    const asChild = { parent: this };
    const { source } = args;

    const { logGroup, role, function: fn } = createFunction();
    if (source.kind === "schedule") {
      this.schedule = createSchedule(source);
    } else {
      this.mapping = source.kind === "stream" ? createStreamMapping(source) : createQueueMapping(source);
    }

    this.logGroup = logGroup;
    this.role = role;
    this.function = fn;
    this.registerOutputs({
      functionArn: fn.arn,
      mappingId: this.mapping?.id,
      scheduleArn: this.schedule?.arn,
    });

    function createFunction() {
      return createLambdaFunction(
        name,
        {
          functionName: `${args.namePrefix}-${args.name}`,
          callbackFactory: args.callbackFactory,
          policy: (logGroupArn) =>
            functionPolicy(args.permissions, { ...args.resources, logGroupArn }, eventSourceOf(source)),
          environment: args.environment,
          memorySize: args.size.memorySize,
          timeoutSeconds: args.size.timeoutSeconds,
          logRetentionDays: args.logRetentionDays,
          reservedConcurrency: args.reservedConcurrency,
          tracing: args.resources.tracing,
        },
        asChild,
      );
    }

    function createStreamMapping(stream: Extract<WorkerSource, { kind: "stream" }>) {
      return new aws.lambda.EventSourceMapping(
        name,
        {
          eventSourceArn: stream.streamArn,
          functionName: fn.arn,
          startingPosition: "LATEST",
          batchSize: 100,
          functionResponseTypes: ["ReportBatchItemFailures"],
          maximumRetryAttempts: stream.maximumRetryAttempts,
          // Order: a bisected batch retries its second half after records that came later.
          bisectBatchOnFunctionError: false,
          parallelizationFactor: stream.parallelizationFactor,
          // Only the records the worker acts on: rate-limit buckets and the like never invoke it.
          filterCriteria: {
            filters: streamFilterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })),
          },
          destinationConfig: { onFailure: { destinationArn: stream.onFailureQueueArn } },
        },
        asChild,
      );
    }

    function createSchedule(schedule: Extract<WorkerSource, { kind: "schedule" }>) {
      const rule = new aws.cloudwatch.EventRule(
        name,
        { name: `${args.namePrefix}-${args.name}`, scheduleExpression: schedule.scheduleExpression },
        asChild,
      );
      new aws.lambda.Permission(
        name,
        {
          action: "lambda:InvokeFunction",
          function: fn.name,
          principal: "events.amazonaws.com",
          sourceArn: rule.arn,
        },
        asChild,
      );
      new aws.cloudwatch.EventTarget(name, { rule: rule.name, arn: fn.arn }, asChild);
      return rule;
    }

    function createQueueMapping(queue: Extract<WorkerSource, { kind: "queue" }>) {
      return new aws.lambda.EventSourceMapping(
        name,
        {
          eventSourceArn: queue.queueArn,
          functionName: fn.arn,
          batchSize: fanoutJobsPerInvocation,
          functionResponseTypes: ["ReportBatchItemFailures"],
          scalingConfig: { maximumConcurrency: queue.maximumConcurrency },
        },
        asChild,
      );
    }
  }
}

/** What the function's own role needs for its source: nothing for a schedule (EventBridge invokes it). */
function eventSourceOf(source: WorkerSource) {
  if (source.kind === "schedule") return undefined;
  return source.kind === "stream"
    ? { kind: "stream" as const, streamArn: source.streamArn, onFailureQueueArn: source.onFailureQueueArn }
    : { kind: "queue" as const, queueArn: source.queueArn };
}
