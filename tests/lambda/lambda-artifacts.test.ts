import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { routes } from "../../handlers/routes";
import { workers } from "../../handlers/workers";
import { unpackArchive } from "../support/pulumi-archive";
import {
  connectionId,
  localLambdaEnv,
  runLambda,
  startManagementEndpoint,
  websocketEvent,
} from "../support/pulumi-lambda";
import { runProgram, type MockedResource } from "../support/pulumi-mocks";
import { freshTable, type FreshTable } from "../support/table";
import { startStreamMapping, type StreamMapping } from "../../local/stream-mapping";
import type { DynamoDBBatchResponse } from "aws-lambda";

/**
 * The Lambdas exactly as `pulumi up` would upload them: each CallbackFunction's
 * archive, unpacked as Lambda unpacks it, loaded and invoked in a fresh Node
 * against DynamoDB Local and a loopback Management API.
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

type Unpacked = { fn: MockedResource; dir: string; entries: string[] };
const unpacked = new Map<string, Unpacked>();
let workDir: string;
let table: FreshTable;
let stream: StreamMapping | undefined;
let management: Awaited<ReturnType<typeof startManagementEndpoint>>;

beforeAll(async () => {
  const run = await runProgram("dev");
  workDir = mkdtempSync(join(tmpdir(), "roomcast-lambda-"));
  for (const route of routes) {
    const fn = run
      .ofType("aws:lambda/function:Function")
      .find((f) => f.inputs.name === `roomcast-dev-${route.name}`)!;
    const dir = join(workDir, route.name);
    unpacked.set(route.key, { fn, dir, entries: await unpackArchive(fn.inputs.code, dir) });
  }
  for (const worker of workers) {
    const fn = run
      .ofType("aws:lambda/function:Function")
      .find((f) => f.inputs.name === `roomcast-dev-${worker.name}`)!;
    const dir = join(workDir, worker.name);
    unpacked.set(worker.name, { fn, dir, entries: await unpackArchive(fn.inputs.code, dir) });
  }
  [table, management] = await Promise.all([freshTable("roomcast-lambda"), startManagementEndpoint()]);
  // The table's stream feeds the packaged stream worker, as its event source mapping does on AWS.
  stream = await startStreamMapping({
    dynamodb: table.client,
    tableName: table.tableName,
    pollMs: 50,
    handler: async (event) => {
      const { result } = await invoke("stream", event);
      return result as unknown as DynamoDBBatchResponse;
    },
  });
}, 180_000);

afterAll(async () => {
  await stream?.stop();
  rmSync(workDir, { recursive: true, force: true });
  await Promise.all([table?.drop(), management?.close()]);
}, 60_000);

/** Runs a route's serialized Lambda with its Pulumi environment, pointed at the local table and endpoint. */
function invoke(routeKey: string, event?: unknown) {
  const { fn, dir } = unpacked.get(routeKey)!;
  return runLambda(dir, localLambdaEnv(fn, table, management.url), event);
}

describe.each([...routes.map((route) => route.key), ...workers.map((worker) => worker.name)])(
  "the %s archive",
  (routeKey) => {
    // check 1: `__index.js` plus the production dependencies, never a devDependency.
    it("holds __index.js and the production dependencies only", () => {
      const { dir, entries } = unpacked.get(routeKey)!;
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
      const { dir } = unpacked.get(routeKey)!;
      const loaded = await invoke(routeKey);
      expect(loaded.error).toBeUndefined();
      expect(loaded.node).toMatch(/^22\./);
      expect(loaded.handlerType).toBe("function");
      expect(loaded.modules.filter((file) => !file.startsWith(`${dir}/`))).toEqual([]);
      expect(loaded.modules).toContain(join(dir, "node_modules/electrodb/index.js"));
      // Powertools' Logger and Metrics, built at cold start, from the archive's own copy.
      expect(loaded.modules).toContain(
        join(dir, "node_modules/@aws-lambda-powertools/logger/lib/cjs/index.js"),
      );
      expect(loaded.modules).toContain(
        join(dir, "node_modules/@aws-lambda-powertools/metrics/lib/cjs/index.js"),
      );
    });
  },
);

