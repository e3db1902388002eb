import { setTimeout as delay } from "node:timers/promises";
import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { eventually, openStackTable, type StackTable } from "../support/storm-table";
import { connect, type Frame, type TestClient } from "../support/ws-client";

// The gateway's fault mode: a closed socket never fires `$disconnect`, so only a
// broadcast's 410s and TTL can clean up. Expired items stay readable for ttlDelayMs
// (the local sweeper, DynamoDB Local's own TTL off), as AWS keeps them for up to days.
const ttlDelayMs = 15_000;
/**
 * Connections named `lost-*` expire this soon; the rest live the default 2 h 5 min. Long
 * enough that the counts before expiry are read before a worker could tidy an expired member.
 */
const shortTtlSeconds = 8;
/** DynamoDB Local alone deletes expired items 9.9-10.8 s after expiry (measured). */
const dynamodbLocalTtlMs = 11_000;

let stack: LocalStack;
let table: StackTable;
/** The client of the store that gives `lost-*` connections their short TTL. */
const lostClient = createDynamoClient(process.env.DYNAMODB_ENDPOINT);

beforeAll(async () => {
  const tableName = `lost-disconnects-${Date.now()}`;
  // A stack-wide CONNECTION_TTL_SECONDS=3 would expire the listeners too (activity does not
  // renew it): only the clients that are going to be lost get the short TTL.
  const lostStore = createChatStore(createChatService(createDocumentClient(lostClient), tableName), {
    connectionTtlSeconds: shortTtlSeconds,
  });
  stack = await startTestStack({
    tableName,
    gateway: { dropDisconnects: true },
    ttlDelayMs,
    // A 410 removes a connection older than 1 s (30 s by default: these are seconds old).
    env: { CONNECT_GRACE_SECONDS: "1" },
    overrideDeps: ({ store }) => ({
      store: { ...store, connect: (c) => (c.name.startsWith("lost-") ? lostStore : store).connect(c) },
    }),
  });
  table = openStackTable(stack);
}, 60_000);

afterAll(async () => {
  table?.close();
  await stack?.stop();
  lostClient.destroy();
});

/** A `ws` client named `name` in `room`, also joined to `also`. */
async function client(name: string, room: string, ...also: string[]): Promise<TestClient> {
  const c = await connect(`${stack.wsUrl}?name=${name}&room=${room}`);
  for (const other of also) await ask(c, { action: "joinroom", room: other }, "joined");
  return c;
}

async function ask(c: TestClient, frame: object, type: string): Promise<Frame> {
  c.send(frame);
  return c.next((f) => f.type === type || f.type === "error");
}

const namesIn = async (c: TestClient, room: string) =>
  ((await ask(c, { action: "members", room }, "members")).members as { name: string }[])
    .map((m) => m.name)
    .sort();

async function counts(c: TestClient, ...rooms: string[]) {
  await stack.settled();
  const listed = (await ask(c, { action: "listrooms" }, "rooms")).rooms as {
    room: string;
    members: number;
  }[];
  return Object.fromEntries(
    rooms.map((room) => [room, listed.find((r) => r.room === room)?.members ?? "not listed"]),
  );
}

/** Raw membership items of these rooms (a Scan: what no read path filters). */
const rawMembers = async (...rooms: string[]) =>
  (await table.itemsOf("membership"))
    .filter((item) => rooms.includes(item.pk as string))
    .map((item) => `${item.pk as string}:${item.n as string}`)
    .sort();

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Closes once the join announcements went out: a post after the close would answer 410 and clean up. */
async function closeAll(clients: TestClient[]) {
  await stack.settled();
  await Promise.all(clients.map((c) => c.close()));
}

