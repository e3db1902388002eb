import { existsSync, readFileSync } from "node:fs";
import aws4 from "aws4";
import { join } from "node:path";
import { directRoomName } from "../../handlers/direct-rooms";
import { routes } from "../../handlers/routes";
import { workers } from "../../handlers/workers";
import {
  startLambdaBackend,
  unpackLambdas,
  type LambdaBackend,
  type UnpackedLambdas,
} from "../support/lambda-backend";
import { connectionId, websocketEvent, type RouteLambdaResult } from "../support/pulumi-lambda";
import { runProgram } from "../support/pulumi-mocks";
import { localAws } from "../../model/client";

/**
 * The Lambdas exactly as `pulumi up` would upload them: each CallbackFunction's
 * archive, unpacked as Lambda unpacks it, loaded and invoked in a fresh Node
 * against DynamoDB Local, a loopback Management API that checks signatures and a
 * local SQS server (tests/support/lambda-backend.ts).
 */
const pkg = JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** npm marks `dev: true` what only devDependencies need; a devDependency some production package also needs is not. */
const lock = JSON.parse(readFileSync(join(__dirname, "../../package-lock.json"), "utf8")) as {
  packages: Record<string, { dev?: boolean }>;
};
const devOnly = Object.keys(pkg.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev);

/** Each archive: its label (a route key or a worker) and its function's name suffix. */
const archives = [
  ...routes.map((route) => [route.key, route.name] as const),
  ...workers.map((worker) => [worker.name, worker.name] as const),
];
let lambdas: UnpackedLambdas;
let backend: LambdaBackend;

// Pulumi serializing the functions takes minutes on a loaded 2-core machine: slow, not hung.
beforeAll(async () => {
  lambdas = await unpackLambdas(
    await runProgram("dev"),
    "dev",
    archives.map(([, name]) => name),
  );
  // A message to one recipient is posted inline, to more it goes through the fan-out queue
  // (Pulumi's default is 100 recipients), in two slices: both paths run with a handful of connections.
  backend = await startLambdaBackend(lambdas, { env: { INLINE_FANOUT_MAX: "1", FANOUT_SLICES: "2" } });
}, 600_000);

afterAll(async () => {
  await backend?.stop();
  lambdas?.remove();
}, 60_000);

/** Runs a route's or a worker's serialized Lambda with its Pulumi environment, pointed at the local backend. */
const invoke = (name: string, event?: unknown) => backend.invoke<RouteLambdaResult>(name, event);

