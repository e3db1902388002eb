import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBBatchResponse, DynamoDBRecord } from "aws-lambda";
import { normalizeStreamRecord } from "../../handlers/delivery/stream-records";
import { tableDefinition } from "../../model/table";
import {
  createRoomcastQueues,
  createSqsClient,
  startSqsServer,
  type SqsServer,
} from "../../local/sqs-server";
import {
  startStreamMapping,
  type StreamMapping,
  type StreamMappingOptions,
} from "../../local/stream-mapping";
import { eventually } from "../support/storm-table";
import { streamTable } from "../support/stream-table";

let table: Awaited<ReturnType<typeof streamTable>>;
let sqs: SqsServer;
let sqsClient: SQSClient;
const mappings: StreamMapping[] = [];

beforeAll(async () => {
  table = await streamTable();
  sqs = await startSqsServer();
  sqsClient = createSqsClient(sqs.endpoint);
});

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((mapping) => mapping.stop()));
});

afterAll(async () => {
  await table.drop();
  sqsClient.destroy();
  await sqs.stop();
});

async function map(options: Partial<StreamMappingOptions> & Pick<StreamMappingOptions, "handler">) {
  const mapping = await startStreamMapping({
    dynamodb: table.client,
    tableName: table.tableName,
    pollMs: 50,
    retryBackoffMs: 20,
    ...options,
  });
  mappings.push(mapping);
  return mapping;
}

const key = (pk: string, sk = "item") => ({ pk: { S: pk }, sk: { S: sk } });
const put = (pk: string, extra: Record<string, { S: string } | { N: string }> = {}) =>
  table.client.send(new PutItemCommand({ TableName: table.tableName, Item: { ...key(pk), ...extra } }));
const pkOf = (record: DynamoDBRecord) => record.dynamodb?.Keys?.pk?.S;

test("inserts, modifies and removes arrive in order as a real DynamoDBStreamEvent", async () => {
  const seen: DynamoDBRecord[] = [];
  const mapping = await map({ handler: async (event) => void seen.push(...event.Records) });
  const started = Date.now();
  await put("order-a", { v: { S: "1" } });
  await table.client.send(
    new UpdateItemCommand({
      TableName: table.tableName,
      Key: key("order-a"),
      UpdateExpression: "SET v = :v",
      ExpressionAttributeValues: { ":v": { S: "2" } },
    }),
  );
  await table.client.send(new DeleteItemCommand({ TableName: table.tableName, Key: key("order-a") }));
  await mapping.idle();
  console.log(`stream: 3 writes seen ${Date.now() - started} ms after the first (pollMs 50)`);
  expect(seen.map((r) => r.eventName)).toEqual(["INSERT", "MODIFY", "REMOVE"]);
  expect(seen[0]).toMatchObject({
    eventSource: "aws:dynamodb",
    eventSourceARN: mapping.streamArn,
    awsRegion: "us-east-1",
    dynamodb: { Keys: key("order-a"), NewImage: { v: { S: "1" } }, StreamViewType: "NEW_AND_OLD_IMAGES" },
  });
  expect(seen[1].dynamodb).toMatchObject({ OldImage: { v: { S: "1" } }, NewImage: { v: { S: "2" } } });
  expect(seen[0].dynamodb?.ApproximateCreationDateTime).toEqual(expect.any(Number));
  expect(seen.map((r) => normalizeStreamRecord(r).kind)).toEqual(["insert", "modify", "remove"]);
});

test("a thrown handler gets the whole batch again", async () => {
  const attempts: string[][] = [];
  const mapping = await map({
    handler: async (event) => {
      attempts.push(event.Records.map((r) => pkOf(r)!));
      if (attempts.length === 1) throw new Error("worker crashed");
    },
  });
  await put("throw-1");
  await put("throw-2");
  await mapping.idle();
  const all = attempts.flat();
  expect(all.filter((pk) => pk === "throw-1")).toHaveLength(2);
  expect(attempts[1][0]).toBe("throw-1");
  expect(mapping.stats.failedInvocations).toBe(1);
});

test("retries back off, doubling: five retries outlast a 1.5 s outage that fixed 100 ms pauses would not", async () => {
  let firstCall: number | undefined;
  const calls: number[] = [];
  const mapping = await map({
    retryBackoffMs: 100,
    maximumRetryAttempts: 5,
    handler: async () => {
      const now = Date.now();
      firstCall ??= now;
      calls.push(now - firstCall);
      if (now - firstCall < 1_500) throw new Error("DynamoDB Local is restarting");
    },
  });
  await put("outage-1");
  await mapping.idle();
  const pauses = calls.slice(1).map((at, i) => at - calls[i]);
  console.log(`stream retries: calls at ${calls.join(", ")} ms after the first`);
  expect(mapping.stats.discardedBatches).toBe(0);
  expect(calls.at(-1)).toBeGreaterThanOrEqual(1_500);
  // 100, 200, 400, 800 ms: each pause at least the doubled backoff.
  pauses.forEach((pause, i) => expect(pause).toBeGreaterThanOrEqual(100 * 2 ** i - 5));
});

