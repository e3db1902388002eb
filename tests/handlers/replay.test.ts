import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from "@aws-sdk/client-dynamodb-streams";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { configEnv } from "../../handlers/config";
import { streamWorker } from "../../handlers/workers";
import { toStreamEventRecord } from "../../local/stream-mapping";
import { localAws } from "../../model/client";
import {
  countMembershipChanges,
  replayStreamDeadLetters,
  supersededMembershipChange,
  type ReplayReport,
} from "../../scripts/replay-stream-dead-letters";
import { wsClient, type WsClient } from "../support/events";
import { repo, runInGroup } from "../support/child-process";
import { startChat, type Chat } from "./harness";

// Each test gets a chat of its own: a letter one test keeps in flight never reaches another.
let chat: Chat;
let sqs: SQSClient;
let streams: DynamoDBStreamsClient;
beforeEach(async () => {
  chat = await startChat({ connectGraceSeconds: "0" });
  sqs = new SQSClient({ ...localAws, endpoint: chat.events.sqsEndpoint });
  streams = new DynamoDBStreamsClient({ ...localAws, endpoint: chat.table.endpoint });
});
afterEach(async () => {
  sqs.destroy();
  streams.destroy();
  await chat.close();
});

const deadLetters = () => chat.events.queues.streamDeadLetter.url;

/** Resolves once a letter kept with a short visibility timeout can be received again (peeked, left visible). */
async function letterVisibleAgain() {
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetters(), MaxNumberOfMessages: 1, VisibilityTimeout: 0 }),
    );
    if (Messages.length) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Sender and two members of `room`; a message to it whose stream batch ends in the
 * dead-letter queue: reading the room's members fails (a fault of the store, for this
 * room only) in the sender's fast path and in every hand-over of the stream's safety net,
 * until `heal()`.
 */
async function messageToDeadLetters(room: string) {
  const [sender, ...members] = Array.from({ length: 3 }, () => wsClient());
  for (const [i, client] of [sender, ...members].entries()) {
    await chat.deps.store.connect({
      connectionId: client.connectionId,
      name: `${room}-${i}`,
      defaultRoom: room,
    });
  }
  await chat.settle();
  chat.api.clearRecords(); // the join announcements
  const { store } = chat.deps;
  const smallRoomMembers = store.smallRoomMembers;
  store.smallRoomMembers = async (of, max) => {
    if (of === room) throw new Error(`injected: ${room}'s members cannot be read`);
    return smallRoomMembers(of, max);
  };
  const ack = await chat.send(sender, { action: "sendmessage", message: `to ${room}` });
  expect(ack).toMatchObject({ type: "ack", room });
  for (const member of members) expect(chat.api.framesTo(member.connectionId)).toEqual([]);
  return { ack, members, heal: () => (store.smallRoomMembers = smallRoomMembers) };
}

const replay = (visibilityTimeoutSeconds = 300, superseded = supersededMembershipChange(chat.deps.store)) =>
  replayStreamDeadLetters({
    sqs,
    queueUrl: deadLetters(),
    streams,
    handle: (event) => streamWorker.handle(event, chat.deps),
    superseded,
    countLeftOut: countMembershipChanges(chat.deps.store),
    visibilityTimeoutSeconds,
  }) as Promise<ReplayReport>;

const idsTo = (client: WsClient) =>
  chat.api.framesTo(client.connectionId).map((f) => (f as { id?: string }).id);

test("a dead-lettered batch is read back from the stream and replayed once the cause is gone", async () => {
  const { ack, members, heal } = await messageToDeadLetters("replay-a");

  // The cause is still there: the letter is kept, with why, for the next run.
  const failedAgain = await replay(1);
  expect(failedAgain).toMatchObject({
    replayed: 0,
    kept: [{ reason: expect.stringMatching(/failed again/) }],
  });
  for (const member of members) expect(chat.api.framesTo(member.connectionId)).toEqual([]);

  heal();
  await letterVisibleAgain();
  const report = await replay();
  console.log(`replay: ${JSON.stringify(report)}`);
  expect(report.replayed).toBe(1);
  expect(report.records).toBeGreaterThanOrEqual(1);
  expect(report.kept).toEqual([]);
  for (const member of members) expect(idsTo(member)).toEqual([ack.id]);
  // Nothing left to replay.
  expect(await replay()).toEqual({ replayed: 0, records: 0, skipped: 0, kept: [] });
});

