/**
 * roomcast's event side as Lambda runs it: the stream worker in a capped process
 * of its own and the fan-out worker as a pool of capped containers, fed over IPC
 * by the local event source mappings, which run uncapped in the harness (Lambda's
 * pollers are not the function's CPU).
 */
import type { SQSBatchResponse } from "aws-lambda";
import { configEnv, readConfig } from "../../handlers/config";
import type { Deps } from "../../handlers/deps";
import { createLogger } from "../../handlers/log";
import { createMetrics } from "../../handlers/metrics";
import { fanoutWorker, streamWorker } from "../../handlers/workers";
import { createEventPipeline } from "../../local/event-pipeline";
import { lambdaMbPerVcpu } from "./cpu-cap";
import { startLambdaPool, startLambdaProcess, type Invocation } from "./lambda-process";

export type FanoutPool = { fanoutMemoryMb: number; poolSize: number };

export type CappedWorkersOptions = {
  dynamodbEndpoint: string;
  tableName: string;
  sqsEndpoint: string;
  /** Queue names start with it: one set of queues per worker stack. */
  queuePrefix: string;
  managementEndpoint: string;
  streamMemoryMb: number;
  pool: FanoutPool;
  /** Handler settings on top of the stack's. */
  env?: Record<string, string>;
  /** cgroup names start with it. */
  cgroupPrefix: string;
  /** Every invocation is appended here. */
  log: Invocation[];
  onError(error: unknown): void;
};

/**
 * What the mappings themselves touch of a deps (dead-letter logging, metric flushes, the
 * fan-out function's timeout): nothing is recorded here.
 */
const harnessDeps = (env: Record<string, string>) =>
  ({
    log: createLogger({}, () => undefined),
    metrics: createMetrics({ namespace: "roomcast", service: "roomcast", write: () => undefined }),
    config: readConfig(env),
  }) as Deps;

/** How a process was capped, for a benchmark's findings. */
export const capNote = (applied: boolean, what: string, memoryMb: number, reason?: string) =>
  applied
    ? `${what}: cgroup v1 CPU quota ${((memoryMb / lambdaMbPerVcpu) * 100).toFixed(1)} % of one core (${memoryMb} MB)`
    : `${what}: NOT capped at ${memoryMb} MB (${reason})`;

/**
 * Starts the queues, the stream worker, the fan-out pool and the two mappings.
 *
 * @example
 * const workers = await startCappedWorkers({ ...options, pool: { fanoutMemoryMb: 256, poolSize: 8 } });
 * await workers.pipeline.idle(60_000);
 * await workers.stop();
 */
export async function startCappedWorkers(options: CappedWorkersOptions) {
  const { pool } = options;
  const pipeline = await createEventPipeline({
    dynamodbEndpoint: options.dynamodbEndpoint,
    tableName: options.tableName,
    sqsEndpoint: options.sqsEndpoint,
    queuePrefix: options.queuePrefix,
    fanoutMaxConcurrency: pool.poolSize,
    onError: options.onError,
  });
  // What a function that queues delivery jobs needs (the routes' fast path hands failed posts and large rooms to it).
  const queueEnv: Record<string, string> = {
    [configEnv.sqsEndpoint]: pipeline.sqsEndpoint,
    [configEnv.fanoutQueueUrl]: pipeline.queues.fanout.url,
  };
  const env: Record<string, string> = {
    [configEnv.tableName]: options.tableName,
    [configEnv.dynamodbEndpoint]: options.dynamodbEndpoint,
    [configEnv.managementEndpoint]: options.managementEndpoint,
    ...queueEnv,
    [configEnv.fanoutMaxConcurrency]: String(pool.poolSize),
    ...options.env,
  };
  const [stream, fanout] = await Promise.all([
    startLambdaProcess("stream", env, options.streamMemoryMb, `${options.cgroupPrefix}-stream`, options.log),
    startLambdaPool("fanout", pool.poolSize, env, pool.fanoutMemoryMb, options.cgroupPrefix, options.log),
  ]);
  const stop = async () => {
    await pipeline.stop();
    await Promise.all([stream.stop(), fanout.stop()]);
  };
  try {
    await pipeline.start(() => ({
      deps: harnessDeps(env), // the containers built their own; the mapping only logs, flushes and times out with these
      stream: { ...streamWorker, handle: (event) => stream.invoke(event, event.Records.length) as never },
      fanout: {
        ...fanoutWorker,
        handle: (event) => fanout.invoke(event, event.Records.length) as Promise<SQSBatchResponse>,
      },
    }));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pipeline,
    queueEnv,
    capNotes: [
      capNote(stream.cap.applied, "stream worker", options.streamMemoryMb, stream.cap.reason),
      capNote(
        fanout.capped,
        `each of ${pool.poolSize} fan-out containers`,
        pool.fanoutMemoryMb,
        fanout.capReason,
      ),
    ],
    stop,
  };
}
