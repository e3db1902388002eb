import { createHash, randomUUID } from "node:crypto";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type Shard,
  type ShardIteratorType,
} from "@aws-sdk/client-dynamodb-streams";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { localAws } from "../model/client";
import { passesFilters, type FilterPattern } from "../model/stream-filter";

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export type StreamMappingOptions = {
  /** A client of the DynamoDB Local that holds the table (its endpoint is reused for Streams). */
  dynamodb: DynamoDBClient;
  tableName: string;
  handler: StreamHandler;
  /** The mapping's filter criteria: only records matching one of them reach the handler (none: all). */
  filters?: readonly FilterPattern[];
  /** Records per invocation (Lambda's default for streams: 100). */
  batchSize?: number;
  /**
   * Lambda's ParallelizationFactor (1..10): each shard's records go to this many lanes by
   * partition key, each lane in order and one batch at a time, the lanes side by side. A
   * lane retrying a batch holds only its own keys.
   */
  parallelizationFactor?: number;
  /** GetRecords period per shard: Lambda polls a shard 4 times a second. */
  pollMs?: number;
  /** Retries of a failing batch before it goes to the on-failure destination (Lambda: -1 = forever). */
  maximumRetryAttempts?: number;
  /**
   * Pause before the first retry; it doubles with each retry up to `maxRetryBackoffMs`, so
   * the retries of a batch outlast a dependency's brief outage (DynamoDB Local restarting)
   * instead of using themselves up in a second and dropping the batch.
   */
  retryBackoffMs?: number;
  maxRetryBackoffMs?: number;
  /** Where a batch that ran out of retries is described, as Lambda's on-failure destination does. */
  onFailure?: { client: SQSClient; queueUrl: string };
  /** Told of each batch sent to the on-failure destination, with its record count (the DeadLetters metric). */
  onDeadLetter?: (records: number) => void;
  /** Errors of the mapping itself (stream reads, destination); handler errors are counted. */
  onError?: (error: unknown) => void;
};

export type StreamMappingStats = {
  invocations: number;
  /** Invocations that threw or reported a failed item. */
  failedInvocations: number;
  /** Records delivered in a batch that ended successfully. */
  processedRecords: number;
  /** Batches given up after maximumRetryAttempts and sent to the on-failure destination. */
  discardedBatches: number;
};

export type StreamMapping = {
  streamArn: string;
  stats: Readonly<StreamMappingStats>;
  /** Resolves once every shard has been read to its end, after this call, with no batch in flight. */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops polling and waits for the batches in flight. */
  stop(): Promise<void>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The AWS SDK's attribute values as Lambda's JSON event carries them: binaries in base64. */
function toEventJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(toEventJson);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toEventJson(inner)]));
  return value;
}

/** A stream record as Lambda puts it in a DynamoDBStreamEvent (`region`: the function's). */
export function toStreamEventRecord(
  record: _Record,
  streamArn: string,
  region: string = localAws.region,
): DynamoDBRecord {
  const { ApproximateCreationDateTime, ...change } = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord["eventName"],
    eventVersion: record.eventVersion,
    eventSource: record.eventSource ?? "aws:dynamodb",
    awsRegion: region, // DynamoDB Local says "ddblocal"; Lambda says the function's region
    dynamodb: {
      ...(ApproximateCreationDateTime && {
        ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000),
      }),
      ...(toEventJson(change) as DynamoDBRecord["dynamodb"]),
    },
    ...(record.userIdentity && { userIdentity: record.userIdentity }),
    eventSourceARN: streamArn,
  };
}

type ShardState = { id: string; parentId?: string; iterator?: string; finished: boolean; caughtUpAt: number };

/**
 * Runs a DynamoDB Streams event source mapping as Lambda does, with
 * ReportBatchItemFailures: each shard is read in order, one batch at a time, from
 * the stream's end when the mapping starts (LATEST); a thrown batch is retried whole,
 * a reported `itemIdentifier` (a sequence number) is retried from that record on, after
 * a pause that doubles with each retry; after `maximumRetryAttempts` the batch is described to the on-failure destination
 * and the shard moves on. Children of a shard start after their parent is finished.
 *
 * @example
 * const mapping = await startStreamMapping({ dynamodb, tableName, handler: (e) => worker(e) });
 * await mapping.idle();
 * await mapping.stop();
 */
