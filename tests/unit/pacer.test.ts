import { createPacer } from "../../handlers/delivery/pacer";

// The fan-out pacer on jest's fake clock: each start is placed exactly, however loaded the machine.
beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

/** Calls pace() `count` times at once; returns the fake time at which each call resolved. */
async function startTimes(pace: () => Promise<void>, count: number, runForMs: number) {
  const startedAt: number[] = [];
  const calls = Array.from({ length: count }, () => pace().then(() => startedAt.push(Date.now())));
  await jest.advanceTimersByTimeAsync(runForMs);
  await Promise.all(calls);
  return startedAt;
}

test("spaces starts 1/perSecond apart, the first at once", async () => {
  const pace = createPacer(100, { now: () => Date.now() });
  expect(await startTimes(pace, 5, 100)).toEqual([0, 10, 20, 30, 40]);
});

test("never starts more than perSecond in any second", async () => {
  const pace = createPacer(20, { now: () => Date.now() });
  const starts = await startTimes(pace, 45, 3000);
  for (const start of starts)
    expect(starts.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(20);
  expect(starts.at(-1)).toBe(44 * 50);
});

test("without a burst, an idle spell banks nothing: after it, starts are spaced again", async () => {
  const pace = createPacer(100, { now: () => Date.now() });
  await startTimes(pace, 2, 20);
  jest.setSystemTime(5_000);
  expect(await startTimes(pace, 3, 100)).toEqual([5_000, 5_010, 5_020]);
});

test("0 a second means no pacing", async () => {
  const pace = createPacer(0, { now: () => Date.now() });
  expect(await startTimes(pace, 3, 0)).toEqual([0, 0, 0]);
});

test("a burst of n starts n at once, then spaces the rest, and an idle spell refills it", async () => {
  const pace = createPacer(100, { burst: 4, now: () => Date.now() });
  expect(await startTimes(pace, 6, 100)).toEqual([0, 0, 0, 0, 10, 20]);
  jest.setSystemTime(5_000);
  expect(await startTimes(pace, 5, 100)).toEqual([5_000, 5_000, 5_000, 5_000, 5_010]);
});

test("a burst never lets more than burst + perSecond start in any second", async () => {
  const pace = createPacer(20, { burst: 10, now: () => Date.now() });
  const starts = await startTimes(pace, 60, 5000);
  for (const start of starts)
    expect(starts.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(30);
});