describe("the serialized handlers, invoked", () => {
  const alice = connectionId();
  const bob = connectionId();
  const connection = (id: string) =>
    table.service.entities.connection.get({ connectionId: id }).go({ consistent: true });

  // check 3: $connect accepts the handshake and records the connection in its default room.
  it("$connect returns 200 and writes the connection", async () => {
    const { result, logs } = await invoke(
      "$connect",
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
    const { result } = await invoke("$connect", websocketEvent("$connect", bob, { query: { name: "bob" } }));
    expect(result).toEqual({ statusCode: 200 });
    await stream!.idle();
    expect(management.posts).toContainEqual({
      connectionId: alice,
      frame: { type: "presence", room: "lobby", event: "join", name: "bob", guest: true },
    });
  });

  // check 5: the tutorial's frame: acknowledged once stored, then delivered by the stream worker.
  it("sendmessage acks, stores the message, and the stream worker delivers it to the room", async () => {
    const body = JSON.stringify({ action: "sendmessage", message: "hello" });
    const { result } = await invoke("sendmessage", websocketEvent("sendmessage", alice, { body }));
    expect(result!.statusCode).toBe(200);
    const ack = JSON.parse(result!.body!);
    expect(ack).toMatchObject({
      type: "ack",
      room: "lobby",
      id: expect.any(String),
      sentAt: expect.any(String),
    });
    const stored = await table.service.entities.message.query.byRoom({ room: "lobby" }).go();
    expect(stored.data).toEqual([
      expect.objectContaining({ id: ack.id, text: "hello", from: "alice", room: "lobby" }),
    ]);
    await stream!.idle();
    expect(management.posts).toContainEqual({
      connectionId: bob,
      frame: {
        type: "message",
        room: "lobby",
        seq: ack.seq,
        id: ack.id,
        from: "alice",
        text: "hello",
        sentAt: ack.sentAt,
      },
    });
  });

  // check 6: a frame that is not JSON gets an error frame back, and nothing is written.
  it("$default answers bad JSON with a BAD_JSON error frame", async () => {
    const { result } = await invoke("$default", websocketEvent("$default", alice, { body: "hello?" }));
    expect(result!.statusCode).toBe(200);
    expect(JSON.parse(result!.body!)).toMatchObject({ type: "error", code: "BAD_JSON" });
    const stored = await table.service.entities.message.query.byRoom({ room: "lobby" }).go();
    expect(stored.data).toHaveLength(1);
  });

  // check 7: the other action routes answer through their own serialized Lambdas.
  it("joinroom, history, members, listrooms and leaveroom reply with their frames", async () => {
    const send = async (action: string, fields: Record<string, unknown> = {}) => {
      const body = JSON.stringify({ action, ...fields });
      const { result } = await invoke(action, websocketEvent(action, alice, { body }));
      return JSON.parse(result!.body!);
    };
    expect(await send("joinroom", { room: "pulumi" })).toMatchObject({
      type: "joined",
      room: "pulumi",
      members: 1,
      history: [],
    });
    expect(await send("history", { room: "lobby" })).toMatchObject({
      type: "history",
      room: "lobby",
      messages: [expect.objectContaining({ text: "hello" })],
    });
    expect(await send("members", { room: "lobby" })).toEqual({
      type: "members",
      room: "lobby",
      members: expect.arrayContaining([
        { name: "alice", guest: true },
        { name: "bob", guest: true },
      ]),
      next: null,
    });
    await stream!.idle();
    expect(await send("listrooms")).toEqual({
      type: "rooms",
      rooms: expect.arrayContaining([
        { room: "lobby", members: 2 },
        { room: "pulumi", members: 1 },
      ]),
      next: null,
    });
    expect(await send("leaveroom", { room: "pulumi" })).toEqual({ type: "left", room: "pulumi" });
  });

  // check 8: $disconnect removes the connection it was called for.
  it("$disconnect removes the connection", async () => {
    const { result } = await invoke("$disconnect", websocketEvent("$disconnect", bob));
    expect(result!.statusCode).toBe(200);
    expect((await connection(bob)).data).toBeNull();
  });
});
