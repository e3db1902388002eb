import type { StoreContext } from "./context";
import { isConditionFailure } from "./errors";

/** `limit` frames per `windowSeconds`, in a burst of up to `limit`: a token bucket. */
export type RateLimit = { limit: number; windowSeconds: number };

export type RateVerdict =
  | { allowed: true }
  /** `refusals`: in a row, this one included; `retryAfterMs`: until the next token. */
  | { allowed: false; refusals: number; retryAfterMs: number };

/**
 * Rate-limit buckets, each an item of its own that every Lambda container sees.
 * A bucket is a token bucket kept as one number, the time it is full again (GCRA):
 * taking a token moves it on by one token's interval, and a frame is let through
 * while that time stays within one burst of now. One conditional write per frame, no read.
 */
export function rateLimitStore({ entities, now }: StoreContext) {
  const { rateLimit } = entities;
  return {
    async takeToken(bucket: string, { limit, windowSeconds }: RateLimit): Promise<RateVerdict> {
      const interval = (windowSeconds * 1000) / limit;
      const time = now();
      // Nothing to remember once the bucket is full again: at most one burst from now.
      const expiresAt = Math.ceil((time + limit * interval) / 1000) + 60;
      // Half a token of slack: the sum of many fractional intervals drifts a little from the product.
      const lastToken = time + (limit - 1) * interval + interval / 2;
      const inUse = () =>
        rateLimit
          .update({ bucket })
          .add({ fullAt: interval })
          .set({ refusals: 0, expiresAt })
          .where((a, op) => `${op.gt(a.fullAt, time)} AND ${op.lte(a.fullAt, lastToken)}`);
      const rested = () =>
        rateLimit
          .upsert({ bucket, fullAt: time + interval, refusals: 0, expiresAt })
          .where((a, op) => `${op.notExists(a.fullAt)} OR ${op.lte(a.fullAt, time)}`);
      // When two frames race for a rested bucket, the loser takes its token from the bucket the winner opened.
      for (const attempt of [inUse, rested, inUse]) {
        try {
          await attempt().go({ response: "none" });
          return { allowed: true };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      const { data } = await rateLimit.update({ bucket }).add({ refusals: 1 }).go({ response: "all_new" });
      const nextToken = (data.fullAt ?? time) - (limit - 1) * interval;
      return {
        allowed: false,
        refusals: data.refusals ?? 1,
        retryAfterMs: Math.max(1, Math.ceil(nextToken - time)),
      };
    },
  };
}
