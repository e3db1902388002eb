import { createTokenBucket } from "../../local/throttle";

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
