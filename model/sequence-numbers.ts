/**
 * Orders DynamoDB Streams sequence numbers: decimal strings that grow over time for
 * one partition key, and grow in length too, so they compare as numbers, not text.
 *
 * @example
 * compareSequenceNumbers("900", "1000"); // < 0
 */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}
