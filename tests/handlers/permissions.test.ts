import { AsyncLocalStorage } from "node:async_hooks";
import http from "node:http";
import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { routes } from "../../handlers/routes";
import { roomSweepWorker, workers } from "../../handlers/workers";
import type { DynamoAction } from "../../handlers/permissions";
import * as clients from "../../model/client";
import { startAtWindowOpen } from "../support/clock";
import { wsClient, type WsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

// Least privilege per function, derived from what the handlers really do: every
// route and worker runs its success paths and main error paths on DynamoDB Local,
// and the DynamoDB actions, posts and queue sends each one made are compared with
// the `permissions` it declares (which the Pulumi program turns into its policy).

/** The route or worker whose handler is running: set around each `handle`, read by the recorders. */
const invoker = new AsyncLocalStorage<string>();
const functions = [...routes, ...workers];

const invoked = new Set<string>();
const tableActions = new Map<string, Set<string>>();
const posted = new Set<string>();
const queued = new Set<string>();

/** What IAM authorizes a TransactWriteItems by: each contained operation. */
const transactActions: Record<string, DynamoAction> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};

/** The IAM actions a command needs: its own name, or the operations inside a transaction. */
function actionsOf(command: string, input: Record<string, unknown>): string[] {
  const name = command.replace(/Command$/, "");
  if (name !== "TransactWriteItems") return [name];
  const items = (input.TransactItems ?? []) as Record<string, unknown>[];
  return items.flatMap((item) => Object.keys(item).map((op) => transactActions[op] ?? `TransactWrite:${op}`));
}

/** Who sent it: a command outside any handler (test setup) is charged to "outside". */
const current = () => invoker.getStore() ?? "outside";

function recordTableCommands(client: DynamoDBClient) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const actions = tableActions.get(current()) ?? new Set<string>();
      for (const action of actionsOf(context.commandName ?? "unknown", args.input as Record<string, unknown>))
        actions.add(action);
      tableActions.set(current(), actions);
      return next(args);
    },
    { step: "initialize", name: "permissionRecorder" },
  );
}

function recordQueueSends(client: SQSClient) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName?.startsWith("SendMessage")) queued.add(current());
      return next(args);
    },
    { step: "initialize", name: "permissionRecorder" },
  );
}

/** Each PostToConnection as it goes on the wire (the transport's own HTTP request). */
function recordPosts() {
  const request = http.request.bind(http) as (...args: unknown[]) => http.ClientRequest;
  jest.spyOn(http, "request").mockImplementation(((...args: unknown[]) => {
    const options = args[0] as http.RequestOptions;
    if (options.method === "POST" && options.path?.includes("/@connections/")) posted.add(current());
    return request(...args);
  }) as typeof http.request);
}

let chat: Chat;

beforeAll(async () => {
  // The deps are createDeps' own (what a cold start builds); each DynamoDB client it makes records.
  const createDynamoClient = clients.createDynamoClient;
  jest.spyOn(clients, "createDynamoClient").mockImplementation((endpoint) => {
    const client = createDynamoClient(endpoint);
    recordTableCommands(client);
    return client;
  });
  recordPosts();
  chat = await startChat({
    // Messages to more than 1 recipient go through the queue and the fan-out worker.
    inlineFanoutMax: "1",
    fanoutSlices: "2",
    rateLimitMessages: "10",
    // Reads and the per-user/session buckets on too, so every route takes its tokens.
    rateLimitReads: "50",
    userRateLimitMessages: "50",
    userRateLimitReads: "50",
    rateLimitWindowSeconds: "600",
    maxRoomsPerConnection: "3",
    // Every $connect counts its source IP's live connections (a Query) and claims a slot.
    maxConnectionsPerIp: "50",
    // Gone connections are removed at once, not kept for a connection still in `$connect`.
    connectGraceSeconds: "0",
  });
  recordQueueSends(chat.deps.fanoutQueue!.client);
  for (const fn of functions) {
    const handle = fn.handle.bind(fn) as (event: unknown, deps: unknown) => Promise<unknown>;
    jest.spyOn(fn, "handle").mockImplementation((event: unknown, deps: unknown) => {
      invoked.add(fn.name);
      return invoker.run(fn.name, () => handle(event, deps)) as never;
    });
  }
  await runScenarios();
}, 300_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await chat.close();
});

