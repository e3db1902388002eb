import { StillUnprocessedError } from "../../model/store";
import { untilProcessed } from "../../model/store/unprocessed";

/** A batch request that leaves the last `leave[n]` items unprocessed on its n-th call, recording each call. */
function batchRequest(leave: number[]) {
  const calls: string[][] = [];
  const request = async (items: readonly string[]) => {
    calls.push([...items]);
    return items.slice(items.length - (leave[calls.length - 1] ?? 0));
  };
  return { calls, request };
}

test("retries only what was left unprocessed, after a doubling full-jitter wait", async () => {
  const { calls, request } = batchRequest([2, 1, 0]);
  const waits: number[] = [];
  await untilProcessed(["a", "b", "c"], request, {
    maxAttempts: 8,
    random: () => 0.5,
    wait: async (ms) => void waits.push(ms),
  });
  expect(calls).toEqual([["a", "b", "c"], ["b", "c"], ["c"]]);
  // Half (random 0.5) of 25 ms, then of 50 ms: one wait before each retry, none before the first.
  expect(waits).toEqual([12.5, 25]);
});

test("the wait is capped at 1 s, and a batch processed at once waits for nothing", async () => {
  const waits: number[] = [];
  const options = { maxAttempts: 10, random: () => 0.999, wait: async (ms: number) => void waits.push(ms) };
  await untilProcessed(["a"], batchRequest([]).request, options);
  expect(waits).toEqual([]);
  await untilProcessed(["a"], batchRequest([1, 1, 1, 1, 1, 1, 1, 1, 0]).request, options);
  expect(waits.map(Math.round)).toEqual([25, 50, 100, 200, 400, 799, 999, 999]);
});

test("items still left after the last attempt are an error, not dropped", async () => {
  const { calls, request } = batchRequest([1, 1, 1, 1]);
  const done = untilProcessed(["a", "b"], request, { maxAttempts: 3, wait: async () => undefined });
  await expect(done).rejects.toThrow(StillUnprocessedError);
  await expect(done).rejects.toThrow("1 item(s) still unprocessed after 3 batch requests");
  expect(calls).toHaveLength(3);
});

test("nothing to process makes no request", async () => {
  const { calls, request } = batchRequest([]);
  await untilProcessed([], request, { maxAttempts: 3 });
  expect(calls).toEqual([]);
});
