import fc from "fast-check";
import { createChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { testClock } from "./helpers";

let t: FreshTable;
beforeAll(async () => {
  t = await freshTable("model-rate");
});
afterAll(() => t.drop());

describe("per-connection message rate limit", () => {
  it("allows `limit` messages per window, then refuses until the next window", async () => {
    const clock = testClock(Date.UTC(2030, 0, 1, 0, 0, 0));
    const store = createChatStore(t.service, { now: clock.now });
    await store.connect({ connectionId: "rate-conn-00001=", name: "r", defaultRoom: "lobby" });
    const consume = () => store.consumeRate("rate-conn-00001=", 3, 10);

    expect([await consume(), await consume(), await consume()]).toEqual([true, true, true]);
    expect(await consume()).toBe(false);
    clock.advance(5_000); // same 10 s window
    expect(await consume()).toBe(false);
    clock.advance(5_000); // next window
    expect(await consume()).toBe(true);
    expect((await store.getConnection("rate-conn-00001="))?.rateCount).toBe(1);
  });

  it("counts each connection separately (ids are case-sensitive)", async () => {
    const store = createChatStore(t.service);
    await store.connect({ connectionId: "rateX=", name: "x", defaultRoom: "lobby" });
    await store.connect({ connectionId: "ratex=", name: "y", defaultRoom: "lobby" });
    expect(await store.consumeRate("rateX=", 1, 60)).toBe(true);
    expect(await store.consumeRate("rateX=", 1, 60)).toBe(false);
    expect(await store.consumeRate("ratex=", 1, 60)).toBe(true);
  });

  it("refuses an unknown connection without creating it", async () => {
    const store = createChatStore(t.service);
    expect(await store.consumeRate("no-such-conn-01=", 5, 10)).toBe(false);
    expect(await store.getConnection("no-such-conn-01=")).toBeUndefined();
  });

  it("is exact under concurrency: n concurrent messages at the start of a window, exactly min(n, limit) pass", async () => {
    const clock = testClock(Date.UTC(2030, 0, 1, 0, 0, 0));
    const store = createChatStore(t.service, { now: clock.now });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 20 }),
        fc.boolean(),
        async (n, limit, usedBefore) => {
          const id = `rate-prop-${String(run++).padStart(5, "0")}=`;
          await store.connect({ connectionId: id, name: "p", defaultRoom: "lobby" });
          if (usedBefore) {
            // A window used up earlier: the new window must still open exactly once.
            for (let i = 0; i < limit; i++) await store.consumeRate(id, limit, 10);
          }
          clock.advance(10_000); // the start of a fresh window
          const results = await Promise.all(
            Array.from({ length: n }, () => store.consumeRate(id, limit, 10)),
          );
          expect(results.filter(Boolean)).toHaveLength(Math.min(n, limit));
          expect((await store.getConnection(id))?.rateCount).toBe(Math.min(n, limit));
        },
      ),
      { seed: 1212, numRuns: 20 },
    );
  }, 120_000);
});
