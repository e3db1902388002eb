import fc from "fast-check";
import { createChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { testClock } from "./helpers";

let t: FreshTable;
beforeAll(async () => {
  t = await freshTable("model-rate");
});
afterAll(() => t.drop());

const allowed = (verdicts: { allowed: boolean }[]) => verdicts.filter((v) => v.allowed).length;

describe("rate-limit buckets (a token bucket per item)", () => {
  it("lets a burst of `limit` through, then one frame per refilled token", async () => {
    const clock = testClock(Date.UTC(2030, 0, 1, 0, 0, 0));
    const store = createChatStore(t.service, { now: clock.now });
    const take = () => store.takeToken("conn#burst=#write", { limit: 3, windowSeconds: 9 });

    expect(allowed([await take(), await take(), await take()])).toBe(3);
    expect(await take()).toEqual({ allowed: false, refusals: 1, retryAfterMs: 3000 });
    clock.advance(1_000);
    expect(await take()).toEqual({ allowed: false, refusals: 2, retryAfterMs: 2000 });
    clock.advance(2_000); // one token back (9 s / 3)
    expect(await take()).toEqual({ allowed: true });
    expect((await take()).allowed).toBe(false);
    clock.advance(60_000); // rested: a full burst again
    expect(allowed([await take(), await take(), await take(), await take()])).toBe(3);
  });

  it("a frame let through resets the refusals in a row", async () => {
    const clock = testClock();
    const store = createChatStore(t.service, { now: clock.now });
    const take = () => store.takeToken("conn#reset=#write", { limit: 1, windowSeconds: 1 });
    await take();
    await take();
    expect(await take()).toMatchObject({ refusals: 2 });
    clock.advance(1_000);
    expect(await take()).toEqual({ allowed: true });
    expect(await take()).toMatchObject({ refusals: 1 });
  });

  it("keeps each bucket apart (keys are case-sensitive) and out of the connection record", async () => {
    const store = createChatStore(t.service);
    await store.connect({ connectionId: "rateX=", name: "x", defaultRoom: "lobby" });
    const rule = { limit: 1, windowSeconds: 60 };
    expect((await store.takeToken("conn#rateX=#write", rule)).allowed).toBe(true);
    expect((await store.takeToken("conn#rateX=#write", rule)).allowed).toBe(false);
    expect((await store.takeToken("conn#ratex=#write", rule)).allowed).toBe(true);
    expect((await store.takeToken("conn#rateX=#read", rule)).allowed).toBe(true);
    expect(
      Object.keys((await store.getConnection("rateX="))!).filter((key) => /rate|refus|full/i.test(key)),
    ).toEqual([]);
  });

  it("is exact under concurrency: n frames at once into a rested bucket, exactly min(n, limit) pass", async () => {
    const clock = testClock(Date.UTC(2030, 0, 1, 0, 0, 0));
    const store = createChatStore(t.service, { now: clock.now });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 20 }),
        fc.boolean(),
        async (n, limit, usedBefore) => {
          const bucket = `conn#rate-prop-${String(run++).padStart(5, "0")}=#write`;
          const rule = { limit, windowSeconds: 10 };
          if (usedBefore) for (let i = 0; i < limit; i++) await store.takeToken(bucket, rule);
          clock.advance(10_000); // full again
          const results = await Promise.all(Array.from({ length: n }, () => store.takeToken(bucket, rule)));
          expect(allowed(results)).toBe(Math.min(n, limit));
        },
      ),
      { seed: 1212, numRuns: 20 },
    );
  }, 120_000);
});
