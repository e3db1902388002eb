import type {
  DynamoDBBatchResponse,
  DynamoDBStreamEvent,
  ScheduledEvent,
  SQSBatchResponse,
  SQSEvent,
} from "aws-lambda";
import { ReceiveMessageCommand, type ReceiveMessageCommandOutput } from "@aws-sdk/client-sqs";
import type { Deps } from "../handlers/deps";
import type { Worker } from "../handlers/worker";
import { createDynamoClient } from "../model/client";
import {
  createRoomcastQueues,
  createSqsClient,
  startSqsServer,
  type QueueOverrides,
  type RoomcastQueues,
  type SqsServer,
} from "./sqs-server";
import { startSqsMapping, type SqsMapping } from "./sqs-mapping";
import { startStreamMapping, type StreamMapping } from "./stream-mapping";
import { fanoutJobsPerInvocation } from "../handlers/delivery/fanout-jobs";
import { roomSweepIntervalMinutes } from "../handlers/delivery/room-sweep";
import { streamFilterPatterns } from "../model/stream-filter";
import { infraDefaults } from "../infra/defaults";

/** The workers the pipeline runs, read per batch (so `--watch` can swap them), with their deps. */
export type WorkerApp = {
  deps: Deps;
  stream: Worker<DynamoDBStreamEvent, DynamoDBBatchResponse>;
  fanout: Worker<SQSEvent, SQSBatchResponse>;
  /** Run on the deployed schedule when given (tests leave it out and run it when they choose). */
  sweep?: Worker<ScheduledEvent | undefined, unknown>;
  /**
   * A fan-out container's deps, built as at a cold start. Lambda runs each concurrent
   * fan-out invocation in a container of its own, each posting its own share of the
   * stack's post rate; without this, every invocation shares `deps` and one share.
   */
  container?: () => Deps;
};

export type EventPipelineOptions = {
  dynamodbEndpoint: string;
  tableName: string;
  /** Reuse a running SQS-compatible server instead of starting one. */
  sqsEndpoint?: string;
  queuePrefix: string;
  queues?: QueueOverrides;
  /** Stream polling interval (Lambda polls a shard 4 times a second: 250 ms). */
  streamPollMs?: number;
  /** Retries of a failed stream batch before the dead-letter queue; default: the deployed stack's. */
  streamMaximumRetryAttempts?: number;
  /** Batches of a shard handled at once (by partition key); default: the deployed stack's. */
  streamParallelizationFactor?: number;
  /** The fan-out queue mapping's maximum concurrency. */
  fanoutMaxConcurrency: number;
  onError: (error: unknown) => void;
};

export type EventPipeline = {
  sqsEndpoint: string;
  queues: RoomcastQueues;
  /** Starts the two event source mappings and the sweep's timer, as AWS runs them. */
  start(app: () => WorkerApp): Promise<void>;
  /** Resolves when the stream is read to its end and the queue is empty, nothing in flight. */
  idle(timeoutMs?: number): Promise<void>;
  /** What the stream mapping (its on-failure destination) or the fan-out queue's redrive gave up on. */
  receiveDeadLetters(from?: "stream" | "fanout"): Promise<ReceiveMessageCommandOutput>;
  stop(): Promise<void>;
};

/**
 * The event machinery of the deployed stack, on the real AWS APIs: an SQS-compatible
 * server with the fan-out queue and dead-letter queues, the table's stream read from
 * DynamoDB Local into the stream worker, and the fan-out queue into the fan-out worker.
 */
