import { TransactionCanceledException, TransactionConflictException } from "@aws-sdk/client-dynamodb";
import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { rawPartition, storedMessages } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  t = await freshTable("model-conflicts");
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

/**
 * Makes the next `times` TransactWriteItems fail as DynamoDB does when another
 * transaction holds one of the items: TransactionCanceledException whose
 * CancellationReasons name a TransactionConflict (ElectroDB turns it into
 * `{ canceled: true, data: [{ code: "TransactionConflict" }, ...] }`).
 */
function injectConflicts(times: number) {
  let left = times;
  const seen: number[] = [];
  const name = `conflict-${Math.random()}`;
  t.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "TransactWriteItemsCommand") {
        const items = (args.input as { TransactItems: unknown[] }).TransactItems;
        seen.push(items.length);
        if (left > 0) {
          left--;
          throw new TransactionCanceledException({
            message: "Transaction cancelled, please refer cancellation reasons for specific reasons",
            $metadata: {},
            CancellationReasons: items.map((_, i) => ({
              Code: i === items.length - 1 ? "TransactionConflict" : "None",
            })),
          });
        }
      }
      return next(args);
    },
    { step: "initialize", name },
  );
  return { seen, remove: () => t.client.middlewareStack.remove(name) };
}

async function withConflicts<T>(times: number, run: () => Promise<T>) {
  const conflicts = injectConflicts(times);
  try {
    return { result: await run(), attempts: conflicts.seen.length };
  } finally {
    conflicts.remove();
  }
}

describe("transaction conflicts are retried", () => {
  it("connect, join and leave retry a conflicting transaction and write once", async () => {
    const connected = await withConflicts(2, () =>
      store.connect({ connectionId: "conflict-conn-1=", name: "cc", defaultRoom: "hot" }),
    );
    expect(connected.attempts).toBe(3);
    const joined = await withConflicts(2, () => store.join(connected.result, "hotter"));
    expect(joined).toEqual({ result: "joined", attempts: 3 });
    expect(await rawPartition(t, "hotter")).toHaveLength(1);
    expect((await store.getConnection("conflict-conn-1="))?.rooms?.sort()).toEqual(["hot", "hotter"]);

    const left = await withConflicts(1, () => store.leave("conflict-conn-1=", "hotter"));
    expect(left).toEqual({ result: true, attempts: 2 });
    expect(await rawPartition(t, "hotter")).toEqual([]);
    expect(await store.getConnection("conflict-conn-1=")).toMatchObject({ rooms: ["hot"], roomCount: 1 });
  });

  it("a message with a clientId survives a conflict and is stored once", async () => {
    const { result } = await withConflicts(1, () =>
      store.post({
        room: "hot",
        from: "cc",
        connectionId: "c",
        session: "session:s",
        text: "t",
        clientId: "k",
      }),
    );
    expect(result.duplicate).toBe(false);
    expect(await storedMessages(t, "hot")).toHaveLength(1);
  });
});

/**
 * Makes the next `times` DeleteItems fail as DynamoDB fails a single-item write whose item
 * a transaction holds (for example `$disconnect` racing a join): TransactionConflictException,
 * which the SDK does not retry by itself.
 */
async function withDeleteConflicts<T>(times: number, run: () => Promise<T>) {
  let left = times;
  let attempts = 0;
  const name = `delete-conflict-${Math.random()}`;
  t.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "DeleteItemCommand") {
        attempts++;
        if (left-- > 0)
          throw new TransactionConflictException({
            message: "Transaction is ongoing for the item",
            $metadata: {},
          });
      }
      return next(args);
    },
    { step: "initialize", name },
  );
  try {
    return { result: await run(), attempts };
  } finally {
    t.client.middlewareStack.remove(name);
  }
}

describe("a single-item write that meets a transaction is retried", () => {
  it("disconnect deletes the record and its memberships after two conflicts", async () => {
    const conn = await store.connect({ connectionId: "item-conflict-1=", name: "d", defaultRoom: "held" });
    const { result, attempts } = await withDeleteConflicts(2, () => store.disconnect(conn.connectionId));
    expect(result?.rooms).toEqual(["held"]);
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(await rawPartition(t, `conn#${conn.connectionId}`)).toEqual([]);
    expect(await rawPartition(t, "held")).toEqual([]);
  });

  it("out of attempts, disconnect rejects and the record stays for TTL or a retry", async () => {
    const impatient = createChatStore(t.service, { conflictAttempts: 2 });
    const conn = await store.connect({ connectionId: "item-conflict-2=", name: "e", defaultRoom: "held-2" });
    await expect(withDeleteConflicts(2, () => impatient.disconnect(conn.connectionId))).rejects.toThrow(
      /ongoing/,
    );
    expect(await store.getConnection(conn.connectionId)).toMatchObject({ rooms: ["held-2"] });
    expect(await store.disconnect(conn.connectionId)).toMatchObject({ rooms: ["held-2"] });
  });
});

