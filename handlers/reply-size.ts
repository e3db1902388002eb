/** API Gateway refuses a route response or a post over this many bytes. */
export const maxFrameBytes = 131_072;

/** Bytes of `value` as JSON (UTF-8). */
export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/** The longest seq a `next` or `seq` field can carry: reserve its digits in the envelope. */
export const seqPlaceholder = Number.MAX_SAFE_INTEGER;

/** The room left in one frame that starts as `envelope` (its lists empty). */
export type FrameBudget = { readonly left: number; take(bytes: number): boolean };

export function frameBudget(envelope: unknown): FrameBudget {
  let used = jsonBytes(envelope);
  return {
    get left() {
      return maxFrameBytes - used;
    },
    /** Counts `bytes` in if they still fit. */
    take(bytes) {
      if (used + bytes > maxFrameBytes) return false;
      used += bytes;
      return true;
    },
  };
}

/**
 * A JSON array filled within a budget: each item adds its JSON and, after the first, a comma.
 * `add` says whether the item fitted.
 */
export function listIn(budget: FrameBudget) {
  let count = 0;
  return {
    add(item: unknown): boolean {
      const fits = budget.take(jsonBytes(item) + (count > 0 ? 1 : 0));
      if (fits) count++;
      return fits;
    },
  };
}

/**
 * How many of `items`, taken in order, fit in the frame `build(items)` within API
 * Gateway's limit.
 *
 * @example
 * const n = fitting(messages, (page) => ({ type: "history", room, messages: page, next: cursor }));
 */
export function fitting<T>(items: readonly T[], build: (items: T[]) => unknown): number {
  // Build with a cursor of the longest kind, so whichever `next` the frame gets still fits.
  const list = listIn(frameBudget(build([])));
  let count = 0;
  while (count < items.length && list.add(items[count])) count++;
  return count;
}