export async function createEventPipeline(options: EventPipelineOptions): Promise<EventPipeline> {
  let server: SqsServer | undefined;
  const sqsEndpoint = options.sqsEndpoint ?? (server = await startSqsServer()).endpoint;
  const sqs = createSqsClient(sqsEndpoint);
  const queues = await createRoomcastQueues(sqs, options.queuePrefix, options.queues);
  const dynamodb = createDynamoClient(options.dynamodbEndpoint);
  let stream: StreamMapping | undefined;
  let fanout: SqsMapping | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let app: () => WorkerApp = () => {
    throw new Error("the event pipeline has not started");
  };
  // Fan-out containers of the current handlers (a `--watch` reload brings new ones).
  const containers = { of: undefined as Deps | undefined, free: [] as Deps[] };
  const takeContainer = (): Deps => {
    const current = app();
    if (containers.of !== current.deps) containers.free.length = 0;
    containers.of = current.deps;
    return containers.free.pop() ?? current.container?.() ?? current.deps;
  };
  // The stream worker's own container, as its own function has on AWS: its posts (presence)
  // never wait for the routes' sockets, nor the fast path's for its.
  const streamContainer = { of: undefined as Deps | undefined, deps: undefined as Deps | undefined };
  const streamDeps = (): Deps => {
    const current = app();
    if (streamContainer.of !== current.deps) {
      streamContainer.of = current.deps;
      streamContainer.deps = current.container?.() ?? current.deps;
    }
    return streamContainer.deps!;
  };

  return {
    sqsEndpoint,
    queues,
    async start(workerApp) {
      app = workerApp;
      stream = await startStreamMapping({
        dynamodb,
        tableName: options.tableName,
        pollMs: options.streamPollMs,
        filters: streamFilterPatterns,
        handler: (event) => {
          const { stream: worker } = app();
          const deps = streamDeps();
          return flushing(deps, () => worker.handle(event, deps));
        },
        maximumRetryAttempts: options.streamMaximumRetryAttempts ?? infraDefaults.streamMaximumRetryAttempts,
        parallelizationFactor:
          options.streamParallelizationFactor ?? infraDefaults.streamParallelizationFactor,
        onFailure: { client: sqs, queueUrl: queues.streamDeadLetter.url },
        // On AWS the mapping sends these and the alarm watches the queue; here our code does, so it also counts them.
        onDeadLetter: (records) => {
          const { deps } = app();
          deps.log.error("stream batch sent to the dead-letter queue", { records });
          deps.metrics.count("DeadLetters", records);
          deps.metrics.flush();
        },
        onError: options.onError,
      });
      fanout = startSqsMapping({
        client: sqs,
        queueUrl: queues.fanout.url,
        queueArn: queues.fanout.arn,
        maximumConcurrency: options.fanoutMaxConcurrency,
        batchSize: fanoutJobsPerInvocation,
        timeoutMs: app().deps.config.fanoutTimeoutSeconds * 1000,
        handler: async (event) => {
          const { fanout: worker } = app();
          const deps = takeContainer();
          try {
            return await flushing(deps, () => worker.handle(event, deps));
          } finally {
            containers.free.push(deps);
          }
        },
        onError: options.onError,
      });
      if (app().sweep) {
        // EventBridge's schedule, as a timer: one run at a time, like a function with a single schedule.
        let running: Promise<void> | undefined;
        sweepTimer = setInterval(() => {
          const { deps, sweep } = app();
          running ??= flushing(deps, () => sweep!.handle(undefined, deps))
            .then(() => undefined, options.onError)
            .finally(() => (running = undefined));
        }, roomSweepIntervalMinutes * 60_000);
        sweepTimer.unref();
      }
    },
    async idle(timeoutMs = 30_000) {
      // The stream may enqueue jobs and the jobs may change the table: settle both twice.
      for (let round = 0; round < 2; round++) {
        await stream?.idle(timeoutMs);
        await fanout?.idle(timeoutMs);
      }
    },
    receiveDeadLetters: (from = "stream") =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: (from === "stream" ? queues.streamDeadLetter : queues.fanoutDeadLetter).url,
          MaxNumberOfMessages: 10,
        }),
      ),
    async stop() {
      clearInterval(sweepTimer);
      await stream?.stop();
      await fanout?.stop();
      dynamodb.destroy();
      sqs.destroy();
      await server?.stop();
    },
  };
}

/** Runs a worker batch and publishes its metrics after, as Lambda's entry (handlers/lambda.ts) does. */
async function flushing<R>(deps: Deps, batch: () => Promise<R>): Promise<R> {
  try {
    return await batch();
  } finally {
    deps.metrics.flush();
  }
}
