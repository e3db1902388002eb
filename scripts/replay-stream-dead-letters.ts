/**
 * Replays the stream batches the stream worker gave up on (alarm `stream-dlq-not-empty`):
 *
 *   STREAM_DLQ_URL=$(pulumi stack output streamDeadLetterQueueUrl) \
 *   TABLE_NAME=$(pulumi stack output tableName) \
 *   MANAGEMENT_ENDPOINT=$(pulumi stack output managementEndpoint) \
 *   FANOUT_QUEUE_URL=$(pulumi stack output fanoutQueueUrl) \
 *   npm run replay-stream
 *
 * A dead letter names a shard and a range of sequence numbers, not the records (Lambda's
 * on-failure record); the stream keeps records for 24 hours. Each range is read back from
 * the stream and handed to the stream worker's own code, run here with the settings a
 * deployed stream function has and your credentials. A dead letter is deleted once its
 * whole batch succeeded; one that fails again stays in the queue for the next run.
 */
import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from "@aws-sdk/client-dynamodb-streams";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { readConfig } from "../handlers/config";
import { createDeps } from "../handlers/deps";
import { createMetrics } from "../handlers/metrics";
import { normalizeStreamRecord } from "../handlers/delivery/stream-records";
import { streamWorker } from "../handlers/workers";
import { toStreamEventRecord } from "../local/stream-mapping";
import { clientConfig } from "../model/client";
import { compareSequenceNumbers } from "../model/sequence-numbers";
import type { ChatStore, RoomChange } from "../model/store";

/** What Lambda's on-failure destination says of a stream batch (the part a replay needs). */
type StreamBatchInfo = {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  streamArn: string;
};

export type ReplayOptions = {
  sqs: SQSClient;
  /** The stream mapping's on-failure queue (`streamDeadLetterQueueUrl`). */
  queueUrl: string;
  streams: DynamoDBStreamsClient;
  /** The stream worker, as Lambda would invoke it. */
  handle: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /** Records the table has moved past since ({@link supersededMembershipChange}): left out. */
  superseded?: (record: DynamoDBRecord) => Promise<boolean>;
  /** Counts the membership changes of records left out ({@link countMembershipChanges}). */
  countLeftOut?: (records: DynamoDBRecord[]) => Promise<void>;
  /** How long a dead letter being replayed stays hidden from another replay. */
  visibilityTimeoutSeconds?: number;
  onProgress?: (line: string) => void;
};

export type ReplayReport = {
  /** Dead letters whose batch succeeded, now deleted. */
  replayed: number;
  /** Stream records handed to the worker in those batches. */
  records: number;
  /** Records left out as superseded. */
  skipped: number;
  /** Dead letters left in the queue, with why. */
  kept: { messageId: string; reason: string }[];
};

/** Replays every dead letter in the queue once; see the module comment. */
export async function replayStreamDeadLetters(options: ReplayOptions): Promise<ReplayReport> {
  const report: ReplayReport = { replayed: 0, records: 0, skipped: 0, kept: [] };
  const progress = options.onProgress ?? (() => undefined);
  for (;;) {
    // A letter kept after a failure stays hidden for the rest of this run, so the loop ends.
    const { Messages = [] } = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 300,
      }),
    );
    if (!Messages.length) return report;
    for (const message of Messages) {
      const messageId = message.MessageId ?? "?";
      try {
        const batch = batchInfoOf(message.Body);
        // arn:aws:dynamodb:<region>:...: the region the stream's function runs in.
        const region = batch.streamArn.split(":")[3];
        const read = (await readRange(options.streams, batch)).map((record) =>
          toStreamEventRecord(record, batch.streamArn, region),
        );
        const records: DynamoDBRecord[] = [];
        const leftOut: DynamoDBRecord[] = [];
        for (const record of read) ((await options.superseded?.(record)) ? leftOut : records).push(record);
        // Nothing to announce, but the room's later changes were counted against it.
        await options.countLeftOut?.(leftOut);
        const response = await options.handle({ Records: records });
        const failed = response?.batchItemFailures ?? [];
        if (failed.length) throw new Error(`the worker failed again from record ${failed[0].itemIdentifier}`);
        await options.sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        report.replayed++;
        report.records += records.length;
        report.skipped += read.length - records.length;
        progress(
          `replayed ${messageId}: ${records.length} record(s) of ${batch.shardId}` +
            (read.length > records.length ? `, ${read.length - records.length} superseded left out` : ""),
        );
      } catch (error) {
        report.kept.push({ messageId, reason: (error as Error).message });
        progress(`kept ${messageId}: ${(error as Error).message}`);
      }
    }
  }
}

