import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import { startChat, type Chat } from "./harness";

// What stands between a sent message and its first push: DynamoDB round trips, counted
// on the client. A round trip is a set of commands in flight together; the next one starts
// after they all answered.
let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());

/** `keys`: how many keys a BatchGetItem asked for. */
type Span = { command: string; start: number; end: number; keys?: number };

/**
 * The deps with a store over a DynamoDB client of the test's own, each command's span
 * recorded, and the time the first broadcast starts posting.
 */
function recordedDeps() {
  const spans: Span[] = [];
  let firstPostAt: number | undefined;
  const client = createDynamoClient(chat.table.endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const start = performance.now();
      try {
        return await next(args);
      } finally {
        const { RequestItems } = args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> };
        spans.push({
          command: (context.commandName ?? "?").replace(/Command$/, ""),
          start,
          end: performance.now(),
          keys: RequestItems && Object.values(RequestItems)[0].Keys?.length,
        });
      }
    },
    { step: "initialize", name: "roundTripRecorder" },
  );
  const store = createChatStore(createChatService(createDocumentClient(client), chat.table.tableName));
  const delivery: typeof chat.deps.delivery = {
    broadcast: (ids, json, options) => {
      firstPostAt ??= performance.now();
      return chat.deps.delivery.broadcast(ids, json, options);
    },
  };
  return { spans, firstPostAt: () => firstPostAt, deps: { ...chat.deps, store, delivery } };
}

/** The commands started before `until`, as round trips: each a list of commands in flight together. */
function roundTrips(spans: Span[], until: number): string[][] {
  const before = spans.filter((s) => s.start <= until).sort((a, b) => a.start - b.start);
  const trips: { end: number; commands: string[] }[] = [];
  for (const span of before) {
    const last = trips.at(-1);
    if (last && span.start < last.end) {
      last.commands.push(span.command);
      last.end = Math.max(last.end, span.end);
    } else trips.push({ end: span.end, commands: [span.command] });
  }
  return trips.map((t) => t.commands.sort());
}

test.each([
  ["with room and clientId", { room: "trips", clientId: "c-trips-1" }, "TransactWriteItems"],
  ["with room alone", { room: "trips", clientId: undefined }, "PutItem"],
])(
  "sendmessage %s: three DynamoDB round trips before the first post (reads together, the store, the members)",
  async (_, fields, store) => {
    const sender = await chat.connect({ name: "sender", room: "trips" });
    await chat.connect({ name: "reader", room: "trips" });
    await chat.settle();
    const { spans, firstPostAt, deps } = recordedDeps();
    const event = sender.messageEvent({ action: "sendmessage", message: "hi", ...fields });
    expect((await chat.run(event, deps)).statusCode).toBe(200);
    expect(firstPostAt()).toBeDefined();
    const trips = roundTrips(spans, firstPostAt()!);
    console.log(`sendmessage ${_}: ${trips.map((t) => t.join("+")).join(" -> ")}`);
    // 1: membership, the room's head (its last seq) and the connection (the author kept for
    // edits and deletes, and the session of a clientId), one BatchGetItem; 2: the conditional put
    // that stores the message under the next seq (with a clientId, a transaction with its
    // record); 3: the members, consistent. The head moved up to the new seq and the message's
    // id indexed start with the posts, which do not wait for them.
    expect(trips).toEqual([["BatchGetItem"], [store], ["Query"]]);
  },
);

test("sendmessage without room reads the connection once: for its default room, then not in the batch", async () => {
  const sender = await chat.connect({ name: "sender", room: "trips-default" });
  await chat.connect({ name: "reader", room: "trips-default" });
  await chat.settle();
  const { spans, firstPostAt, deps } = recordedDeps();
  const reply = await chat.run(sender.messageEvent({ action: "sendmessage", message: "hi" }), deps);
  expect(JSON.parse(reply.body!)).toMatchObject({ type: "ack", room: "trips-default", seq: 1 });
  expect(roundTrips(spans, firstPostAt()!)).toEqual([["GetItem"], ["BatchGetItem"], ["PutItem"], ["Query"]]);
  // The membership and the room's head: the connection GetItem read is not asked for again.
  expect(spans.find((s) => s.command === "BatchGetItem")!.keys).toBe(2);
});

test("joinroom in a small room: four round trips (the connection, the join, the seq and the count together, the history)", async () => {
  await chat.connect({ name: "host", room: "trips-join" });
  const joiner = await chat.connect({ name: "joiner" });
  await chat.settle();
  const { spans, deps } = recordedDeps();
  const reply = await chat.run(joiner.messageEvent({ action: "joinroom", room: "trips-join" }), deps);
  expect(JSON.parse(reply.body!)).toMatchObject({ type: "joined", room: "trips-join", members: 2 });
  const trips = roundTrips(spans, Infinity);
  console.log(`joinroom: ${trips.map((t) => t.join("+")).join(" -> ")}`);
  // 3: the room's last seq (its head and newest event) beside its members, whose consistent
  // read both counts a small room and tells that it is small: the directory is not read.
  expect(trips).toEqual([["GetItem"], ["TransactWriteItems"], ["GetItem", "Query", "Query"], ["Query"]]);
});
