import { randomUUID } from "node:crypto";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import {
  createRoomcastQueues,
  createSqsClient,
  startSqsServer,
  type QueueOverrides,
  type RoomcastQueues,
  type SqsServer,
} from "../../local/sqs-server";
import { startSqsMapping, type SqsMapping, type SqsMappingOptions } from "../../local/sqs-mapping";
import { deduplicateForInterval, deduplicationIntervalMs, type DedupQueue } from "../../local/sqs-fifo-dedup";

let server: SqsServer;
let client: SQSClient;
const mappings: SqsMapping[] = [];

beforeAll(async () => {
  server = await startSqsServer();
  client = createSqsClient(server.endpoint);
});

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((mapping) => mapping.stop()));
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

async function freshQueues(overrides: QueueOverrides = {}): Promise<RoomcastQueues> {
  return createRoomcastQueues(client, `t-${randomUUID().slice(0, 8)}`, {
    visibilityTimeoutSeconds: 1,
    ...overrides,
  });
}

/** Sends jobs in order, 10 per SendMessageBatch; `group` picks each job's message group. */
async function sendJobs(queueUrl: string, bodies: string[], group: (body: string) => string) {
  for (let i = 0; i < bodies.length; i += 10) {
    const { Failed } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((body, j) => ({
          Id: String(j),
          MessageBody: body,
          MessageGroupId: group(body),
          MessageDeduplicationId: body,
        })),
      }),
    );
    expect(Failed ?? []).toEqual([]);
  }
}