describe.each(archives)("the %s archive", (_label, name) => {
  // check 1: `__index.js` plus the production dependencies, never a devDependency.
  it("holds __index.js and the production dependencies only", () => {
    const { dir, entries } = lambdas.get(name);
    expect(entries).toContain("__index.js");
    for (const entry of entries.filter((e) => e !== "__index.js")) expect(entry).toMatch(/^node_modules\//);
    for (const dependency of Object.keys(pkg.dependencies))
      expect(existsSync(join(dir, "node_modules", dependency))).toBe(true);
    for (const dev of [...devOnly, "jest", "ts-jest", "typescript", "@pulumi"]) {
      expect(existsSync(join(dir, "node_modules", dev))).toBe(false);
    }
  });

  // check 2: it loads in a fresh Node 22 (running the factory: the cold start) from the archive alone.
  it("loads in a fresh Node 22 with every module from the archive", async () => {
    const { dir, packagesDir, holds } = lambdas.get(name);
    const loaded = await invoke(name);
    expect(loaded.error).toBeUndefined();
    expect(loaded.node).toMatch(/^22\./);
    expect(loaded.handlerType).toBe("function");
    expect(loaded.modules.filter((file) => !holds(file))).toEqual([]);
    expect(loaded.modules).toContain(join(dir, "__index.js"));
    expect(loaded.modules).toContain(join(packagesDir, "node_modules/electrodb/index.js"));
    // Powertools' Logger and Metrics, built at cold start, from the archive's own copy.
    expect(loaded.modules).toContain(
      join(packagesDir, "node_modules/@aws-lambda-powertools/logger/lib/cjs/index.js"),
    );
    expect(loaded.modules).toContain(
      join(packagesDir, "node_modules/@aws-lambda-powertools/metrics/lib/cjs/index.js"),
    );
  });
});

const connection = (id: string) =>
  backend.table.service.entities.connection.get({ connectionId: id }).go({ consistent: true });
const messagesIn = async (room: string) =>
  (await backend.table.service.entities.message.query.byRoom({ room }).go()).data;

/** A connection opened through the packaged `$connect`, in `room`; returns its id. */
async function connectAs(name: string, room: string): Promise<string> {
  const id = connectionId();
  const event = websocketEvent("$connect", id, { query: { name, room } });
  const { result, error } = await invoke("connect", event);
  expect(error).toBeUndefined();
  expect(result).toEqual({ statusCode: 200 });
  return id;
}

/** Sends an action frame through its packaged route and returns the parsed reply. */
async function send(id: string, action: string, fields: Record<string, unknown> = {}) {
  const body = JSON.stringify({ action, ...fields });
  const { result } = await invoke(action, websocketEvent(action, id, { body }));
  expect(result!.statusCode).toBe(200);
  return JSON.parse(result!.body!) as Record<string, unknown>;
}

describe("the serialized handlers, invoked", () => {
  // check 3: $connect accepts the handshake and records the connection in its default room.
  it("$connect returns 200 and writes the connection", async () => {
    const alice = connectionId();
    const { result, logs } = await invoke(
      "connect",
      websocketEvent("$connect", alice, { query: { name: "alice" } }),
    );
    expect(result).toEqual({ statusCode: 200 });
    expect((await connection(alice)).data).toMatchObject({
      connectionId: alice,
      name: "alice",
      defaultRoom: "lobby",
    });
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "info", msg: "handled", route: "$connect", connectionId: alice }),
    );
  });

  // check 4: a second connection's join reaches the first through the packaged stream worker.
  it("$connect of a second user: the stream worker pushes a presence frame to the first", async () => {
    const alice = await connectAs("alice", "presence-room");
    await backend.idle();
    await connectAs("bob", "presence-room");
    await backend.idle();
    expect(backend.management.posts).toContainEqual({
      connectionId: alice,
      frame: { type: "presence", room: "presence-room", event: "join", name: "bob", guest: true },
    });
  });

  // check 5: the tutorial's frame: acknowledged once stored, then delivered by the stream worker.
  it("sendmessage acks, stores the message, and the stream worker delivers it to the room", async () => {
    const [alice, bob] = [await connectAs("alice", "chat-room"), await connectAs("bob", "chat-room")];
    const ack = await send(alice, "sendmessage", { message: "hello" });
    expect(ack).toMatchObject({
      type: "ack",
      room: "chat-room",
      id: expect.any(String),
      sentAt: expect.any(String),
    });
    expect(await messagesIn("chat-room")).toEqual([
      expect.objectContaining({ id: ack.id, text: "hello", from: "alice", room: "chat-room" }),
    ]);
    await backend.idle();
    expect(backend.management.posts).toContainEqual({
      connectionId: bob,
      frame: {
        type: "message",
        room: "chat-room",
        seq: ack.seq,
        id: ack.id,
        from: "alice",
        guest: true,
        text: "hello",
        sentAt: ack.sentAt,
      },
    });
  });

  // check 6: a frame that is not JSON gets an error frame back, and nothing is written.
  it("$default answers bad JSON with a BAD_JSON error frame", async () => {
    const alice = await connectAs("alice", "quiet-room");
    const { result } = await invoke("default", websocketEvent("$default", alice, { body: "hello?" }));
    expect(result!.statusCode).toBe(200);
    expect(JSON.parse(result!.body!)).toMatchObject({ type: "error", code: "BAD_JSON" });
    expect(await messagesIn("quiet-room")).toEqual([]);
  });

  // check 7: the other action routes answer through their own serialized Lambdas.
  it("joinroom, history, members, listrooms and leaveroom reply with their frames", async () => {
    const [alice] = [await connectAs("alice", "tour-room"), await connectAs("bob", "tour-room")];
    await send(alice, "sendmessage", { message: "hello" });
    expect(await send(alice, "joinroom", { room: "tour-side" })).toMatchObject({
      type: "joined",
      room: "tour-side",
      members: 1,
      history: [],
    });
    expect(await send(alice, "history", { room: "tour-room" })).toMatchObject({
      type: "history",
      room: "tour-room",
      messages: [expect.objectContaining({ text: "hello" })],
    });
    expect(await send(alice, "members", { room: "tour-room" })).toEqual({
      type: "members",
      room: "tour-room",
      members: expect.arrayContaining([
        { name: "alice", guest: true },
        { name: "bob", guest: true },
      ]),
      next: null,
    });
    await backend.idle();
    expect(await send(alice, "listrooms")).toEqual({
      type: "rooms",
      rooms: expect.arrayContaining([
        { room: "tour-room", members: 2 },
        { room: "tour-side", members: 1 },
      ]),
      next: null,
    });
    expect(await send(alice, "leaveroom", { room: "tour-side" })).toEqual({
      type: "left",
      room: "tour-side",
    });
  });

  // check 7b: with a token's identity (auth on), dm opens the pair's room through its own serialized
  // Lambda: the other user's connection is joined and told, may post, and listrooms marks the room.
  it("dm opens a pair's room, joins and tells the other user, and listrooms marks it", async () => {
    const signedIn = async (sub: string, name: string) => {
      const id = connectionId();
      const event = websocketEvent("$connect", id, {
        query: { room: "pair-lobby" },
        authorizer: { sub, name },
      });
      const { result, error } = await invoke("connect", event);
      expect(error).toBeUndefined();
      expect(result).toEqual({ statusCode: 200 });
      return id;
    };
    const [ann, bob] = [await signedIn("sub-ann", "ann"), await signedIn("sub-bob", "bob")];
    const room = directRoomName("sub-ann", "sub-bob");
    expect(await send(ann, "dm", { user: "sub-bob" })).toEqual({
      type: "joined",
      room,
      members: 2,
      history: [],
      next: null,
      seq: 0,
      dm: { with: "sub-bob", name: "bob" },
    });
    expect(backend.management.posts).toContainEqual({
      connectionId: bob,
      frame: expect.objectContaining({ type: "joined", room, dm: { with: "sub-ann", name: "ann" } }),
    });
    expect(await send(bob, "sendmessage", { room, message: "hi ann" })).toMatchObject({ type: "ack", room });
    await backend.idle();
    expect(backend.management.posts).toContainEqual({
      connectionId: ann,
      frame: expect.objectContaining({ type: "message", room, text: "hi ann" }),
    });
    expect(await send(ann, "listrooms")).toMatchObject({
      rooms: expect.arrayContaining([{ room, members: 2, private: true, dm: { with: "sub-bob" } }]),
    });
  });

  // check 7c: a private room's whole life through the packaged moderation routes (auth off, so
  // `user` is a member's display name): create, invite, join by code, roles, kick, ban, edit,
  // delete and revoke, each answered by its own serialized Lambda.
  it("createroom, invite, setrole, kick, ban, editmessage, deletemessage and revokeinvite work from their archives", async () => {
    const [ann, bob, cy, dan, eve] = await Promise.all(
      ["ann", "bob", "cy", "dan", "eve"].map((name) => connectAs(name, "mod-lobby")),
    );
    const room = "mod-den";
    expect(await send(ann, "createroom", { room, private: true })).toEqual({
      type: "created",
      room,
      private: true,
    });
    expect(await send(eve, "joinroom", { room })).toMatchObject({ type: "error", code: "FORBIDDEN" });
    const invite = await send(ann, "invite", { room });
    expect(invite).toMatchObject({ type: "invite", room, code: expect.any(String) });
    for (const member of [bob, cy, dan])
      expect(await send(member, "joinroom", { room, invite: invite.code })).toMatchObject({
        type: "joined",
        room,
      });

    expect(await send(ann, "setrole", { room, user: "bob", role: "moderator" })).toEqual({
      type: "role",
      room,
      user: "bob",
      role: "moderator",
    });
    expect(await send(bob, "kick", { room, user: "dan" })).toEqual({ type: "kicked", room, user: "dan" });
    expect(await send(dan, "sendmessage", { room, message: "still here?" })).toMatchObject({
      type: "error",
      code: "FORBIDDEN",
    });
    expect(await send(ann, "ban", { room, user: "cy", minutes: 5 })).toMatchObject({
      type: "banned",
      room,
      user: "cy",
    });
    expect(await send(cy, "joinroom", { room, invite: invite.code })).toMatchObject({
      type: "error",
      code: "BANNED",
    });

    const ack = await send(ann, "sendmessage", { room, message: "draft" });
    expect(await send(ann, "editmessage", { room, id: ack.id, message: "final" })).toMatchObject({
      type: "edited",
      room,
      id: ack.id,
    });
    expect(await send(bob, "editmessage", { room, id: ack.id, message: "mine now" })).toMatchObject({
      type: "error",
      code: "FORBIDDEN",
    });
    expect(await send(bob, "deletemessage", { room, id: ack.id })).toMatchObject({
      type: "deleted",
      room,
      id: ack.id,
    });
    await backend.idle();
    expect(backend.management.posts).toContainEqual({
      connectionId: ann,
      frame: expect.objectContaining({ type: "deleted", room, id: ack.id }),
    });

    expect(await send(ann, "revokeinvite", { room, code: invite.code })).toMatchObject({
      type: "revoked",
      room,
    });
    expect(await send(eve, "joinroom", { room, invite: invite.code })).toMatchObject({
      type: "error",
      code: "INVITE_INVALID",
    });
  });

  // check 8: $disconnect removes the connection it was called for.
  it("$disconnect removes the connection", async () => {
    const bob = await connectAs("bob", "exit-room");
    const { result } = await invoke("disconnect", websocketEvent("$disconnect", bob));
    expect(result!.statusCode).toBe(200);
    expect((await connection(bob)).data).toBeNull();
  });
});

