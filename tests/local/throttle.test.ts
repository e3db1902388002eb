import { createStageThrottle } from "../../local/throttle";
import { createTokenBucket } from "../../model/token-bucket";

// API Gateway's token bucket, on a clock the test moves.
it("admits a burst, then refills at the rate, never above the burst", () => {
  let now = 0;
  const admit = createTokenBucket({ rateLimit: 10, burstLimit: 3 }, () => now);
  expect([admit(), admit(), admit(), admit()]).toEqual([true, true, true, false]);
  now += 100; // one token at 10 a second
  expect([admit(), admit()]).toEqual([true, false]);
  now += 60_000; // a long pause refills to the burst, no further
  expect([admit(), admit(), admit(), admit()]).toEqual([true, true, true, false]);
});

it("admits nothing with a burst of 0", () => {
  const admit = createTokenBucket({ rateLimit: 100, burstLimit: 0 }, () => 0);
  expect(admit()).toBe(false);
});

describe("the stage's throttling, per route as API Gateway applies it", () => {
  it("gives each route a bucket of the default size: emptying one leaves the others full", () => {
    const admit = createStageThrottle({ defaultRoute: { rateLimit: 1, burstLimit: 2 } }, () => 0);
    expect([admit("$default"), admit("$default"), admit("$default")]).toEqual([true, true, false]);
    expect([admit("sendmessage"), admit("sendmessage"), admit("sendmessage")]).toEqual([true, true, false]);
    expect(admit("history")).toBe(true);
  });

  it("a route with settings of its own gets a bucket of that size", () => {
    const admit = createStageThrottle(
      {
        defaultRoute: { rateLimit: 50, burstLimit: 100 },
        routes: { $default: { rateLimit: 1, burstLimit: 1 } },
      },
      () => 0,
    );
    expect([admit("$default"), admit("$default")]).toEqual([true, false]);
    expect(Array.from({ length: 100 }, () => admit("sendmessage")).every(Boolean)).toBe(true);
  });
});