function map(
  queues: RoomcastQueues,
  options: Partial<SqsMappingOptions> & Pick<SqsMappingOptions, "handler">,
) {
  const mapping = startSqsMapping({
    client,
    queueUrl: queues.fanout.url,
    queueArn: queues.fanout.arn,
    pollMs: 20,
    ...options,
  });
  mappings.push(mapping);
  return mapping;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("delivers every job in batches of at most 10 as real SQSEvent records, then idles", async () => {
  const queues = await freshQueues();
  const bodies = Array.from({ length: 25 }, (_, i) => `job-${i}`);
  await sendJobs(queues.fanout.url, bodies, (body) => `room#${Number(body.slice(4)) % 5}`);
  const events: SQSEvent[] = [];
  const mapping = map(queues, {
    maximumConcurrency: 2,
    handler: async (event) => {
      events.push(event);
    },
  });
  await mapping.idle();
  const records = events.flatMap((event) => event.Records);
  expect(records.map((r) => r.body).sort()).toEqual([...bodies].sort());
  expect(Math.max(...events.map((event) => event.Records.length))).toBeLessThanOrEqual(10);
  expect(events.length).toBeGreaterThanOrEqual(3);
  const first = records.find((r) => r.body === "job-0")!;
  expect(first).toMatchObject({
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queues.fanout.name}`,
    awsRegion: "us-east-1",
    attributes: { ApproximateReceiveCount: "1", MessageGroupId: "room#0", MessageDeduplicationId: "job-0" },
  });
  expect(first.attributes.SequenceNumber).toEqual(expect.any(String));
  expect(first.receiptHandle).toEqual(expect.any(String));
  expect(mapping.stats).toMatchObject({ deletedMessages: 25, failedMessages: 0 });
});

test("a partial batch failure redelivers only the failed job, after the visibility timeout", async () => {
  const queues = await freshQueues();
  const bodies = Array.from({ length: 6 }, (_, i) => `job-${i}`);
  await sendJobs(queues.fanout.url, bodies, (body) => body); // one group per job
  const seen: { body: string; count: string; at: number }[] = [];
  const mapping = map(queues, {
    handler: async (event): Promise<SQSBatchResponse> => {
      const failures = [];
      for (const record of event.Records) {
        seen.push({ body: record.body, count: record.attributes.ApproximateReceiveCount, at: Date.now() });
        if (record.body === "job-3" && record.attributes.ApproximateReceiveCount === "1")
          failures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures: failures };
    },
  });
  await mapping.idle();
  const deliveries = (body: string) => seen.filter((s) => s.body === body);
  for (const body of bodies) expect(deliveries(body)).toHaveLength(body === "job-3" ? 2 : 1);
  const [firstTry, retry] = deliveries("job-3");
  expect(retry.count).toBe("2");
  expect(retry.at - firstTry.at).toBeGreaterThanOrEqual(900); // visibility timeout: 1 s
  expect(mapping.stats).toMatchObject({ failedMessages: 1, deletedMessages: 6 });
});

test("an invocation still running at the function's timeout has failed: its job comes back", async () => {
  const queues = await freshQueues();
  await sendJobs(queues.fanout.url, ["slow-job"], (body) => body);
  const errors: unknown[] = [];
  const receives: string[] = [];
  const mapping = map(queues, {
    timeoutMs: 200,
    onError: (error) => errors.push(error),
    handler: async (event) => {
      const [record] = event.Records;
      receives.push(record.attributes.ApproximateReceiveCount);
      // The first receive outlives the timeout; what it returns then is never heard.
      if (record.attributes.ApproximateReceiveCount === "1") await sleep(600);
    },
  });
  await mapping.idle();
  expect(receives).toEqual(["1", "2"]);
  expect(errors).toEqual([new Error("Task timed out after 0.20 seconds")]);
  expect(mapping.stats).toMatchObject({ timedOutInvocations: 1, failedMessages: 1, deletedMessages: 1 });
});

test("the server locks a FIFO message group while a message of it is in flight", async () => {
  const queues = await freshQueues({ visibilityTimeoutSeconds: 30 });
  await sendJobs(queues.fanout.url, ["a1", "a2", "b1"], (body) => body[0]);
  const receiveOne = async () =>
    (await client.send(new ReceiveMessageCommand({ QueueUrl: queues.fanout.url, MaxNumberOfMessages: 1 })))
      .Messages?.[0];
  const a1 = await receiveOne();
  expect(a1?.Body).toBe("a1");
  const next = await receiveOne();
  expect(next?.Body).toBe("b1"); // not a2: group "a" is locked by a1
  expect(await receiveOne()).toBeUndefined();
  await client.send(
    new DeleteMessageCommand({ QueueUrl: queues.fanout.url, ReceiptHandle: a1!.ReceiptHandle }),
  );
  expect((await receiveOne())?.Body).toBe("a2");
  // One receive may still return several messages of a group, in order, as SQS does.
  await sendJobs(queues.fanout.url, ["c1", "c2", "c3"], () => "c");
  const batch = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queues.fanout.url, MaxNumberOfMessages: 10 }),
  );
  expect(batch.Messages?.map((m) => m.Body)).toEqual(["c1", "c2", "c3"]);
});

test("FIFO: a deduplication id sent again after its message was consumed is accepted and not delivered", async () => {
  const queues = await freshQueues();
  const send = (body: string, dedupId: string) =>
    client.send(
      new SendMessageCommand({
        QueueUrl: queues.fanout.url,
        MessageBody: body,
        MessageGroupId: "room#0",
        MessageDeduplicationId: dedupId,
      }),
    );
  const receiveAll = async () =>
    (await client.send(new ReceiveMessageCommand({ QueueUrl: queues.fanout.url, MaxNumberOfMessages: 10 })))
      .Messages ?? [];
  const first = await send("job", "message-1#0");
  const [job] = await receiveAll();
  expect(job.Body).toBe("job");
  await client.send(
    new DeleteMessageCommand({ QueueUrl: queues.fanout.url, ReceiptHandle: job.ReceiptHandle }),
  );
  // A retried stream batch sends the same job again: SQS answers with the first id and drops it.
  const again = await send("job", "message-1#0");
  expect(again.MessageId).toBe(first.MessageId);
  await send("next", "message-2#0");
  expect((await receiveAll()).map((m) => m.Body)).toEqual(["next"]);
});

test("deduplication ids are kept for SQS's 5 minutes, then a repeat is a new message", () => {
  let clock = 0;
  const enqueued: string[] = [];
  const queue: DedupQueue = {
    FifoQueue: true,
    // As local-aws-sqs: an arrow on the instance, which enqueues through queue.newRecord.
    setRecord: (_body, messageId) => {
      const record = { MessageId: messageId ?? `m${enqueued.length + 1}` };
      queue.newRecord(record);
      return { record };
    },
    newRecord: (record) => {
      enqueued.push((record as { MessageId: string }).MessageId);
      return { record };
    },
  };
  deduplicateForInterval(queue, () => clock);
  const send = () => queue.setRecord({ MessageGroupId: "g", MessageDeduplicationId: "d" }).record.MessageId;
  expect(send()).toBe("m1");
  clock = deduplicationIntervalMs - 1;
  expect(send()).toBe("m1");
  clock = deduplicationIntervalMs;
  expect(send()).toBe("m2");
  expect(enqueued).toEqual(["m1", "m2"]);
});

test("FIFO: each group is processed in order across concurrent pollers, even with a failure in the middle", async () => {
  const queues = await freshQueues();
  const groups = ["room#0", "room#1", "room#2"];
  const bodies = Array.from(
    { length: 30 },
    (_, i) => `${groups[i % 3]}/${String(Math.floor(i / 3)).padStart(2, "0")}`,
  );
  await sendJobs(queues.fanout.url, bodies, (body) => body.split("/")[0]);
  const done: string[] = [];
  let failedOnce = false;
  const mapping = map(queues, {
    maximumConcurrency: 4,
    batchSize: 2, // several batches of one group can be in the queue at once
    handler: async (event): Promise<SQSBatchResponse> => {
      await sleep(10);
      const failures: SQSBatchResponse["batchItemFailures"] = [];
      const failedGroups = new Set<string>();
      for (const record of event.Records) {
        const group = record.attributes.MessageGroupId!;
        // As Lambda asks of FIFO handlers: after a failure, report the rest of the group too.
        if (failedGroups.has(group) || (!failedOnce && record.body === "room#1/04")) {
          failedOnce = true;
          failedGroups.add(group);
          failures.push({ itemIdentifier: record.messageId });
        } else done.push(record.body);
      }
      return { batchItemFailures: failures };
    },
  });
  await mapping.idle();
  for (const group of groups) {
    const processed = done.filter((body) => body.startsWith(`${group}/`));
    expect(processed).toEqual(bodies.filter((body) => body.startsWith(`${group}/`)));
  }
  expect(mapping.stats.failedMessages).toBeGreaterThanOrEqual(1);
});

test("a poison job goes to the FIFO dead-letter queue after maxReceiveCount receives", async () => {
  const queues = await freshQueues({ maxReceiveCount: 2 });
  await sendJobs(queues.fanout.url, ["poison", "fine"], (body) => body);
  const attempts: SQSRecord[] = [];
  const mapping = map(queues, {
    batchSize: 1,
    handler: async (event) => {
      attempts.push(...event.Records);
      if (event.Records.some((record) => record.body === "poison")) throw new Error("cannot fan out");
    },
  });
  await mapping.idle();
  expect(
    attempts.filter((r) => r.body === "poison").map((r) => r.attributes.ApproximateReceiveCount),
  ).toEqual(["1", "2"]);
  expect(mapping.stats).toMatchObject({ failedInvocations: 2, deletedMessages: 1 });
  const dlq = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queues.fanoutDeadLetter.url,
      MaxNumberOfMessages: 10,
      AttributeNames: ["All"],
    }),
  );
  expect(dlq.Messages?.map((m) => [m.Body, m.Attributes?.MessageGroupId])).toEqual([["poison", "poison"]]);
});

test("maximum concurrency bounds the invocations running at once", async () => {
  const queues = await freshQueues({ visibilityTimeoutSeconds: 10 });
  const bodies = Array.from({ length: 24 }, (_, i) => `job-${i}`);
  await sendJobs(queues.fanout.url, bodies, (body) => body);
  let running = 0;
  let peak = 0;
  const mapping = map(queues, {
    batchSize: 2,
    maximumConcurrency: 3,
    handler: async () => {
      peak = Math.max(peak, ++running);
      await sleep(100);
      running--;
    },
  });
  await mapping.idle();
  expect(peak).toBe(3);
  expect(mapping.stats).toMatchObject({ peakConcurrency: 3, deletedMessages: 24, invocations: 12 });
});

test("an idle mapping lets one poller receive, its pause doubling to the cap; jobs wake the others", async () => {
  const queues = await freshQueues({ visibilityTimeoutSeconds: 10 });
  const receivedAt: number[] = [];
  const countingClient = {
    send: (command: Parameters<SQSClient["send"]>[0]) => {
      if (command instanceof ReceiveMessageCommand) receivedAt.push(performance.now());
      return client.send(command);
    },
  } as SQSClient;
  let running = 0;
  let peak = 0;
  const mapping = map(queues, {
    client: countingClient,
    batchSize: 2,
    maximumConcurrency: 3,
    pollMs: 20,
    idlePollMaxMs: 80,
    handler: async () => {
      peak = Math.max(peak, ++running);
      await sleep(100);
      running--;
    },
  });
  // Each poller's first receive, then the scout alone after pauses of 20, 40, 80, 80, 80 ms.
  while (receivedAt.length < 3 + 5) await sleep(20);
  const gaps = receivedAt.slice(4, 8).map((at, i) => at - receivedAt[3 + i]);
  // A timer never fires early (1 ms for rounding); a loaded machine only makes gaps longer.
  [40, 80, 80, 80].forEach((pause, i) => expect(gaps[i]).toBeGreaterThanOrEqual(pause - 1));

  await sendJobs(
    queues.fanout.url,
    Array.from({ length: 12 }, (_, i) => `job-${i}`),
    (body) => body,
  );
  await mapping.idle();
  expect(peak).toBe(3);
  expect(mapping.stats).toMatchObject({ deletedMessages: 12 });
});
