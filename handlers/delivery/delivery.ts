import pLimit from "p-limit";
import { createPacer } from "./pacer";
import type { PostOutcome, Transport } from "./transport";

export type DeliveryReport = { delivered: number; gone: string[]; failed: string[] };

/** Pushes one frame to many connections through API Gateway's Management API. */
export interface Delivery {
  /**
   * Posts a frame (its JSON) to each connection, at most `concurrency` at a time and,
   * when `paced`, no faster than `postsPerSecond`; never throws for a recipient.
   */
  broadcast(
    connectionIds: readonly string[],
    json: string,
    options?: { paced?: boolean },
  ): Promise<DeliveryReport>;
}

export type DeliveryOptions = {
  transport: Transport;
  concurrency: number;
  /** Posts a second that paced broadcasts of this container start, together (0: unpaced). */
  postsPerSecond?: number;
};

/**
 * A {@link Delivery} over a {@link Transport}: bounded concurrency and, for the
 * fan-out workers, a pace that keeps the stack inside its share of the account's budget.
 *
 * @example
 * const delivery = createDelivery({ transport, concurrency: 32, postsPerSecond: 300 });
 * const { gone } = await delivery.broadcast(ids, JSON.stringify(frame), { paced: true });
 */
export function createDelivery(options: DeliveryOptions): Delivery {
  const pace = createPacer(options.postsPerSecond ?? 0);
  return {
    async broadcast(connectionIds, json, { paced = false } = {}) {
      const data = Buffer.from(json);
      const limit = pLimit(options.concurrency);
      const outcomes = await Promise.all(
        connectionIds.map((id) =>
          limit(async (): Promise<[string, PostOutcome]> => {
            if (paced) await pace();
            return [id, await options.transport.post(id, data)];
          }),
        ),
      );
      const report: DeliveryReport = { delivered: 0, gone: [], failed: [] };
      for (const [id, outcome] of outcomes) {
        if (outcome === "delivered") report.delivered++;
        else report[outcome].push(id);
      }
      return report;
    },
  };
}
