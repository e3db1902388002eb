import { DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import type { LocalStack } from "../../local/stack";
import { movableClock } from "../support/clock";
import { startTestStack } from "../support/local-stack";
import { eventually, openStackTable, type StackTable } from "../support/storm-table";
import { connect, type Frame, type TestClient } from "../support/ws-client";

// The gateway's fault mode: a closed socket never fires `$disconnect`, so only a
// broadcast's 410s and TTL can clean up. Expired items stay readable for ttlDelayMs
// (the local sweeper, DynamoDB Local's own TTL off), as AWS keeps them for up to days.
// Both spans are on the test's clock, which only the test moves past them: however slow
// the machine, nothing expires or is swept before the test has read what it checks.
const ttlDelayMs = 10 * 60_000;
/** Connections named `lost-*` expire this soon; the rest live the default 2 h 5 min. */
const shortTtlSeconds = 10 * 60;

/**
 * The handlers' store and the sweeper read this clock: the test moves it past an expiry or
 * a sweep delay instead of waiting for it, so nothing expires before the test says so.
 */
const clock = movableClock();
let stack: LocalStack;
let table: StackTable;
const client = createDynamoClient(process.env.DYNAMODB_ENDPOINT);

beforeAll(async () => {
  const tableName = `lost-disconnects-${Date.now()}`;
  const service = createChatService(createDocumentClient(client), tableName);
  const store = createChatStore(service, { now: clock.now });
  // A stack-wide CONNECTION_TTL_SECONDS would expire the listeners too (activity does not
  // renew it): only the clients that are going to be lost get the short TTL.
  const lostStore = createChatStore(service, { now: clock.now, connectionTtlSeconds: shortTtlSeconds });
  stack = await startTestStack({
    tableName,
    gateway: { dropDisconnects: true },
    ttlDelayMs,
    ttlClock: clock.now,
    // A 410 removes a connection older than 1 s (30 s by default: these are seconds old).
    env: { CONNECT_GRACE_SECONDS: "1" },
    overrideDeps: () => ({
      store: { ...store, connect: (c) => (c.name.startsWith("lost-") ? lostStore : store).connect(c) },
    }),
  });
  table = openStackTable(stack);
}, 60_000);

afterAll(async () => {
  table?.close();
  await stack?.stop();
  client.destroy();
});

/** A `ws` client named `name` in `room`, also joined to `also`. */
async function wsClient(name: string, room: string, ...also: string[]): Promise<TestClient> {
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
  const steady = await Promise.all(names("steady", 3).map((n) => wsClient(n, lobby, side)));
  const lost = await Promise.all(
    names("lost", 4).map((n, i) => wsClient(n, lobby, ...(i < 2 ? [side] : []))),
  );
  const gone = await Promise.all(
    names("gone", 4).map((n, i) => wsClient(n, lobby, ...(i < 2 ? [side] : []))),
  );
  await closeAll([...lost, ...gone]);
  const [sender] = steady;
  expect(await counts(sender, lobby, side)).toEqual({ [lobby]: 11, [side]: 7 });

  // The lost ones expire; no $disconnect came for anyone.
  clock.advance((shortTtlSeconds + 1) * 1000);
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

  // The sweeper deletes the expired connection records once the delay has passed; the counts were exact already.
  const lostRecords = async () =>
    (await table.itemsOf("connection")).filter((c) => String(c.name).startsWith("lost-"));
  expect(await lostRecords()).toHaveLength(4);
  clock.advance(ttlDelayMs);
  await eventually(async () => expect(await lostRecords()).toEqual([]), 15_000);
  expect(await counts(sender, lobby, side)).toEqual({ [lobby]: 3, [side]: 3 });
  console.log(
    `lost disconnects + broadcast: counts 11/7 while 4 expired and 4 closed; broadcast ${afterBroadcast} ms ` +
      `after expiry -> exact 3/3 (4 closed removed by 410, 4 expired removed by the workers' reads); ` +
      `expired records swept once the clock passed TTL ${shortTtlSeconds} s + delay ${ttlDelayMs / 1000} s`,
  );
  await closeAll(steady);
}, 120_000);

it("with no broadcast, deleting the expired items makes counts and the room list exact, leaving no membership", async () => {
  const [lobby, ghostRoom] = ["lobby-b", "ghosts-b"];
  const watcher = await wsClient("steady-b", lobby);
  const lost = await Promise.all(
    names("lost-b", 5).map((n, i) => wsClient(n, lobby, ...(i < 3 ? [ghostRoom] : []))),
  );
  await closeAll(lost);
  expect(await counts(watcher, lobby, ghostRoom)).toEqual({ [lobby]: 6, [ghostRoom]: 3 });

  // Expired, not yet deleted: reads skip them, counts still hold them, the raw items stay,
  // and DynamoDB Local's own TTL (which would delete them within about 10 s) is off.
  clock.advance((shortTtlSeconds + 1) * 1000);
  expect(await namesIn(watcher, lobby)).toEqual(["steady-b"]);
  expect(await counts(watcher, lobby, ghostRoom)).toEqual({ [lobby]: 6, [ghostRoom]: 3 });
  expect(await rawMembers(lobby, ghostRoom)).toHaveLength(9);
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: stack.tableName }),
  );
  expect(TimeToLiveDescription?.TimeToLiveStatus).toBe("DISABLED");

  // Gone once the clock passes the delay.
  clock.advance(ttlDelayMs);
  await eventually(async () => {
    expect(await rawMembers(lobby, ghostRoom)).toEqual([`${lobby}:steady-b`]);
    const connections = (await table.itemsOf("connection")).map((c) => String(c.name));
    expect(connections.filter((n) => n.startsWith("lost-b"))).toEqual([]);
  }, 15_000);
  expect(await counts(watcher, lobby, ghostRoom)).toEqual({ [lobby]: 1, [ghostRoom]: "not listed" });
  console.log(
    `lost disconnects, no broadcast: counts stayed 6/3 while expired and present; deleted once the ` +
      `clock passed the delay (${ttlDelayMs} ms); then 1 / not listed, no membership left`,
  );
  await closeAll([watcher]);
}, 120_000);