test("a reported itemIdentifier resumes at that record, not before", async () => {
  const attempts: string[][] = [];
  let failedAt: number | undefined;
  let answered!: () => void;
  const written = new Promise<void>((resolve) => (answered = resolve));
  const mapping = await map({
    handler: async (event): Promise<DynamoDBBatchResponse> => {
      attempts.push(event.Records.map((r) => pkOf(r)!));
      // The first batch of three or more reports its third record. A loaded DynamoDB Local may
      // hand the five writes over in more than one batch: a shorter batch before it returns only
      // once the write has answered, so the records left come in one batch (a shard's batches
      // are handed over one at a time).
      const third = event.Records[2];
      if (failedAt === undefined && third) {
        failedAt = attempts.length - 1;
        return { batchItemFailures: [{ itemIdentifier: third.dynamodb!.SequenceNumber! }] };
      }
      if (failedAt === undefined) await written;
      return { batchItemFailures: [] };
    },
  });
  // One request, so the five records are in the stream together as a rule.
  await table.client.send(
    new BatchWriteItemCommand({
      RequestItems: {
        [table.tableName]: [1, 2, 3, 4, 5].map((i) => ({ PutRequest: { Item: key(`resume-${i}`) } })),
      },
    }),
  );
  answered();
  await mapping.idle();
  expect(failedAt).toBeDefined();
  const failed = attempts[failedAt!];
  // The retry starts at the reported record: the two before it are not handed over again.
  expect(attempts[failedAt! + 1].slice(0, failed.length - 2)).toEqual(failed.slice(2));
  const handled = [
    ...attempts.slice(0, failedAt!),
    failed.slice(0, 2),
    ...attempts.slice(failedAt! + 1),
  ].flat();
  expect(handled).toEqual(["resume-1", "resume-2", "resume-3", "resume-4", "resume-5"]);
  expect(mapping.stats).toMatchObject({ processedRecords: 5, failedInvocations: 1 });
});

test("ParallelizationFactor 2: a key whose batch keeps failing holds only its lane; each key's records stay in order", async () => {
  let stuck = true;
  const arrivals: { pk: string; n: number }[] = [];
  const mapping = await map({
    parallelizationFactor: 2,
    maximumRetryAttempts: 10_000,
    maxRetryBackoffMs: 50,
    handler: async (event): Promise<DynamoDBBatchResponse> => {
      for (const record of event.Records) {
        if (pkOf(record) === "stuck" && stuck) {
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber! }] };
        }
        arrivals.push({ pk: pkOf(record)!, n: Number(record.dynamodb!.NewImage!.n.N) });
      }
      return { batchItemFailures: [] };
    },
  });
  await put("stuck", { n: { N: "0" } });
  const keys = Array.from({ length: 10 }, (_, k) => `lane-key-${k}`);
  for (let n = 0; n < 5; n++) for (const pk of keys) await put(pk, { n: { N: String(n) } });

  // The keys of the other lane go through while "stuck" is still failing.
  await eventually(async () => expect(arrivals.length).toBeGreaterThan(0));
  expect(arrivals.map((a) => a.pk)).not.toContain("stuck");
  stuck = false;
  await mapping.idle();

  for (const pk of [...keys, "stuck"]) {
    const firsts = [...new Set(arrivals.filter((a) => a.pk === pk).map((a) => a.n))];
    expect(firsts).toEqual(pk === "stuck" ? [0] : [0, 1, 2, 3, 4]);
  }
});

test("a batch out of retries goes to the stream DLQ and the shard moves on", async () => {
  const queues = await createRoomcastQueues(sqsClient, "stream-t");
  const delivered: string[] = [];
  const mapping = await map({
    maximumRetryAttempts: 2,
    batchSize: 1,
    onFailure: { client: sqsClient, queueUrl: queues.streamDeadLetter.url },
    handler: async (event) => {
      for (const record of event.Records) {
        if (pkOf(record) === "poison") throw new Error("cannot handle");
        delivered.push(pkOf(record)!);
      }
    },
  });
  await put("poison");
  await put("after-poison");
  await mapping.idle();
  expect(delivered).toEqual(["after-poison"]);
  expect(mapping.stats).toMatchObject({ discardedBatches: 1, invocations: 4 }); // 1 + 2 retries + next
  const { Messages = [] } = await sqsClient.send(
    new ReceiveMessageCommand({ QueueUrl: queues.streamDeadLetter.url, MaxNumberOfMessages: 10 }),
  );
  expect(Messages).toHaveLength(1);
  expect(JSON.parse(Messages[0].Body!)).toMatchObject({
    requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: 3 },
    DDBStreamBatchInfo: { batchSize: 1, streamArn: mapping.streamArn, shardId: expect.any(String) },
  });
});

test("DynamoDB Local's own TTL delete is seen and normalized as a TTL removal", async () => {
  const seen: DynamoDBRecord[] = [];
  const mapping = await map({ handler: async (event) => void seen.push(...event.Records) });
  const expiredAt = Math.floor(Date.now() / 1000) - 1;
  await put("expiring", { [tableDefinition.ttlAttribute]: { N: String(expiredAt) } });
  const started = Date.now();
  while (!seen.some((r) => r.eventName !== "INSERT") && Date.now() - started < 15_000)
    await new Promise((resolve) => setTimeout(resolve, 100));
  console.log(`stream: DynamoDB Local's TTL delete seen ${Date.now() - started} ms after the put`);
  await mapping.idle();
  const deletion = seen.find((r) => r.eventName !== "INSERT")!;
  expect(deletion.eventName).toBe("UNKNOWN_TO_SDK_VERSION");
  expect(deletion.userIdentity).toBeUndefined();
  expect(normalizeStreamRecord(deletion)).toMatchObject({
    kind: "remove",
    ttl: true,
    oldImage: { pk: "expiring", [tableDefinition.ttlAttribute]: expiredAt },
  });
});