describe("running out of conflict retries is an error, never a silent 'no'", () => {
  const impatient = () => createChatStore(t.service, { conflictAttempts: 2 });
  const outOfRetries = /still conflicting after 2 attempts/;
  const roomBusy = /every one of 2 attempts to number a message met a concurrent send/;

  it("connect rejects and writes nothing", async () => {
    const failing = withConflicts(2, () =>
      impatient().connect({ connectionId: "exhaust-conn-01=", name: "x", defaultRoom: "exhaust" }),
    );
    await expect(failing).rejects.toThrow(outOfRetries);
    expect(await rawPartition(t, "conn#exhaust-conn-01=")).toEqual([]);
    expect(await rawPartition(t, "exhaust")).toEqual([]);
  });

  it("join rejects (not 'already-member', 'too-many-rooms' or 'no-connection')", async () => {
    const conn = await store.connect({
      connectionId: "exhaust-conn-02=",
      name: "y",
      defaultRoom: "exhaust-home",
    });
    await expect(withConflicts(2, () => impatient().join(conn, "exhaust-join"))).rejects.toThrow(
      outOfRetries,
    );
    expect(await rawPartition(t, "exhaust-join")).toEqual([]);
    expect(await store.getConnection(conn.connectionId)).toMatchObject({
      rooms: ["exhaust-home"],
      roomCount: 1,
    });
  });

  it("leave rejects (not false, and it does not delete the membership alone)", async () => {
    const conn = await store.connect({
      connectionId: "exhaust-conn-03=",
      name: "z",
      defaultRoom: "exhaust-stay",
    });
    await expect(
      withConflicts(2, () => impatient().leave(conn.connectionId, "exhaust-stay")),
    ).rejects.toThrow(outOfRetries);
    // The connection record and its membership still agree: nothing was half-removed.
    expect(await rawPartition(t, "exhaust-stay")).toHaveLength(1);
    expect(await store.getConnection(conn.connectionId)).toMatchObject({
      rooms: ["exhaust-stay"],
      roomCount: 1,
    });
    expect(await store.leave(conn.connectionId, "exhaust-stay")).toBe(true);
  });

  it("a message with a clientId rejects (room busy) rather than being acked as a duplicate", async () => {
    const posting = withConflicts(2, () =>
      impatient().post({
        room: "exhaust-msg",
        from: "m",
        connectionId: "c",
        session: "session:m",
        text: "t",
        clientId: "k",
      }),
    );
    await expect(posting).rejects.toThrow(roomBusy);
    expect(await storedMessages(t, "exhaust-msg")).toEqual([]);
  });

  it("40 concurrent joins and leaves on one connection record each commit or reject, and the record agrees", async () => {
    // One connection, 40 concurrent joins and leaves of its rooms: all write the same
    // connection record. DynamoDB Local may serialize them; whatever it does, no call
    // may come back with a false negative, and the record must list exactly the memberships.
    const contended = createChatStore(t.service, { conflictAttempts: 2, maxRoomsPerConnection: 100 });
    const conn = await contended.connect({
      connectionId: "contended-0001=",
      name: "c",
      defaultRoom: "c-home",
    });
    const rooms = Array.from({ length: 20 }, (_, i) => `c-room-${i}`);
    await Promise.all(rooms.map((room) => contended.join(conn, room)));
    const outcomes = await Promise.allSettled(
      rooms.flatMap((room, i) => [
        contended.join(conn, `c-new-${i}`),
        contended.leave(conn.connectionId, room),
      ]),
    );
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") expect(["joined", true]).toContain(outcome.value);
      else expect(String(outcome.reason)).toMatch(outOfRetries);
    }
    const record = await contended.getConnection(conn.connectionId);
    const memberOf = [];
    for (const room of ["c-home", ...rooms, ...rooms.map((_, i) => `c-new-${i}`)]) {
      if (await contended.getMembership(room, conn.connectionId)) memberOf.push(room);
    }
    expect([...(record?.rooms ?? [])].sort()).toEqual(memberOf.sort());
    expect(record?.roomCount).toBe(memberOf.length);
    console.log(
      `40 concurrent join/leave on one connection record (conflictAttempts 2): ` +
        `${outcomes.filter((o) => o.status === "rejected").length} rejected with an error, the rest committed`,
    );
  });
});