/** Every route's success paths and main error paths, and what they set off in the workers. */
async function runScenarios() {
  // $connect: a handshake, and one refused for its query.
  const ann = await chat.connect({ name: "ann", room: "garden", session: "s-ann-session-0001" });
  const ben = await chat.connect({ name: "ben", room: "garden" });
  const refused = await chat.run(wsClient().connectEvent({ name: "", room: "bad/room" }));
  expect(refused.statusCode).toBe(400);

  // sendmessage: to the default room (inline fan-out), to a named room, with a clientId and
  // its repeat, outside a room, over the rate limit, and a frame that is not JSON. Date starts
  // at a window's opening, so all of ann's sends count in one window.
  const realDate = startAtWindowOpen(600);
  expect(await chat.send(ann, { action: "sendmessage", message: "hi" })).toMatchObject({ type: "ack" });
  expect(
    await chat.send(ann, { action: "sendmessage", room: "garden", message: "again", clientId: "c1" }),
  ).toMatchObject({ type: "ack" });
  expect(await chat.send(ann, { action: "sendmessage", message: "again", clientId: "c1" })).toMatchObject({
    type: "ack",
  });
  expect(await chat.send(ben, { action: "sendmessage", room: "secret", message: "let me in" })).toMatchObject(
    {
      code: "NOT_A_MEMBER",
    },
  );
  // Two or three sends so far (a repeated clientId only re-acks): nine more certainly pass the limit of 10.
  const replies = [];
  for (let i = 0; i < 9; i++) replies.push(await chat.send(ann, { action: "sendmessage", message: `m${i}` }));
  expect(replies.at(-1)).toMatchObject({ code: "RATE_LIMITED" });
  // Joins and leaves take tokens from the same bucket: the scenario goes on with ann's refilled,
  // as a window later (the store keeps real time), emptied here by the test itself ("outside").
  await chat.table.doc.send(
    new DeleteCommand({
      TableName: chat.table.tableName,
      Key: { pk: `rate#conn#${ann.connectionId}#write`, sk: "rate" },
    }),
  );
  expect(await chat.send(ben, "{not json")).toMatchObject({ code: "BAD_JSON" });

  // joinroom: joins (announced), a repeat, past the rooms limit, an invalid room.
  expect(await chat.send(ben, { action: "joinroom", room: "porch" })).toMatchObject({ type: "joined" });
  expect(await chat.send(ann, { action: "joinroom", room: "porch" })).toMatchObject({ members: 2 });
  expect(await chat.send(ann, { action: "joinroom", room: "porch" })).toMatchObject({ type: "joined" });
  expect(await chat.send(ben, { action: "joinroom", room: "attic" })).toMatchObject({ type: "joined" });
  expect(await chat.send(ben, { action: "joinroom", room: "cellar" })).toMatchObject({ code: "INVALID" });
  expect(await chat.send(ben, { action: "joinroom", room: "bad/room" })).toMatchObject({ code: "INVALID" });

  // leaveroom: a member leaves (announced), a non-member tries.
  expect(await chat.send(ben, { action: "leaveroom", room: "attic" })).toMatchObject({ type: "left" });
  expect(await chat.send(ben, { action: "leaveroom", room: "attic" })).toMatchObject({
    code: "NOT_A_MEMBER",
  });

  // listrooms, history (first page, a later one, a non-member), members (a page, a non-member).
  // A connection whose first frame is listrooms: its user or session is looked up (GetItem) once.
  const lu = await chat.connect({ name: "lu", room: "garden" });
  expect(await chat.send(lu, { action: "listrooms" })).toMatchObject({ type: "rooms" });
  const page = await chat.send(ann, { action: "history", room: "garden", limit: 1 });
  expect(page).toMatchObject({ type: "history", next: expect.any(Number) });
  expect(await chat.send(ann, { action: "history", room: "garden", before: page.next })).toMatchObject({
    type: "history",
  });
  expect(await chat.send(ben, { action: "history", room: "attic" })).toMatchObject({ code: "NOT_A_MEMBER" });
  expect(await chat.send(ann, { action: "members", room: "porch" })).toMatchObject({ type: "members" });
  expect(await chat.send(ann, { action: "members", room: "attic" })).toMatchObject({ code: "NOT_A_MEMBER" });

  // resume: rooms rejoined with what came after their seq, one past the rooms limit, an invalid frame.
  const resumed = await chat.send(ann, {
    action: "resume",
    rooms: [
      { room: "garden", after: 1 },
      { room: "cellar", after: 0 },
      { room: "loft", after: 0 },
    ],
  });
  expect(resumed).toMatchObject({ type: "resumed", failed: [{ room: "loft", code: "INVALID" }] });
  expect(await chat.send(ann, { action: "leaveroom", room: "cellar" })).toMatchObject({ type: "left" });
  expect(await chat.send(ann, { action: "resume", rooms: [] })).toMatchObject({ code: "INVALID" });

  // session: issued once, the same on asking again.
  const issued = await chat.send(ann, { action: "session" });
  expect(issued).toMatchObject({ type: "session", session: expect.any(String) });
  expect(await chat.send(ann, { action: "session" })).toEqual(issued);

  // Room administration: createroom (and a taken name), invite (a code, a user directly, a
  // refusal), joinroom with a code and into an owned room, revokeinvite (and a repeat),
  // setrole, kick and ban (and refusals of each), by connections of their own (own rate buckets).
  const cat = await chat.connect({ name: "cat", room: "garden" });
  const owner = await chat.connect({ room: "garden" }, { authorizer: { sub: "sub-own", name: "own" } });
  const guestOfOwner = await chat.connect(
    { room: "garden" },
    { authorizer: { sub: "sub-gus", name: "gus" } },
  );
  expect(await chat.send(owner, { action: "createroom", room: "vault", private: true })).toMatchObject({
    type: "created",
  });
  expect(await chat.send(cat, { action: "createroom", room: "vault" })).toMatchObject({ code: "ROOM_TAKEN" });
  // A first joinroom racing a createroom (injected between its read and its write): taken back.
  const roomInUse = chat.deps.store.roomInUse;
  chat.deps.store.roomInUse = async (name) => {
    const inUse = await roomInUse(name);
    await chat.send(cat, { action: "joinroom", room: "raced" });
    return inUse;
  };
  try {
    expect(await chat.send(owner, { action: "createroom", room: "raced" })).toMatchObject({
      code: "ROOM_TAKEN",
    });
  } finally {
    chat.deps.store.roomInUse = roomInUse;
  }
  const code = (await chat.send(owner, { action: "invite", room: "vault" })).code as string;
  // One of gus's connections is gone: telling him of the invitation removes it.
  const gusGone = await chat.connect({ room: "garden" }, { authorizer: { sub: "sub-gus", name: "gus" } });
  chat.api.markGone(gusGone.connectionId);
  expect(await chat.send(owner, { action: "invite", room: "vault", user: "sub-gus" })).toMatchObject({
    user: "sub-gus",
  });
  expect(await chat.send(cat, { action: "invite", room: "vault" })).toMatchObject({ code: "FORBIDDEN" });
  expect(await chat.send(cat, { action: "joinroom", room: "vault" })).toMatchObject({ code: "FORBIDDEN" });
  expect(await chat.send(cat, { action: "joinroom", room: "vault", invite: code })).toMatchObject({
    type: "joined",
  });
  expect(await chat.send(guestOfOwner, { action: "joinroom", room: "vault" })).toMatchObject({
    type: "joined",
  });
  expect(await chat.send(owner, { action: "revokeinvite", room: "vault", code })).toMatchObject({
    type: "revoked",
  });
  expect(await chat.send(owner, { action: "revokeinvite", room: "vault", code })).toMatchObject({
    code: "INVITE_INVALID",
  });
  expect(
    await chat.send(cat, { action: "setrole", room: "vault", user: "sub-gus", role: "moderator" }),
  ).toMatchObject({ code: "FORBIDDEN" });
  // setrole, kick and ban tell their target's connections; one of gus's is gone each time (removed).
  const goneConnectionOfGus = async () => {
    const gone = await chat.connect({ room: "garden" }, { authorizer: { sub: "sub-gus", name: "gus" } });
    chat.api.markGone(gone.connectionId);
  };
  await goneConnectionOfGus();
  expect(
    await chat.send(owner, { action: "setrole", room: "vault", user: "sub-gus", role: "moderator" }),
  ).toMatchObject({ type: "role" });
  expect(await chat.send(guestOfOwner, { action: "kick", room: "vault", user: "sub-own" })).toMatchObject({
    code: "FORBIDDEN",
  });
  await goneConnectionOfGus();
  expect(await chat.send(owner, { action: "kick", room: "vault", user: "sub-gus" })).toMatchObject({
    type: "kicked",
  });
  expect(await chat.send(cat, { action: "ban", room: "vault", user: "sub-own" })).toMatchObject({
    code: "FORBIDDEN",
  });
  await goneConnectionOfGus();
  expect(await chat.send(owner, { action: "ban", room: "vault", user: "sub-gus", minutes: 5 })).toMatchObject(
    {
      type: "banned",
    },
  );
  expect(await chat.send(cat, { action: "leaveroom", room: "vault" })).toMatchObject({ type: "left" });

  // dm: opened (the other user's connections joined and told, one of them gone: removed),
  // reopened from the other side, refused to a guest and to oneself.
  const pen = await chat.connect({ room: "study" }, { authorizer: { sub: "sub-pen", name: "pen" } });
  const pat = await chat.connect({ room: "study" }, { authorizer: { sub: "sub-pat", name: "pat" } });
  const patGone = await chat.connect({ room: "study" }, { authorizer: { sub: "sub-pat", name: "pat" } });
  // The joins' presence posts first: one reaching patGone after it is gone would remove it before dm.
  await chat.settle();
  chat.api.markGone(patGone.connectionId);
  const opened = await chat.send(pen, { action: "dm", user: "sub-pat" });
  expect(opened).toMatchObject({ type: "joined" });
  // Counted before or after patGone is removed: the stream's presence post for its join to the
  // new room may find it gone before dm's own post does. Once settled, it is gone.
  expect([2, 3]).toContain(opened.members);
  const left = await chat.deps.store.membersOf(opened.room as string, { consistent: true });
  expect(left.map((m) => m.connectionId).sort()).toEqual([pen.connectionId, pat.connectionId].sort());
  expect(await chat.send(pat, { action: "dm", user: "sub-pen" })).toMatchObject({ type: "joined" });
  expect(await chat.send(cat, { action: "dm", user: "sub-pen" })).toMatchObject({ code: "FORBIDDEN" });
  expect(await chat.send(pen, { action: "dm", user: "sub-pen" })).toMatchObject({ code: "INVALID" });

  // $default: an action without a route.
  expect(await chat.send(ann, { action: "dance" })).toMatchObject({ code: "UNKNOWN_ACTION" });

  // A room above INLINE_FANOUT_MAX: jobs on the queue, the fan-out worker posts, one member gone.
  const hall = [ann, ben];
  for (const name of ["cy", "di", "ed"]) hall.push(await chat.connect({ name, room: "hall" }));
  for (const member of [ann, ben]) await chat.send(member, { action: "joinroom", room: "hall" });
  chat.api.markGone(hall[4].connectionId);
  // di's posts of the news fail through the slice's retries (a presence post repeated at
  // least once takes none of them): a retry job of her own delivers it.
  chat.api.failNext(hall[3].connectionId, 500, chat.deps.config.postMaxAttempts + 1, {
    containing: "big news",
  });
  const before = chat.api.posts.length;
  expect(await chat.send(hall[2], { action: "sendmessage", message: "big news" })).toMatchObject({
    type: "ack",
  });
  const news = chat.api.posts.slice(before).filter((p) => (p.frame as { text?: string }).text === "big news");
  expect(news.map((p) => p.connectionId).sort()).toEqual(
    [ann, ben, hall[3]].map((c) => c.connectionId).sort(),
  );

  // A gone member of a small room, found by the sender's own post.
  chat.api.markGone(ben.connectionId);
  await chat.send(ann, { action: "sendmessage", room: "porch", message: "ben?" });

  // A fast path that crashed after the store: the stream worker's safety net delivers and
  // marks the message, and hands a post that failed (lu's) to a retry job.
  const { store } = chat.deps;
  const smallRoomMembers = store.smallRoomMembers;
  let crashes = 1;
  store.smallRoomMembers = async (room, max) => {
    if (crashes-- > 0) throw new Error("injected crash after the store");
    return smallRoomMembers(room, max);
  };
  chat.api.failNext(lu.connectionId, 500, 1);
  try {
    await chat.send(ann, { action: "sendmessage", room: "garden", message: "late" });
  } finally {
    store.smallRoomMembers = smallRoomMembers;
  }
  expect(chat.api.framesTo(lu.connectionId)).toContainEqual(expect.objectContaining({ text: "late" }));

  // editmessage and deletemessage: a refusal of each, then each delivered as a message is, in
  // a room small enough for the fast path: once to a post that fails (a retry job), once to a
  // member gone (removed).
  const fay = await chat.connect({ name: "fay", room: "attic" });
  const gil = await chat.connect({ name: "gil", room: "attic" });
  const drafts: string[] = [];
  for (const message of ["draft", "second draft"]) {
    drafts.push((await chat.send(fay, { action: "sendmessage", message })).id as string);
  }
  const change = async (client: WsClient, frame: object, type: string) =>
    expect(await chat.send(client, { room: "attic", ...frame })).toMatchObject({ type });
  await change(gil, { action: "editmessage", id: drafts[0], message: "x" }, "error");
  await change(gil, { action: "deletemessage", id: drafts[0] }, "error");
  chat.api.failNext(gil.connectionId, 500, 1);
  await change(fay, { action: "editmessage", id: drafts[0], message: "final" }, "edited");
  chat.api.markGone(gil.connectionId);
  await change(fay, { action: "editmessage", id: drafts[0], message: "final!" }, "edited");
  const hal = await chat.connect({ name: "hal", room: "attic" });
  chat.api.failNext(hal.connectionId, 500, 1);
  await change(fay, { action: "deletemessage", id: drafts[0] }, "deleted");
  chat.api.markGone(hal.connectionId);
  await change(fay, { action: "deletemessage", id: drafts[1] }, "deleted");

  // $disconnect: the stream worker removes the memberships.
  await chat.disconnect(hall[3]);
  await chat.disconnect(wsClient());
  realDate();

  // The room sweep, on its schedule: a member whose connection expired (set by the test) is removed.
  await chat.expireMembership("garden", lu.connectionId);
  await roomSweepWorker.handle(undefined, chat.deps);
  await chat.settle();
}

const recorded = (name: string) => [...(tableActions.get(name) ?? [])].sort();

test("every route and every worker ran", () => {
  expect([...invoked].sort()).toEqual(functions.map((fn) => fn.name).sort());
});

describe.each(functions.map((fn) => [fn.name, fn] as const))("%s", (name, fn) => {
  test("declares exactly the DynamoDB actions its handler sent", () => {
    expect(recorded(name)).toEqual([...fn.permissions.table].sort());
  });

  test(`may post ${fn.permissions.post ? "and posted" : "and never posted"}`, () => {
    expect(posted.has(name)).toBe(fn.permissions.post);
  });

  test(`may send fan-out jobs only if it sent some`, () => {
    expect(queued.has(name)).toBe(fn.permissions.queue ?? false);
  });
});
