import pLimit from "p-limit";

/**
 * Writes `items` as batches of `size`, four in flight: fixtures of thousands of items, where
 * one batch at a time would leave DynamoDB Local waiting on each round trip.
 *
 * @example
 * await putInBatches(crowd, 500, (batch) => membership.put(batch).go());
 */
export async function putInBatches<T>(
  items: readonly T[],
  size: number,
  put: (batch: T[]) => Promise<unknown>,
) {
  const writes = pLimit(4);
  await Promise.all(
    Array.from({ length: Math.ceil(items.length / size) }, (_, b) =>
      writes(() => put(items.slice(b * size, (b + 1) * size))),
    ),
  );
}
