/**
 * Spaces out work to at most `perSecond` starts a second, after a burst of up to `burst`
 * at once (a token bucket): each container's share of the stack-wide post rate (API
 * Gateway's budget is per account and region). The burst lets a small room's posts go
 * out together while the rate still bounds a container that keeps posting.
 *
 * @example
 * const pace = createPacer(500, { burst: 100 });
 * await pace(); // resolves at the next free slot
 */
export function createPacer(
  perSecond: number,
  { burst = 1, now = () => performance.now() }: { burst?: number; now?: () => number } = {},
) {
  const interval = perSecond > 0 ? 1000 / perSecond : 0;
  let next = -Infinity;
  return async function pace(): Promise<void> {
    if (interval === 0) return;
    const slot = Math.max(now() - (Math.max(1, burst) - 1) * interval, next);
    next = slot + interval;
    const wait = slot - now();
    if (wait > 0.5) await new Promise((resolve) => setTimeout(resolve, wait));
  };
}
