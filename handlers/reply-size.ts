/** API Gateway refuses a route response or a post over this many bytes. */
export const maxFrameBytes = 131_072;

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/**
 * How many of `items`, taken in order, fit in the frame `build(items)` within API
 * Gateway's limit: JSON arrays join with commas, so each item adds its own JSON and one byte.
 *
 * @example
 * const n = fitting(messages, (page) => ({ type: "history", room, messages: page, next: cursor }));
 */
export function fitting<T>(items: readonly T[], build: (items: T[]) => unknown): number {
  // The envelope with a cursor of the longest kind, so whichever `next` it gets still fits.
  let used = bytes(build([]));
  let count = 0;
  for (const item of items) {
    used += bytes(item) + (count > 0 ? 1 : 0);
    if (used > maxFrameBytes) break;
    count++;
  }
  return count;
}
