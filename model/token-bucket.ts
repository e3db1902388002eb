/** A token bucket's size: steady tokens per second and how many it holds (the burst). */
export type Throttling = { rateLimit: number; burstLimit: number };

/**
 * A token bucket that holds `burstLimit` tokens and refills at `rateLimit` per second;
 * a request that finds it empty is refused. Returns whether a request arriving now may
 * go through (and takes its token). API Gateway's throttling works this way; the
 * handlers keep one per connection in each container, in front of the shared ones.
 *
 * @example
 * const admit = createTokenBucket({ rateLimit: 50, burstLimit: 100 });
 * admit(); // true for the first 100 requests at once, then 50 a second
 */
export function createTokenBucket(
  { rateLimit, burstLimit }: Throttling,
  now: () => number = () => performance.now(),
): () => boolean {
  let tokens = burstLimit;
  let refilledAt = now();
  return () => {
    const time = now();
    tokens = Math.min(burstLimit, tokens + ((time - refilledAt) / 1000) * rateLimit);
    refilledAt = time;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}
