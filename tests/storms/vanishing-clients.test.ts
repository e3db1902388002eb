/** @exclusive */
import { setTimeout as delay } from "node:timers/promises";
import { rawWebSocket } from "../support/raw-websocket";
import { everyoneGot, range, stormClient, type StormClient } from "../support/storm-client";
import { createLedger, figures, noProblems, problems, type Ledger } from "../support/storm-ledger";
import { startStormStack, type StormStack } from "../support/storm-stack";
import { eventually } from "../support/storm-table";

// Clients that vanish without a close frame: first ones the gateway sees go (it
// fires `$disconnect`), then records whose connection is gone with no
// `$disconnect` at all, which only a broadcast's 410 can find.
const room = "vanish";
const otherRoom = "vanish-too";
const listeners = 6;
/** As many dropped by `terminate` (no close frame) as by a TCP reset. */
const dropsOfEachKind = 12;
const staleGhosts = 20;
const youngGhosts = 3;

let storm: StormStack;
let ledger: Ledger;
let sender: StormClient;
let steady: StormClient[];

beforeAll(async () => {
  storm = await startStormStack();
  ledger = createLedger();
  steady = await Promise.all(
    range(listeners + 1).map((i) => stormClient(ledger, storm.stack.wsUrl, `steady-${i}`, room)),
  );
  [sender] = steady;
  for (const client of steady) await client.join(otherRoom);
}, 60_000);

afterAll(() => storm?.stop(), 60_000);

const namesIn = async (name: string) => (await storm.table.store.membersOf(name)).map((m) => m.name).sort();
const steadyNames = () => steady.map((c) => c.name).sort();

/**
 * Sends until `during` settles and at least `atLeast` messages went out, then once
 * more, and waits until every steady member has that last one.
 */
async function sendThrough<T>(during: Promise<T>, atLeast: number): Promise<T> {
  let done = false;
  const sending = (async () => {
    for (let sent = 0; !done || sent < atLeast; sent++) await sender.send(room);
  })();
  const result = await during.finally(() => (done = true));
  await sending;
  const last = await sender.send(room);
  await everyoneGot(steady.slice(1), last.id!);
  return result;
}

it("cleans up clients that dropped their TCP connection, while messages flow, losing nothing", async () => {
  const { stack } = storm;
  // Half close the TCP connection without a close frame (`terminate`), half reset it (RST).
  const dropped = await Promise.all(
    range(dropsOfEachKind).map((i) => stormClient(ledger, stack.wsUrl, `dropped-${i}`, room)),
  );
  for (const client of dropped) await client.join(otherRoom);
  const resetters = await Promise.all(
    range(dropsOfEachKind).map((i) => rawWebSocket(stack.port, `/?name=reset-${i}&room=${room}`)),
  );
  expect(await namesIn(room)).toHaveLength(steady.length + 2 * dropsOfEachKind);

  await sendThrough(
    (async () => {
      // One drop at a time, each while messages are in flight.
      for (const [i, client] of dropped.entries()) {
        await client.terminate();
        resetters[i].socket.resetAndDestroy();
        await delay(20);
      }
      // `$disconnect` runs after each drop, in the background, as in AWS.
      await eventually(async () => {
        expect(await namesIn(room)).toEqual(steadyNames());
        expect(await namesIn(otherRoom)).toEqual(steadyNames());
      });
    })(),
    30,
  );
  expect(stack.connectionCount()).toBe(steady.length);

  const report = ledger.verify(await storm.table.history(room), storm.faults);
  console.log(
    figures("vanishing clients (no close frame)", report, [
      `plus ${dropsOfEachKind} raw ones`,
      `${dropsOfEachKind} terminated + ${dropsOfEachKind} reset, all ${2 * dropsOfEachKind} removed by $disconnect`,
    ]),
  );
  expect(problems(report)).toEqual(noProblems);
  expect(report.acked).toBe(report.sent);
  expect(report.stored).toBe(report.acked);
}, 90_000);

it("removes records of connections gone without a $disconnect at the first post to them (410), and delivers to the rest", async () => {
  const { table } = storm;
  // Stale: recorded 5 minutes ago, their `$disconnect` lost. Young: recorded just now, as
  // during a `$connect`, when API Gateway answers 410 too: those must survive a 410.
  const fiveMinutesAgo = table.storeAt(() => Date.now() - 5 * 60_000);
  const ghostId = (kind: string, i: number) => `${kind}${i}`.padEnd(15, "x") + "=";
  const stale = range(staleGhosts).map((i) => ghostId("stale", i));
  const young = range(youngGhosts).map((i) => ghostId("young", i));
  for (const [i, connectionId] of stale.entries()) {
    const ghost = await fiveMinutesAgo.connect({ connectionId, name: `stale-${i}`, defaultRoom: room });
    if (i % 2 === 0) await fiveMinutesAgo.join(ghost, otherRoom);
  }
  for (const [i, connectionId] of young.entries()) {
    await table.store.connect({ connectionId, name: `young-${i}`, defaultRoom: room });
  }
  // Counts follow the stream: read them once it has caught up.
  const counts = async () => {
    await storm.stack.settled();
    return Object.fromEntries((await table.store.listRooms()).map((r) => [r.room, r.members]));
  };
  // The ghosts' joins are announced to the room: those posts already meet the stale ghosts (410)
  // and remove them in bulk; the young ones are kept (they may still be in `$connect`).
  expect(await counts()).toMatchObject({
    [room]: steady.length + youngGhosts,
    [otherRoom]: steady.length,
  });

  const first = await sender.send(room);
  expect(first.id).toBeDefined();
  // Once the fan-out and its bulk cleanup have run, the stale ghosts are gone from every room.
  await storm.stack.settled();
  const youngNames = young.map((_, i) => `young-${i}`);
  expect(await namesIn(room)).toEqual([...steadyNames(), ...youngNames].sort());
  expect(await namesIn(otherRoom)).toEqual(steadyNames());
  for (const connectionId of stale) {
    expect(await table.store.getConnection(connectionId)).toBeUndefined();
    expect(await table.membershipsOf(connectionId)).toEqual([]);
  }
  expect(await counts()).toMatchObject({ [room]: steady.length + youngGhosts, [otherRoom]: steady.length });

  await sendThrough(Promise.resolve(), 10);
  // A young ghost's own `$disconnect` (or a 410 once it is old) removes it.
  for (const connectionId of young) await table.store.disconnect(connectionId);
  expect(await counts()).toMatchObject({ [room]: steady.length, [otherRoom]: steady.length });

  const report = ledger.verify(await table.history(room), storm.faults);
  console.log(
    figures("vanishing clients, both phases", report, [
      `${staleGhosts} stale records removed by the first broadcast's 410s`,
      `${youngGhosts} records of connections still connecting kept`,
    ]),
  );
  expect(problems(report)).toEqual(noProblems);
  expect(report.acked).toBe(report.sent);
  expect(report.stored).toBe(report.acked);
}, 90_000);
