import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import { createPacer } from "./pacer";
import type { PostOutcome, Transport } from "./transport";

/** `failed` holds every post that did not go through, `throttled` those of them last answered 429. */
export type DeliveryReport = { delivered: number; gone: string[]; failed: string[]; throttled: string[] };

/**
 * How one broadcast posts: paced or not, fewer attempts, a time by which every post has ended,
 * how many posts may be in flight at once (the delivery's own `concurrency` by default) and
 * `stragglerGraceMs`: once half the posts have answered, the least time the others may still
 * take before they are ended as failed (for a broadcast whose posts are all in flight at once).
 */
export type BroadcastOptions = {
  paced?: boolean;
  maxAttempts?: number;
  deadline?: number;
  concurrency?: number;
  stragglerGraceMs?: number;
};

/** Why a straggler's post was ended: half its broadcast had answered, and the grace was over. */
export class StragglerCutOffError extends Error {
  constructor(graceMs: number) {
    super(`a straggler: unanswered ${Math.round(graceMs)} ms after half the broadcast's posts had answered`);
    this.name = "StragglerCutOffError";
  }
}

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
    async broadcast(
      connectionIds,
      json,
      { paced = false, maxAttempts, deadline, concurrency, stragglerGraceMs } = {},
    ) {
      const data = Buffer.from(json);
      const limit = pLimit(Math.max(1, concurrency ?? options.concurrency));
      const stragglers =
        stragglerGraceMs === undefined ? undefined : cutOffStragglers(connectionIds.length, stragglerGraceMs);
      const outcomes = await Promise.all(
        connectionIds.map((id) =>
          limit(async (): Promise<[string, PostOutcome]> => {
            if (paced) await pace();
            const outcome = await options.transport.post(id, data, {
              maxAttempts,
              deadline,
              signal: stragglers?.signal,
            });
            stragglers?.answered();
            return [id, outcome];
          }),
        ),
      ).finally(() => stragglers?.done());
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

/**
 * The signal that ends a broadcast's stragglers once half of its `posts` have answered (whatever
 * the outcome): after as long again as that took, and at least `graceMs`. A container short of
 * CPU reads its answers late, and the half's own time keeps it from ending posts whose answers
 * are already there. A broadcast of one post has no stragglers.
 */
function cutOffStragglers(posts: number, graceMs: number) {
  const controller = new AbortController();
  // Every post in flight listens to it: more than the default 10 is expected, not a leak.
  setMaxListeners(posts, controller.signal);
  const started = performance.now();
  let answered = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    signal: controller.signal,
    answered() {
      if (++answered * 2 < posts || answered === posts || timer) return;
      const waitMs = Math.max(graceMs, performance.now() - started);
      timer = setTimeout(() => controller.abort(new StragglerCutOffError(waitMs)), waitMs);
    },
    done: () => clearTimeout(timer),
  };
}
