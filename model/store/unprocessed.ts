import { StillUnprocessedError } from "./errors";

/** How a batch operation retries what DynamoDB left unprocessed. `random` and `wait` are for tests. */
export type UnprocessedRetry = {
  maxAttempts: number;
  random?: () => number;
  wait?: (ms: number) => Promise<void>;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const baseMs = 25;
const capMs = 1_000;

/**
 * Runs a batch operation until DynamoDB has processed every item. A BatchGetItem or
 * BatchWriteItem may leave items unprocessed (a throttled partition, the request's size
 * limit); AWS advises retrying those after an exponential backoff, not at once, which would
 * only meet the same throttle. `request` sends one request for `items` and returns those
 * left; before each retry comes a full-jitter wait below min(1 s, 25 ms × 2^(n-1)).
 * @throws StillUnprocessedError when items are left after `maxAttempts` requests
 */
export async function untilProcessed<T>(
  items: readonly T[],
  request: (items: readonly T[]) => Promise<readonly T[]>,
  { maxAttempts, random = Math.random, wait = sleep }: UnprocessedRetry,
): Promise<void> {
  let left = items;
  for (let attempt = 1; left.length > 0; attempt++) {
    if (attempt > 1) await wait(random() * Math.min(capMs, baseMs * 2 ** (attempt - 2)));
    left = await request(left);
    if (left.length > 0 && attempt >= maxAttempts) throw new StillUnprocessedError(maxAttempts, left.length);
  }
}
