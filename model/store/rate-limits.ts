import type { StoreContext } from "./context";
import { isConditionFailure } from "./errors";

/** Per-connection rate limits, counted in DynamoDB so every Lambda container agrees. */
export function rateLimitStore({ entities, nowSeconds }: StoreContext) {
  const { connection } = entities;
  return {
    /**
     * Counts one message against the connection's rate limit: false (and nothing
     * written) when `limit` messages were already sent in this `windowSeconds` window.
     */
    async consumeRate(connectionId: string, limit: number, windowSeconds: number): Promise<boolean> {
      const window = Math.floor(nowSeconds() / windowSeconds);
      // Conditional writes, no read: count within the current window, else open a new one.
      // When two messages race to open the window, the loser counts in the window the winner opened.
      const countInWindow = () =>
        connection
          .patch({ connectionId })
          .add({ rateCount: 1 })
          .where((a, op) => `${op.eq(a.rateWindow, window)} AND ${op.lt(a.rateCount, limit)}`);
      const openWindow = () =>
        connection
          .patch({ connectionId })
          .set({ rateWindow: window, rateCount: 1 })
          .where((a, op) => `${op.notExists(a.rateWindow)} OR ${op.lt(a.rateWindow, window)}`);
      for (const attempt of [countInWindow, openWindow, countInWindow]) {
        try {
          await attempt().go({ response: "none" });
          return true;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      return false;
    },
  };
}
