/** @exclusive */
import { setTimeout as delay } from "node:timers/promises";
import { GetConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import pLimit from "p-limit";
import { managementClient } from "../support/local-stack";
import { everyoneGot, range, seededRandom, stormClient, type StormClient } from "../support/storm-client";
import { createLedger, figures, noProblems, problems } from "../support/storm-ledger";
import { startStormStack, type StormStack } from "../support/storm-stack";
import { eventually } from "../support/storm-table";

// 160 real clients on the local stack: 40 steady ones (a sender and 4 listeners
// per room) for the whole run, and 120 that connect, join, leave and disconnect
// around them while the senders send, each about 10 messages a second. 120 churners
// still live each of the 4 lives 30 times, 30 at once: the same overlaps, in fewer rounds.
const rooms = ["storm-a", "storm-b", "storm-c", "storm-d", "storm-e", "storm-f", "storm-g", "storm-h"];
const sendersPerRoom = 1;
const listenersPerRoom = 4;
const churners = 120;
/** Churners alive at once; the rest wait their turn, so connects and closes overlap all run long. */
const churnAtOnce = 30;

/** How a churner spends its life; each ends with no connection, by a different road. */
const lives = ["leave-everything-then-close", "close-while-a-member", "rejoin", "close-mid-join"] as const;

let storm: StormStack;

beforeAll(async () => {
  storm = await startStormStack();
}, 60_000);

afterAll(() => storm?.stop(), 60_000);

it("loses no stored message and delivers none twice while 160 clients join, leave and vanish", async () => {
  const { stack, table } = storm;
  const ledger = createLedger();
  const random = seededRandom(6);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];

  const steady = await Promise.all(
    rooms.flatMap((room, r) =>
      range(sendersPerRoom + listenersPerRoom).map((i) =>
        stormClient(ledger, stack.wsUrl, `steady-${r}-${i}`, room),
      ),
    ),
  );
  const senders = rooms.flatMap((room) => steady.filter((c) => c.home === room).slice(0, sendersPerRoom));

  const plans = range(churners).map((i) => {
    const home = pick(rooms);
    return {
      name: `churner-${i}`,
      home,
      other: pick(rooms.filter((r) => r !== home)),
      life: lives[i % lives.length],
      lingerMs: 20 + Math.floor(random() * 300),
    };
  });

  async function live(plan: (typeof plans)[number]) {
    const c = await stormClient(ledger, stack.wsUrl, plan.name, plan.home);
    const linger = () => delay(plan.lingerMs);
    switch (plan.life) {
      case "leave-everything-then-close":
        await c.join(plan.other);
        await linger();
        await c.leave(plan.other);
        await c.leave(plan.home);
        break;
      case "close-while-a-member":
        await c.join(plan.other);
        await linger();
        break;
      case "rejoin":
        await c.leave(plan.home);
        await c.join(plan.other);
        await linger();
        await c.leave(plan.other);
        await c.join(plan.home);
        await linger();
        break;
      case "close-mid-join":
        // `$disconnect` races the join: neither may leave a membership behind.
        c.fireAndForget({ action: "joinroom", room: plan.other });
        break;
    }
    await c.close();
  }

  let churning = true;
  const sending = Promise.all(
    senders.map(async (sender) => {
      // Paced: a sender at full speed only made a loaded machine answer posts late (repeats, not coverage).
      while (churning) {
        await sender.send(sender.home);
        await delay(100);
      }
    }),
  );
  const limit = pLimit(churnAtOnce);
  const lived = await Promise.allSettled(plans.map((plan) => limit(() => live(plan))));
  churning = false;
  await sending;
  expect(lived.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []))).toEqual([]);

  // A last message from every sender: once a steady member has it, it has everything sent before.
  await Promise.all(
    senders.map(async (sender) => {
      const last = await sender.send(sender.home, `${sender.name} is done`);
      expect(last.id).toBeDefined();
      await everyoneGot(
        steady.filter((c) => c.home === sender.home && c !== sender),
        last.id!,
      );
    }),
  );

  // Every churner is gone: once their `$disconnect`s ran and the stream caught up, only the steady members remain.
  // A loaded machine's stream may still be announcing the storm's ~700 joins and leaves.
  await storm.stack.settled(120_000);
  const steadyOf = (room: string) => namesOf(steady.filter((c) => c.home === room));
  await eventually(async () => {
    for (const room of rooms) expect(namesOf(await table.store.membersOf(room))).toEqual(steadyOf(room));
  });
  const listed = await steady[0].ask({ action: "listrooms" }, "rooms");
  expect(listed.rooms).toEqual(
    expect.arrayContaining(rooms.map((room) => ({ room, members: sendersPerRoom + listenersPerRoom }))),
  );
  expect(listed.rooms).toHaveLength(rooms.length);
  await expectOnlyOpenConnectionsRecorded(steady);

  const report = ledger.verify(await table.history(...rooms), storm.faults);
  console.log(
    figures("join/leave storm", report, [
      `${churners} churners (${lives.join(", ")}), ${churnAtOnce} at once`,
      `${report.missing.length} missing`,
    ]),
  );
  expect(problems(report)).toEqual(noProblems);
  expect(report.rejected).toBe(0);
  expect(report.acked).toBe(report.sent);
  expect(report.stored).toBe(report.acked);
  expect(report.storedUnacked).toEqual([]);
  expect(report.clients).toBe(steady.length + churners);
}, 240_000);

const namesOf = (items: { name: string }[]) => items.map((i) => i.name).sort();

/** Connection and membership records, found by a Scan: only those of open connections are left. */
async function expectOnlyOpenConnectionsRecorded(open: StormClient[]) {
  const { stack, table } = storm;
  const connections = await table.itemsOf("connection");
  const memberships = await table.itemsOf("membership");
  expect(namesOf(connections as { name: string }[])).toEqual(namesOf(open));
  // Raw membership items: the room is the partition key, the connection id the sort key, `n` the name.
  expect(memberships.map((m) => `${m.pk}/${m.n}`).sort()).toEqual(
    open.map((c) => `${c.home}/${c.name}`).sort(),
  );
  const recorded = new Set(connections.map((c) => c.connectionId as string));
  expect(memberships.filter((m) => !recorded.has(m.sk as string))).toEqual([]);
  const management = managementClient(stack.httpUrl);
  try {
    // GetConnection answers 410 (a thrown GoneException) for a connection the gateway does not hold.
    for (const id of recorded) await management.send(new GetConnectionCommand({ ConnectionId: id }));
  } finally {
    management.destroy();
  }
  expect(stack.connectionCount()).toBe(open.length);
}