// check 9: a room above INLINE_FANOUT_MAX goes to the local FIFO queue, by its real URL, and
// the fan-out archive delivers the jobs.
it("a message to a room above INLINE_FANOUT_MAX reaches its members through the queue and the fan-out archive", async () => {
  const [alice, bob, carol] = [
    await connectAs("alice", "big-room"),
    await connectAs("bob", "big-room"),
    await connectAs("carol", "big-room"),
  ];
  await backend.idle();
  const jobsBefore = backend.fanoutInvocations();
  const ack = await send(alice, "sendmessage", { message: "to the many" });
  await backend.idle();
  expect(backend.fanoutInvocations()).toBeGreaterThan(jobsBefore);
  for (const member of [bob, carol])
    expect(backend.management.posts).toContainEqual({
      connectionId: member,
      frame: expect.objectContaining({ type: "message", id: ack.id, text: "to the many" }),
    });
  expect(backend.management.posts).not.toContainEqual({
    connectionId: alice,
    frame: expect.objectContaining({ type: "message" }),
  });
});

// check 10: what the archives post is signed: the stand-in refuses unsigned and wrongly signed posts.
it("the Management API stand-in refuses a post that is unsigned or signed with another key", async () => {
  const url = new URL(`${backend.management.url}/@connections/${encodeURIComponent(connectionId())}`);
  const body = JSON.stringify({ type: "message", text: "forged" });
  const unsigned = await fetch(url, { method: "POST", body });
  const forged = aws4.sign(
    { host: url.host, path: url.pathname, method: "POST", body, service: "execute-api", region: "us-east-1" },
    { accessKeyId: localAws.credentials.accessKeyId, secretAccessKey: "not-the-local-secret" },
  );
  const wronglySigned = await fetch(url, {
    method: "POST",
    body,
    headers: forged.headers as Record<string, string>,
  });
  expect([unsigned.status, wronglySigned.status]).toEqual([403, 403]);
  expect(backend.management.posts.map((p) => p.frame)).not.toContainEqual(
    expect.objectContaining({ text: "forged" }),
  );
});
