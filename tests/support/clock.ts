type FakeableApi = NonNullable<
  Extract<Parameters<typeof jest.useFakeTimers>[0], { doNotFake?: unknown }>["doNotFake"]
>[number];

const allButDate: FakeableApi[] = [
  "hrtime",
  "nextTick",
  "performance",
  "queueMicrotask",
  "requestAnimationFrame",
  "cancelAnimationFrame",
  "requestIdleCallback",
  "cancelIdleCallback",
  "setImmediate",
  "clearImmediate",
  "setInterval",
  "clearInterval",
  "setTimeout",
  "clearTimeout",
];

/**
 * Sets `Date` (only `Date`: timers, sockets and the SDK's retries keep real time) back to the
 * start of the current fixed window of `windowSeconds`, and lets it run on from there, so the
 * sends that follow fall in one rate-limit window however slow the machine is. Returns the undo.
 */
export function startAtWindowOpen(windowSeconds: number): () => void {
  const windowMs = windowSeconds * 1000;
  jest.useFakeTimers({
    now: Math.floor(Date.now() / windowMs) * windowMs,
    advanceTimers: true,
    doNotFake: allButDate,
  });
  return () => jest.useRealTimers();
}

/**
 * A clock that runs with real time from an offset the test moves ahead: the store and the
 * TTL sweeper given it see items expire, and the sweep come, without the test waiting for it.
 */
export function movableClock() {
  let ahead = 0;
  return {
    now: () => Date.now() + ahead,
    advance(ms: number) {
      ahead += ms;
    },
  };
}
