import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { createChatStore, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { rawPartition } from "./helpers";

let t: FreshTable;
let store: ChatStore;
beforeAll(async () => {
  t = await freshTable("model-conflicts");
  store = createChatStore(t.service);
});
afterAll(() => t.drop());

/** Makes the next `times` TransactWriteItems fail as DynamoDB does when another transaction holds an item. */
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

describe("transaction conflicts (a room's counter raced by another join)", () => {
  it("connect and join retry a conflicting transaction and count once", async () => {
    const conflicts = injectConflicts(2);
    try {
      const conn = await store.connect({ connectionId: "conflict-conn-1=", name: "cc", defaultRoom: "hot" });
      expect(await store.join(conn, "hotter")).toBe("joined");
      expect(conflicts.seen.length).toBeGreaterThanOrEqual(3);
    } finally {
      conflicts.remove();
    }
    const counts = Object.fromEntries((await store.listRooms()).map((r) => [r.room, r.members]));
    expect(counts).toMatchObject({ hot: 1, hotter: 1 });
    expect(await rawPartition(t, "room#hotter#members")).toHaveLength(1);
  });

  it("a message with a clientId survives a conflict and is stored once", async () => {
    const conflicts = injectConflicts(1);
    try {
      const result = await store.post({
        room: "hot",
        from: "cc",
        connectionId: "c",
        sender: "s",
        text: "t",
        clientId: "k",
      });
      expect(result.duplicate).toBe(false);
    } finally {
      conflicts.remove();
    }
    expect(await rawPartition(t, "room#hot#messages")).toHaveLength(1);
  });

  it("leave retries a conflict", async () => {
    const conn = await store.connect({ connectionId: "conflict-conn-2=", name: "dd", defaultRoom: "warm" });
    const conflicts = injectConflicts(1);
    try {
      expect(await store.leave(conn.connectionId, "warm")).toBe(true);
    } finally {
      conflicts.remove();
    }
    expect((await store.listRooms()).find((r) => r.room === "warm")).toBeUndefined();
  });
});