test("a letter that is not a stream batch's on-failure record is kept, and says so", async () => {
  await sqs.send(new SendMessageCommand({ QueueUrl: deadLetters(), MessageBody: '{"hello":"world"}' }));
  const report = await replay(1);
  expect(report).toMatchObject({
    replayed: 0,
    kept: [{ reason: expect.stringMatching(/DDBStreamBatchInfo/) }],
  });
  // It comes back, and an operator deletes it by hand.
  await letterVisibleAgain();
  const { Messages = [] } = await chat.events.receiveDeadLetters();
  expect(Messages.map((m) => m.Body)).toEqual(['{"hello":"world"}']);
  await sqs.send(
    new DeleteMessageCommand({ QueueUrl: deadLetters(), ReceiptHandle: Messages[0].ReceiptHandle }),
  );
});

test("npm run replay-stream does it from a terminal, with a deployed function's settings", async () => {
  // The replay runs in a process of its own, whose store has no fault.
  const { ack, members, heal } = await messageToDeadLetters("replay-cli");
  heal();
  const run = runInGroup("npm", ["run", "-s", "replay-stream"], {
    cwd: repo,
    env: {
      ...process.env,
      STREAM_DLQ_URL: deadLetters(),
      [configEnv.tableName]: chat.table.tableName,
      [configEnv.dynamodbEndpoint]: chat.table.endpoint,
      [configEnv.managementEndpoint]: chat.api.url,
      [configEnv.sqsEndpoint]: chat.events.sqsEndpoint,
      [configEnv.fanoutQueueUrl]: chat.events.queues.fanout.url,
    },
  });
  const exit = await run.exited;
  console.log(`npm run replay-stream printed:\n${run.output()}`);
  expect(run.output()).toMatch(
    /^1 dead letter\(s\) replayed \(\d+ record\(s\), 0 superseded left out\), 0 kept$/m,
  );
  expect(exit.code).toBe(0);
  for (const member of members) expect(idsTo(member)).toEqual([ack.id]);
}, 120_000);

/** The table's stream records so far, oldest first (every shard, from its start). */
async function streamRecords(): Promise<{ streamArn: string; shardId: string; record: _Record }[]> {
  const { Table } = await chat.table.client.send(
    new DescribeTableCommand({ TableName: chat.table.tableName }),
  );
  const streamArn = Table!.LatestStreamArn!;
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const all = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    for (let empty = 0; iterator && empty < 3;) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      iterator = page.NextShardIterator;
      empty = page.Records?.length ? 0 : empty + 1;
      for (const record of page.Records ?? []) all.push({ streamArn, shardId: shard.ShardId!, record });
    }
  }
  return all;
}

/** A dead letter for the stream record of `room`'s membership `eventName`, as Lambda's on-failure destination writes it. */
async function deadLetterFor(room: string, eventName: "INSERT" | "REMOVE") {
  const found = (await streamRecords()).find(
    ({ record }) => record.eventName === eventName && record.dynamodb?.Keys?.pk?.S === room,
  );
  expect(found).toBeDefined();
  const sequenceNumber = found!.record.dynamodb!.SequenceNumber!;
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetters(),
      MessageBody: JSON.stringify({
        DDBStreamBatchInfo: {
          shardId: found!.shardId,
          startSequenceNumber: sequenceNumber,
          endSequenceNumber: sequenceNumber,
          batchSize: 1,
          streamArn: found!.streamArn,
        },
      }),
    }),
  );
}

const counted = async () =>
  Object.fromEntries((await chat.deps.store.listRooms()).map((r) => [r.room, r.members]));

/** Runs `run` while every stream batch counting a change of `connectionId` fails, so it ends in the dead-letter queue. */
async function withCountingFailing(connectionId: string, run: () => Promise<void>) {
  const { store } = chat.deps;
  const apply = store.applyRoomChanges;
  store.applyRoomChanges = async (changes) => {
    if (changes.some((c) => c.connectionId === connectionId)) throw new Error("counting failed (test)");
    return apply(changes);
  };
  try {
    await run();
  } finally {
    store.applyRoomChanges = apply;
  }
}