it("expired-but-present members are ignored by reads and counted until deleted; a broadcast removes the closed (410) and the expired ones", async () => {
  const [lobby, side] = ["lobby-a", "side-a"];
  const steady = await Promise.all(names("steady", 3).map((n) => client(n, lobby, side)));
  const connected = Date.now();
  const lost = await Promise.all(names("lost", 4).map((n, i) => client(n, lobby, ...(i < 2 ? [side] : []))));
  const gone = await Promise.all(names("gone", 4).map((n, i) => client(n, lobby, ...(i < 2 ? [side] : []))));
  await closeAll([...lost, ...gone]);
  const [sender] = steady;
  expect(await counts(sender, lobby, side)).toEqual({ [lobby]: 11, [side]: 7 });

  // The lost ones expire; no $disconnect came for anyone.
  await delay(connected + (shortTtlSeconds + 1) * 1000 - Date.now());
  const expiredAt = Date.now();
  expect(await namesIn(sender, lobby)).toEqual([...names("gone", 4), ...names("steady", 3)]);
  expect(await namesIn(sender, side)).toEqual(["gone-0", "gone-1", ...names("steady", 3)]);
  // Counts move only when an item is deleted: the expired members are still counted.
  expect(await counts(sender, lobby, side)).toEqual({ [lobby]: 11, [side]: 7 });
  expect(await rawMembers(lobby, side)).toHaveLength(18);

  // A broadcast posts to the live members: the closed ones answer 410 and go, from both rooms;
  // the expired ones are not posted to, and the workers' reads of each room delete them.
  expect(await ask(sender, { action: "sendmessage", message: "anyone there?" }, "ack")).toMatchObject({
    room: lobby,
  });
  await Promise.all(
    steady.slice(1).map((c) => c.next((f) => f.type === "message" && f.text === "anyone there?")),
  );
  expect(await counts(sender, lobby, side)).toEqual({ [lobby]: 3, [side]: 3 });
  const afterBroadcast = Date.now() - expiredAt;
  expect(await rawMembers(lobby, side)).toEqual(
    names("steady", 3)
      .flatMap((n) => [`${lobby}:${n}`, `${side}:${n}`])
      .sort(),
  );
  for (const connection of await table.itemsOf("connection")) expect(connection.name).not.toMatch(/^gone-/);

  // The sweeper deletes the expired connection records later; the counts were exact already.
  const swept = await eventually(async () => {
    const left = (await table.itemsOf("connection")).filter((c) => String(c.name).startsWith("lost-"));
    expect(left).toEqual([]);
    return Date.now() - connected;
  }, ttlDelayMs + 15_000);
  expect(await counts(sender, lobby, side)).toEqual({ [lobby]: 3, [side]: 3 });
  console.log(
    `lost disconnects + broadcast: counts 11/7 while 4 expired and 4 closed; broadcast ${afterBroadcast} ms ` +
      `after expiry -> exact 3/3 (4 closed removed by 410, 4 expired removed by the workers' reads); ` +
      `expired records swept ${swept} ms after connect (TTL ${shortTtlSeconds} s + delay ${ttlDelayMs / 1000} s)`,
  );
  await closeAll(steady);
}, 120_000);

it("with no broadcast, deleting the expired items makes counts and the room list exact, leaving no membership", async () => {
  const [lobby, ghostRoom] = ["lobby-b", "ghosts-b"];
  const [watcher] = await Promise.all([client("steady-b", lobby)]);
  const connected = Date.now();
  const lost = await Promise.all(
    names("lost-b", 5).map((n, i) => client(n, lobby, ...(i < 3 ? [ghostRoom] : []))),
  );
  await closeAll(lost);
  expect(await counts(watcher, lobby, ghostRoom)).toEqual({ [lobby]: 6, [ghostRoom]: 3 });

  // Watch the raw items: present well past expiry, longer than DynamoDB Local's own TTL would keep them.
  const expiry = connected + shortTtlSeconds * 1000;
  let lastSeen = Date.now();
  let staleCounts: Record<string, number | string> | undefined;
  while ((await rawMembers(lobby, ghostRoom)).length > 1) {
    lastSeen = Date.now();
    if (!staleCounts && lastSeen > expiry + 2_000) {
      expect(await namesIn(watcher, lobby)).toEqual(["steady-b"]);
      staleCounts = await counts(watcher, lobby, ghostRoom);
    }
    if (lastSeen - expiry > ttlDelayMs + 15_000) throw new Error("expired items never deleted");
    await delay(250);
  }
  const goneAt = Date.now() - expiry;
  expect(staleCounts).toEqual({ [lobby]: 6, [ghostRoom]: 3 });
  expect(lastSeen - expiry).toBeGreaterThan(dynamodbLocalTtlMs);

  // One sweep deletes memberships and connection records in key order: the records may follow.
  await eventually(async () => {
    const connections = (await table.itemsOf("connection")).map((c) => String(c.name));
    expect(connections.filter((n) => n.startsWith("lost-b"))).toEqual([]);
  }, 15_000);
  expect(await counts(watcher, lobby, ghostRoom)).toEqual({ [lobby]: 1, [ghostRoom]: "not listed" });
  expect(await rawMembers(lobby, ghostRoom)).toEqual([`${lobby}:steady-b`]);
  console.log(
    `lost disconnects, no broadcast: counts stayed 6/3 while expired; items present ${lastSeen - expiry} ms ` +
      `after expiry, deleted by ${goneAt} ms (delay ${ttlDelayMs} ms); then 1 / not listed, no membership left`,
  );
  await closeAll([watcher]);
}, 120_000);
