import pLimit from "p-limit";
import { createPacer } from "./pacer";
import type { PostOutcome, Transport } from "./transport";

/** `failed` holds every post that did not go through, `throttled` those of them last answered 429. */
export type DeliveryReport = { delivered: number; gone: string[]; failed: string[]; throttled: string[] };

/**
 * How one broadcast posts: paced or not, fewer attempts, a time by which every post has ended,
 * and how many posts may be in flight at once (the delivery's own `concurrency` by default).
 */
export type BroadcastOptions = {
  paced?: boolean;
  maxAttempts?: number;
  deadline?: number;
  concurrency?: number;
};

/** Pushes one frame to many connections through API Gateway's Management API. */
export interface Delivery {
  /**
   * Posts a frame (its JSON) to each connection, at most `concurrency` at a time and,
   * when `paced`, within this container's share of `postsPerSecond`; never throws for a recipient.
   */
  broadcast(
    connectionIds: readonly string[],
    json: string,
    options?: BroadcastOptions,
  ): Promise<DeliveryReport>;
}

export type DeliveryOptions = {
  transport: Transport;
  concurrency: number;
  /** Posts a second that paced broadcasts of this container start, together (0: unpaced). */
  postsPerSecond?: number;
  /** Paced posts that may start at once before the rate applies (a small room's, together). */
  burst?: number;
};

/**
 * A {@link Delivery} over a {@link Transport}: bounded concurrency and a pace that
 * keeps the stack inside its share of the account's post budget.
 *
 * @example
 * const delivery = createDelivery({ transport, concurrency: 32, postsPerSecond: 300, burst: 100 });
 * const { gone } = await delivery.broadcast(ids, JSON.stringify(frame), { paced: true });
 */
export function createDelivery(options: DeliveryOptions): Delivery {
  const pace = createPacer(options.postsPerSecond ?? 0, { burst: options.burst });
  return {
    async broadcast(connectionIds, json, { paced = false, maxAttempts, deadline, concurrency } = {}) {
      const data = Buffer.from(json);
      const limit = pLimit(Math.max(1, concurrency ?? options.concurrency));
      const outcomes = await Promise.all(
        connectionIds.map((id) =>
          limit(async (): Promise<[string, PostOutcome]> => {
            if (paced) await pace();
            return [id, await options.transport.post(id, data, { maxAttempts, deadline })];
          }),
        ),
      );
      const report: DeliveryReport = { delivered: 0, gone: [], failed: [], throttled: [] };
      for (const [id, outcome] of outcomes) {
        if (outcome === "delivered") report.delivered++;
        else if (outcome === "gone") report.gone.push(id);
        else report.failed.push(id);
        if (outcome === "throttled") report.throttled.push(id);
      }
      return report;
    },
  };
}