const joinAs = (client: WsClient, name: string, room: string) =>
  chat.deps.store.connect({ connectionId: client.connectionId, name, defaultRoom: room });

test("a join replayed after later joins were counted counts once, however often it comes back", async () => {
  const room = "late-join";
  const [first, late, last] = [wsClient(), wsClient(), wsClient()];
  await joinAs(first, "first", room);
  await chat.settle();
  await withCountingFailing(late.connectionId, async () => {
    await joinAs(late, "late", room);
    await chat.settle();
  });
  await joinAs(last, "last", room);
  await chat.settle();
  expect((await counted())[room]).toBe(2);
  const report = await replay();
  expect(report).toMatchObject({ skipped: 0, kept: [] });
  expect(report.replayed).toBeGreaterThanOrEqual(1);
  expect((await counted())[room]).toBe(3);
  // The first join's record again, counted long ago.
  await deadLetterFor(room, "INSERT");
  expect(await replay()).toMatchObject({ replayed: 1, kept: [] });
  expect((await counted())[room]).toBe(3);
});

test("a dead-lettered join whose member has left since is counted, not announced", async () => {
  const room = "left-since";
  const [ghost, stays] = [wsClient(), wsClient()];
  await withCountingFailing(ghost.connectionId, async () => {
    await joinAs(ghost, "ghost", room);
    await chat.settle();
  });
  await chat.deps.store.disconnect(ghost.connectionId);
  await joinAs(stays, "stays", room);
  await chat.settle();
  // Until the replay, the leave is counted without its join.
  expect((await counted())[room]).toBeUndefined();
  chat.api.clearRecords();
  const report = await replay();
  expect(report).toMatchObject({ skipped: 1, kept: [] });
  expect((await counted())[room]).toBe(1);
  expect(chat.api.framesTo(stays.connectionId)).toEqual([]);
});

test("a replayed join counted already counts nothing, whether it is left out as superseded or not", async () => {
  for (const [room, filter] of [
    ["ghost-unfiltered", async () => false],
    ["ghost-filtered", supersededMembershipChange(chat.deps.store)],
  ] as const) {
    const member = await chat.deps.store.connect({
      connectionId: wsClient().connectionId,
      name: room,
      defaultRoom: room,
    });
    await chat.deps.store.disconnect(member.connectionId);
    await chat.settle();
    expect((await counted())[room]).toBeUndefined();
    // Its room entry is gone (the count reached 0), its record is still marked counted.
    await deadLetterFor(room, "INSERT");
    const report = await replay(300, filter);
    expect(report).toMatchObject({ replayed: 1, skipped: room === "ghost-filtered" ? 1 : 0, kept: [] });
  }
  const after = await counted();
  expect(after["ghost-unfiltered"]).toBeUndefined();
  expect(after["ghost-filtered"]).toBeUndefined();
});

test("supersededMembershipChange reads the table as it is now", async () => {
  const room = "superseded";
  const superseded = supersededMembershipChange(chat.deps.store);
  const member = await chat.deps.store.connect({
    connectionId: wsClient().connectionId,
    name: "s",
    defaultRoom: room,
  });
  await chat.deps.store.leave(member.connectionId, room);
  await chat.settle();
  const change = async (eventName: string) => {
    const found = [...(await streamRecords())]
      .reverse()
      .find(({ record }) => record.eventName === eventName && record.dynamodb?.Keys?.pk?.S === room)!;
    return toStreamEventRecord(found.record, found.streamArn);
  };
  const [joined, left] = [await change("INSERT"), await change("REMOVE")];
  // Left: the join no longer holds, the leave does.
  expect(await superseded(joined)).toBe(true);
  expect(await superseded(left)).toBe(false);
  // Back again: the other way round.
  expect(await chat.deps.store.join((await chat.deps.store.getConnection(member.connectionId))!, room)).toBe(
    "joined",
  );
  expect(await superseded(joined)).toBe(false);
  expect(await superseded(left)).toBe(true);
  await chat.deps.store.disconnect(member.connectionId);
  await chat.settle();
});
