import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import { localAws } from "../model/client";

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export type SqsMappingOptions = {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  /** Messages per invocation: 1..10 (AWS allows more for standard queues only with a batching window). */
  batchSize?: number;
  /** Concurrent invocations, one poller each (AWS: 2..1000). */
  maximumConcurrency?: number;
  /** Pause after an empty receive; doubles while the queue stays empty, up to `idlePollMaxMs`. */
  pollMs?: number;
  /** Longest pause between receives of an idle queue (default 250 ms). */
  idlePollMaxMs?: number;
  /**
   * The function's timeout: an invocation still running then has failed, as when Lambda ends
   * it (its messages come back after the visibility timeout). Here it cannot be stopped: it
   * runs on unheard. Unset: no limit.
   */
  timeoutMs?: number;
  /** Errors of the mapping itself (receive, delete, a timed-out invocation); handler errors are counted, not reported. */
  onError?: (error: unknown) => void;
};

export type SqsMappingStats = {
  invocations: number;
  /** Invocations that threw or timed out: their whole batch stays on the queue. */
  failedInvocations: number;
  /** Invocations still running at the function's timeout. */
  timedOutInvocations: number;
  /** Messages not deleted after an invocation (reported in batchItemFailures or in a thrown batch). */
  failedMessages: number;
  deletedMessages: number;
  /** Highest number of invocations seen running at once. */
  peakConcurrency: number;
};

export type SqsMapping = {
  stats: Readonly<SqsMappingStats>;
  /** Resolves when the queue holds no message (visible, in flight or delayed) and no invocation runs. */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops polling and waits for the invocations in flight. */
  stop(): Promise<void>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lambda's words for an invocation it ended. */
class FunctionTimeout extends Error {}

/** The SQS message as Lambda puts it in an SQSEvent record. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType!,
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue && Buffer.from(value.BinaryValue).toString("base64"),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString("base64")),
    };
  }
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? "",
      SenderId: attributes.SenderId ?? "",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? "",
      ...(attributes.SequenceNumber && { SequenceNumber: attributes.SequenceNumber }),
      ...(attributes.MessageGroupId && { MessageGroupId: attributes.MessageGroupId }),
      ...(attributes.MessageDeduplicationId && { MessageDeduplicationId: attributes.MessageDeduplicationId }),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? "",
    ...(message.MD5OfMessageAttributes && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: localAws.region,
  };
}

/**
 * Runs an SQS event source mapping as Lambda does, with ReportBatchItemFailures:
 * pollers receive batches, invoke the handler, delete what succeeded and leave the
 * rest to reappear after the visibility timeout, so the queue's redrive policy moves
 * a message that keeps failing to its dead-letter queue.
 *
 * @example
 * const mapping = startSqsMapping({ client, queueUrl, queueArn, handler: (event) => fanout(event) });
 * await mapping.idle();
 * await mapping.stop();
 */
export function startSqsMapping(options: SqsMappingOptions): SqsMapping {
  const batchSize = options.batchSize ?? 10;
  const maximumConcurrency = options.maximumConcurrency ?? 2;
  const pollMs = options.pollMs ?? 50;
  const idlePollMaxMs = Math.max(pollMs, options.idlePollMaxMs ?? 250);
  const onError = options.onError ?? ((error) => console.error("sqs mapping:", error));
  if (batchSize < 1 || batchSize > 10) throw new Error(`batchSize must be 1..10, got ${batchSize}`);
  if (maximumConcurrency < 1) throw new Error(`maximumConcurrency must be >= 1, got ${maximumConcurrency}`);
  const stats: SqsMappingStats = {
    invocations: 0,
    failedInvocations: 0,
    timedOutInvocations: 0,
    failedMessages: 0,
    deletedMessages: 0,
    peakConcurrency: 0,
  };
  let running = 0;
  let stopped = false;

  async function receive(): Promise<Message[]> {
    const { Messages } = await options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: batchSize,
        // local-aws-sqs's long poll waits for a full batch; Lambda's returns at the first message.
        WaitTimeSeconds: 0,
        // local-aws-sqs reads only the older AttributeNames; AWS reads both.
        AttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    return Messages ?? [];
  }

  async function invoke(messages: Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, options.queueArn));
    running++;
    stats.invocations++;
    stats.peakConcurrency = Math.max(stats.peakConcurrency, running);
    let failed: Set<string>;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      if (options.timeoutMs === undefined) return;
      const seconds = (options.timeoutMs / 1000).toFixed(2);
      timer = setTimeout(
        () => reject(new FunctionTimeout(`Task timed out after ${seconds} seconds`)),
        options.timeoutMs,
      );
    });
    try {
      const response = await Promise.race([options.handler({ Records: records }), timedOut]);
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      stats.failedInvocations++;
      if (error instanceof FunctionTimeout) {
        stats.timedOutInvocations++;
        onError(error);
      }
      failed = new Set(records.map((record) => record.messageId));
    } finally {
      clearTimeout(timer);
      running--;
    }
    stats.failedMessages += failed.size;
    const done = records.filter((record) => !failed.has(record.messageId));
    if (!done.length) return;
    const { Failed } = await options.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    stats.deletedMessages += done.length - (Failed?.length ?? 0);
    if (Failed?.length) onError(new Error(`DeleteMessageBatch failed: ${JSON.stringify(Failed)}`));
  }

  // An idle queue is watched by the first poller alone, its pause doubling up to idlePollMaxMs;
  // the others park until a receive brings messages (Lambda also scales an idle mapping's
  // pollers down). Without this, 16 pollers sent 320 signed receives a second to an empty queue.
  const parked = new Set<() => void>();
  let scoutPauseMs = pollMs;
  const wakeAll = () => {
    for (const wake of [...parked]) wake();
  };
  const park = (ms?: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const wake = () => {
        clearTimeout(timer);
        parked.delete(wake);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(wake, ms);
      parked.add(wake);
    });

  async function poll(scout: boolean): Promise<void> {
    while (!stopped) {
      try {
        const messages = await receive();
        if (messages.length) {
          scoutPauseMs = pollMs;
          wakeAll();
          await invoke(messages);
        } else if (scout) {
          await park(scoutPauseMs);
          scoutPauseMs = Math.min(scoutPauseMs * 2, idlePollMaxMs);
        } else await park();
      } catch (error) {
        if (stopped) return;
        onError(error);
        await sleep(pollMs);
      }
    }
  }

  const pollers = Array.from({ length: maximumConcurrency }, (_, index) => poll(index === 0));

  async function queueIsEmpty(): Promise<boolean> {
    const { Attributes = {} } = await options.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: options.queueUrl,
        AttributeNames: [
          "ApproximateNumberOfMessages",
          "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed",
        ],
      }),
    );
    return Object.values(Attributes).every((count) => count === "0");
  }

  return {
    stats,
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (running > 0 || !(await queueIsEmpty())) {
        if (Date.now() > deadline) throw new Error(`SQS mapping not idle after ${timeoutMs} ms`);
        await sleep(pollMs);
      }
    },
    async stop() {
      stopped = true;
      wakeAll();
      await Promise.all(pollers);
    },
  };
}