export async function startStreamMapping(options: StreamMappingOptions): Promise<StreamMapping> {
  const batchSize = options.batchSize ?? 100;
  const parallelizationFactor = options.parallelizationFactor ?? 1;
  if (!Number.isInteger(parallelizationFactor) || parallelizationFactor < 1 || parallelizationFactor > 10) {
    throw new Error(`parallelizationFactor must be 1..10, got ${parallelizationFactor}`);
  }
  const pollMs = options.pollMs ?? 250;
  const maximumRetryAttempts = options.maximumRetryAttempts ?? 3;
  const retryBackoffMs = options.retryBackoffMs ?? 100;
  const maxRetryBackoffMs = options.maxRetryBackoffMs ?? 5_000;
  const onError = options.onError ?? ((error) => console.error("stream mapping:", error));
  const { Table } = await options.dynamodb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  const partitionKey = Table?.KeySchema?.find((k) => k.KeyType === "HASH")?.AttributeName ?? "";
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  // The table's own client's key: DynamoDB Local keeps a database (and its streams) per access key.
  const streams = new DynamoDBStreamsClient({
    region: localAws.region,
    credentials: options.dynamodb.config.credentials,
    endpoint: await options.dynamodb.config.endpoint!(),
  });
  const stats: StreamMappingStats = {
    invocations: 0,
    failedInvocations: 0,
    processedRecords: 0,
    discardedBatches: 0,
  };
  const shards = new Map<string, ShardState>();
  const loops = new Map<string, Promise<void>>();
  let stopped = false;
  // `idle()` cuts a caught-up shard's pause short, so it need not wait out a poll interval to
  // learn that nothing new came, and hears at once when a shard reports it is caught up.
  const pausedReads = new Set<() => void>();
  const caughtUpListeners = new Set<() => void>();
  /** Resolves after `ms`, or sooner when one of `wakers` is called. */
  const waitUpTo = (ms: number, wakers: Set<() => void>) =>
    new Promise<void>((resume) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resume();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  const pauseBeforeNextRead = () => waitUpTo(pollMs, pausedReads);
  const readNow = () => [...pausedReads].forEach((wake) => wake());

  async function describeShards(): Promise<Shard[]> {
    const all: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
      );
      all.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return all;
  }

  async function iterator(shardId: string, type: ShardIteratorType, sequenceNumber?: string) {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        SequenceNumber: sequenceNumber,
      }),
    );
    return ShardIterator;
  }

  /** Picks up shards not seen yet: at LATEST when the mapping starts, from their start afterwards. */
  async function discover(atStart: boolean): Promise<void> {
    for (const shard of await describeShards()) {
      const id = shard.ShardId!;
      if (shards.has(id)) continue;
      const closed = Boolean(shard.SequenceNumberRange?.EndingSequenceNumber);
      if (atStart && closed) continue; // LATEST: nothing from before the mapping
      const state: ShardState = {
        id,
        parentId: shard.ParentShardId,
        iterator: await iterator(id, atStart ? "LATEST" : "TRIM_HORIZON"),
        finished: false,
        caughtUpAt: 0,
      };
      shards.set(id, state);
      loops.set(id, runShard(state));
    }
  }

  async function sendToDestination(records: _Record[], shardId: string, attempts: number) {
    if (!options.onFailure) return;
    const times = records.map((record) => record.dynamodb?.ApproximateCreationDateTime?.toISOString());
    // The shape of Lambda's on-failure record for a stream batch.
    const failure = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: `arn:aws:lambda:${localAws.region}:000000000000:function:local-stream-mapping`,
        condition: "RetryAttemptsExhausted",
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: records[0].dynamodb?.SequenceNumber,
        endSequenceNumber: records.at(-1)!.dynamodb?.SequenceNumber,
        approximateArrivalOfFirstRecord: times[0],
        approximateArrivalOfLastRecord: times.at(-1),
        batchSize: records.length,
        streamArn,
      },
    };
    await options.onFailure.client.send(
      new SendMessageCommand({ QueueUrl: options.onFailure.queueUrl, MessageBody: JSON.stringify(failure) }),
    );
    options.onDeadLetter?.(records.length);
  }

  /** Runs one batch to completion: success, or retries exhausted. */
  async function deliver(shardId: string, batch: _Record[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      stats.invocations++;
      let retryFrom: number;
      try {
        const response = await options.handler({
          Records: pending.map((record) => toStreamEventRecord(record, streamArn!)),
        });
        const failed = (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
        if (failed.length) {
          // Lambda retries from the lowest reported sequence number; an unknown one fails the batch.
          const indexes = failed.map((id) => pending.findIndex((r) => r.dynamodb?.SequenceNumber === id));
          retryFrom = indexes.includes(-1) ? 0 : Math.min(...indexes);
        } else {
          stats.processedRecords += pending.length;
          return;
        }
      } catch {
        retryFrom = 0;
      }
      stats.failedInvocations++;
      stats.processedRecords += retryFrom;
      pending = pending.slice(retryFrom);
      if (attempt > maximumRetryAttempts) {
        stats.discardedBatches++;
        await sendToDestination(pending, shardId, attempt).catch(onError);
        return;
      }
      await sleep(Math.min(retryBackoffMs * 2 ** (attempt - 1), maxRetryBackoffMs));
    }
  }

  /** The lane of a record: a hash of its partition key, so one key's records stay in order. */
  function laneOf(record: _Record): number {
    if (parallelizationFactor === 1) return 0;
    const key = JSON.stringify(record.dynamodb?.Keys?.[partitionKey] ?? null);
    return createHash("md5").update(key).digest().readUInt32BE(0) % parallelizationFactor;
  }

  /** A shard's lanes: records queue up by lane; each lane delivers its queue a batch at a time. */
  function createLanes(shardId: string) {
    const lanes = Array.from({ length: parallelizationFactor }, () => ({
      queue: [] as _Record[],
      running: undefined as Promise<void> | undefined,
    }));
    const run = (lane: (typeof lanes)[number]) => {
      if (lane.running || lane.queue.length === 0) return;
      lane.running = (async () => {
        while (lane.queue.length) await deliver(shardId, lane.queue.splice(0, batchSize));
      })().finally(() => {
        lane.running = undefined;
      });
    };
    return {
      add(records: _Record[]) {
        for (const record of records) lanes[laneOf(record)].queue.push(record);
        lanes.forEach(run);
      },
      /** Records read but not yet handed to the function. */
      queued: () => lanes.reduce((sum, lane) => sum + lane.queue.length, 0),
      idle: () => lanes.every((lane) => !lane.running && lane.queue.length === 0),
      /** Resolves once every lane is empty and at rest. */
      async drain() {
        while (lanes.some((lane) => lane.running)) await Promise.all(lanes.map((lane) => lane.running));
      },
    };
  }

  async function runShard(shard: ShardState): Promise<void> {
    const lanes = createLanes(shard.id);
    let lastSequence: string | undefined;
    while (!stopped) {
      const parent = shard.parentId && shards.get(shard.parentId);
      if (parent && !parent.finished) {
        await sleep(pollMs);
        continue;
      }
      // Read ahead no further than a batch per lane: a lane that keeps failing stops the reading, not the other lanes.
      if (lanes.queued() >= batchSize * parallelizationFactor) {
        await sleep(pollMs);
        continue;
      }
      const readStartedAt = performance.now();
      try {
        if (!shard.iterator) {
          // Its children hold the same keys: they start once every record of this shard was handled.
          await lanes.drain();
          shard.finished = true;
          await discover(false); // its children, if the stream split it
          return;
        }
        const { Records = [], NextShardIterator } = await streams.send(
          new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize }),
        );
        shard.iterator = NextShardIterator;
        if (Records.length) {
          // Lambda drops records no filter matches before it batches: they never reach the function.
          lanes.add(
            Records.filter((record) =>
              passesFilters(toStreamEventRecord(record, streamArn!), options.filters ?? []),
            ),
          );
          lastSequence = Records.at(-1)!.dynamodb?.SequenceNumber;
        } else {
          if (lanes.idle()) {
            shard.caughtUpAt = readStartedAt;
            [...caughtUpListeners].forEach((listener) => listener());
          }
          await pauseBeforeNextRead();
        }
      } catch (error) {
        if (stopped) break;
        if (error instanceof ExpiredIteratorException)
          shard.iterator = lastSequence
            ? await iterator(shard.id, "AFTER_SEQUENCE_NUMBER", lastSequence).catch(() => undefined)
            : await iterator(shard.id, "LATEST").catch(() => undefined);
        else onError(error);
        await sleep(pollMs);
      }
    }
    await lanes.drain();
  }

  await discover(true);
  const discovery = (async () => {
    while (!stopped) {
      for (let waited = 0; waited < 1000 && !stopped; waited += pollMs) await sleep(pollMs);
      if (!stopped) await discover(false).catch(onError);
    }
  })();

  return {
    streamArn,
    stats,
    async idle(timeoutMs = 30_000) {
      const since = performance.now();
      const deadline = Date.now() + timeoutMs;
      const caughtUp = () => [...shards.values()].every((s) => s.finished || s.caughtUpAt > since);
      while (!caughtUp()) {
        if (Date.now() > deadline) throw new Error(`stream mapping not idle after ${timeoutMs} ms`);
        readNow();
        // Until a shard reports, or a short while: a shard whose batches were still running read
        // again without reporting, and is asked again.
        await waitUpTo(Math.min(pollMs, 10), caughtUpListeners);
      }
    },
    async stop() {
      stopped = true;
      readNow();
      await Promise.all([discovery, ...loops.values()]);
      streams.destroy();
    },
  };
}
