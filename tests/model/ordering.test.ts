import { createChatStore, RoomBusyError, type ChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";

// Two Lambda containers ("store instances") sending to one room. Ids are ULIDs taken by
// each container before its write, so they need not sort in stored order (issue: with
// two containers, 1 of 80 messages was delivered after one with a larger id). `seq`,
// taken in the write itself, is the room's order.
let t: FreshTable;
beforeAll(async () => {
  t = await freshTable("model-ordering");
});
afterAll(() => t.drop());

const sender = (container: string) => ({
  from: container,
  connectionId: `${container}-conn-0001=`,
  session: `connection:${container}-conn-0001=`,
});

async function wholeHistory(store: ReturnType<typeof createChatStore>, room: string) {
  const page = await store.history(room, { after: 0, limit: 100 });
  expect(page.next).toBeNull();
  return page.messages;
}

it("messages sent one after another from two containers keep the order they were stored in", async () => {
  const a = createChatStore(t.service);
  // The second container's clock runs a second behind: its ids sort before the first's.
  const b = createChatStore(t.service, { now: () => Date.now() - 1000 });
  const sent: string[] = [];
  for (let i = 0; i < 20; i++) {
    const [store, name] = i % 2 === 0 ? [a, "a"] : [b, "b"];
    const { message } = await store.post({ room: "o-serial", text: `${name}${i}`, ...sender(name) });
    expect(message.seq).toBe(i + 1);
    sent.push(message.text!);
  }
  const stored = await wholeHistory(a, "o-serial");
  expect(stored.map((m) => m.text)).toEqual(sent);
  expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  // What ordering by id did: every message of the slow clock first.
  const byId = [...stored].sort((x, y) => (x.id < y.id ? -1 : 1)).map((m) => m.text);
  expect(byId).not.toEqual(sent);
});

/** A send as a client makes it: BUSY (every attempt met a concurrent send) is sent again. */
async function postAsAClient(
  store: ReturnType<typeof createChatStore>,
  input: Parameters<ChatStore["post"]>[0],
) {
  for (;;) {
    try {
      return await store.post(input);
    } catch (error) {
      if (!(error instanceof RoomBusyError)) throw error;
    }
  }
}

it("80 concurrent sends from two containers: every seq unique and gap-free, history in seq order", async () => {
  const containers = [createChatStore(t.service), createChatStore(t.service)];
  const acked = (
    await Promise.all(
      containers.map(async (store, c) => {
        const mine = [];
        // Four requests at a time per container, as concurrent Lambda invocations would be.
        for (let batch = 0; batch < 10; batch++) {
          const posts = Array.from({ length: 4 }, (_, i) =>
            postAsAClient(store, {
              room: "o-concurrent",
              text: `c${c}-${batch * 4 + i}`,
              ...sender(`c${c}`),
            }),
          );
          mine.push(...(await Promise.all(posts)).map((r) => r.message));
        }
        return mine;
      }),
    )
  ).flat();
  const seqs = acked.map((m) => m.seq).sort((x, y) => x - y);
  expect(seqs).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  expect(new Set(acked.map((m) => m.id)).size).toBe(80);

  const stored = await wholeHistory(containers[0], "o-concurrent");
  expect(stored.map((m) => m.seq)).toEqual(seqs);
  const bySeq = new Map(acked.map((m) => [m.seq, m]));
  expect(stored.map((m) => m.id)).toEqual(stored.map((m) => bySeq.get(m.seq)!.id));
});

it("a head that lags its newest message (not settled yet, or its settling failed) costs the next send one retry, no gap", async () => {
  const store = createChatStore(t.service);
  const first = await store.post({ room: "o-lag", text: "one", ...sender("a") });
  // The head was never moved: the next send's first read still says 0.
  const { message } = await store.post({ room: "o-lag", text: "two", ...sender("b") }, { lastSeqRead: 0 });
  expect([first.message.seq, message.seq]).toEqual([1, 2]);
  expect((await wholeHistory(store, "o-lag")).map((m) => m.text)).toEqual(["one", "two"]);
});

it("the head keeps a number taken after its message expired and was deleted, and never moves down", async () => {
  const store = createChatStore(t.service);
  const sent = [];
  for (const text of ["one", "two"])
    sent.push((await store.post({ room: "o-expired", text, ...sender("a") })).message);
  for (const m of [...sent].reverse()) await store.advanceHead(m);
  // What DynamoDB's TTL does to a quiet room's history, in no set order.
  for (const m of sent) await t.service.entities.message.delete({ room: m.room, seq: m.seq }).go();
  expect(await store.lastSeq("o-expired")).toBe(2);
  const { message } = await store.post({ room: "o-expired", text: "three", ...sender("a") });
  expect(message.seq).toBe(3);
});