/** The room change a membership's stream record makes; undefined for any other record. */
function membershipChangeOf(store: ChatStore, record: DynamoDBRecord): RoomChange | undefined {
  const change = normalizeStreamRecord(record);
  const image = change.kind === "remove" ? change.oldImage : change.newImage;
  const stored = image && store.itemOf(image);
  if (stored?.entity !== "membership" || change.kind === "modify") return undefined;
  const { room, connectionId } = stored.item;
  const sequenceNumber = record.dynamodb?.SequenceNumber ?? "0";
  return { room, connectionId, delta: change.kind === "insert" ? 1 : -1, sequenceNumber };
}

/**
 * A membership change the table has moved past: a join whose member has left since, or a
 * leave whose member is back. Replayed now it would announce what is no longer true, so it
 * is left out of the worker's batch; its count still moves ({@link countMembershipChanges}):
 * the directory counts each record once, and the room's later changes were counted against it.
 */
export function supersededMembershipChange(store: ChatStore) {
  return async (record: DynamoDBRecord): Promise<boolean> => {
    const change = membershipChangeOf(store, record);
    if (!change) return false;
    const present = await store.getMembership(change.room, change.connectionId, { expired: true });
    return change.delta > 0 ? !present : !!present;
  };
}

/** Counts records' membership changes into the room directory (once each), announcing nothing. */
export function countMembershipChanges(store: ChatStore) {
  return async (records: DynamoDBRecord[]): Promise<void> => {
    const changes = records.flatMap((record) => membershipChangeOf(store, record) ?? []);
    if (changes.length) await store.applyRoomChanges(changes);
  };
}

function batchInfoOf(body: string | undefined): StreamBatchInfo {
  const info = (JSON.parse(body ?? "{}") as { DDBStreamBatchInfo?: StreamBatchInfo }).DDBStreamBatchInfo;
  if (!info?.shardId || !info.startSequenceNumber || !info.endSequenceNumber || !info.streamArn) {
    throw new Error("not a stream batch's on-failure record (no DDBStreamBatchInfo)");
  }
  return info;
}

/** The batch's records, read back from its shard; all of them or an error (trimmed after 24 h). */
async function readRange(streams: DynamoDBStreamsClient, batch: StreamBatchInfo): Promise<_Record[]> {
  let { ShardIterator: iterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: batch.streamArn,
      ShardId: batch.shardId,
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      SequenceNumber: batch.startSequenceNumber,
    }),
  );
  const records: _Record[] = [];
  // An open shard answers empty pages past its last record: the range's end ends the read.
  for (let emptyPages = 0; iterator && emptyPages < 10;) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    iterator = page.NextShardIterator;
    emptyPages = page.Records?.length ? 0 : emptyPages + 1;
    for (const record of page.Records ?? []) {
      const sequenceNumber = record.dynamodb!.SequenceNumber!;
      if (compareSequenceNumbers(sequenceNumber, batch.endSequenceNumber) > 0)
        return complete(records, batch);
      records.push(record);
      if (sequenceNumber === batch.endSequenceNumber) return complete(records, batch);
    }
  }
  return complete(records, batch);
}

function complete(records: _Record[], batch: StreamBatchInfo): _Record[] {
  if (records.length !== batch.batchSize) {
    throw new Error(
      `read ${records.length} of the batch's ${batch.batchSize} record(s) back from the stream`,
    );
  }
  return records;
}

async function main() {
  const queueUrl = process.env.STREAM_DLQ_URL;
  if (!queueUrl) throw new Error("set STREAM_DLQ_URL (pulumi stack output streamDeadLetterQueueUrl)");
  const config = readConfig(process.env);
  // Metrics stay with the deployed functions: a replay's EMF lines would only clutter the terminal.
  const metrics = createMetrics({ namespace: "roomcast", service: "roomcast", write: () => undefined });
  const deps = createDeps(process.env, { metrics });
  const log = deps.log.child({ worker: streamWorker.name, replay: true });
  const sqs = new SQSClient(clientConfig(config.sqsEndpoint));
  const streams = new DynamoDBStreamsClient(clientConfig(config.dynamodbEndpoint));
  try {
    const report = await replayStreamDeadLetters({
      sqs,
      queueUrl,
      streams,
      handle: (event) => streamWorker.handle(event, { ...deps, log }),
      superseded: supersededMembershipChange(deps.store),
      countLeftOut: countMembershipChanges(deps.store),
      onProgress: (line) => process.stdout.write(line + "\n"),
    });
    process.stdout.write(
      `${report.replayed} dead letter(s) replayed (${report.records} record(s), ` +
        `${report.skipped} superseded left out), ${report.kept.length} kept\n`,
    );
    if (report.kept.length) process.exitCode = 1;
  } finally {
    sqs.destroy();
    streams.destroy();
  }
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`replay-stream: ${error.message}\n`);
    process.exitCode = 1;
  });
}
