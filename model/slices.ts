/**
 * Slices of a room's member partition, for fan-out workers that each read and post
 * to one slice. Membership sort keys are bare connection ids, and API Gateway's ids
 * are random base64, so their first character is a stable, uniform hash of the id:
 * slice k is a contiguous key range of first characters, read with one
 * `sk BETWEEN from AND to` Query. A connection is in the same slice for every
 * message, which is what keeps each recipient's messages in order on the queue.
 */

/** The first characters of base64 and base64url ids, in DynamoDB's (UTF-8 byte) order. */
const idAlphabet = "+-/0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
/** Below and above every id character, so the ranges cover any sort key at all. */
const lowest = " ";
const highest = "\uffff";

export type SliceRange = { slice: number; from: string; to: string };

/**
 * The key ranges of `count` slices, together covering every sort key. Adjacent
 * ranges share only their boundary string (one character), which no id equals.
 *
 * @example
 * sliceRanges(2); // [{ slice: 0, from: " ", to: "O" }, { slice: 1, from: "O", to: "\uffff" }]
 */
export function sliceRanges(count: number): SliceRange[] {
  if (!Number.isInteger(count) || count < 1 || count > idAlphabet.length) {
    throw new Error(`slices: must be 1 to ${idAlphabet.length}, got ${count}`);
  }
  const boundary = (k: number) =>
    k === 0 ? lowest : k === count ? highest : idAlphabet[Math.round((k * idAlphabet.length) / count)];
  return Array.from({ length: count }, (_, k) => ({ slice: k, from: boundary(k), to: boundary(k + 1) }));
}

/** The slice a connection id falls in (the range that holds it). */
export function sliceOf(connectionId: string, count: number): number {
  return sliceRanges(count).findIndex(({ from, to }) => connectionId >= from && connectionId < to);
}
