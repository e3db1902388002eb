/**
 * Spaces out work to at most `perSecond` starts a second, for the fan-out workers'
 * share of the stack-wide post rate (API Gateway's budget is per account and region).
 *
 * @example
 * const pace = createPacer(500);
 * await pace(); // resolves at the next free slot
 */
export function createPacer(perSecond: number, now: () => number = () => performance.now()) {
  const interval = perSecond > 0 ? 1000 / perSecond : 0;
  let next = 0;
  return async function pace(): Promise<void> {
    if (interval === 0) return;
    const at = Math.max(now(), next);
    next = at + interval;
    const wait = at - now();
    if (wait > 0.5) await new Promise((resolve) => setTimeout(resolve, wait));
  };
}
