import { entityIdentifiers } from "./service";

/**
 * A Lambda event filter pattern (the subset roomcast uses): an object whose leaves are
 * lists of accepted values; a record matches when every leaf's value is in its list.
 */
export type FilterPattern = { [field: string]: FilterPattern | readonly (string | number | boolean)[] };

const entityIs = (...entities: string[]) => ({ [entityIdentifiers.entity]: { S: entities } });

/**
 * The records the stream worker is given: Lambda runs it for a record matching any of
 * these (the mapping's filterCriteria; local/stream-mapping.ts applies them the same way).
 * Everything else — rate-limit buckets, directory entries, clientId records — is left
 * out before it costs an invocation. One list: add a pattern here for a new kind of record.
 */
export const streamFilterPatterns: readonly FilterPattern[] = [
  // A message or membership that appears; a membership or connection that disappears.
  { dynamodb: { NewImage: entityIs("message", "membership") } },
  { dynamodb: { OldImage: entityIs("membership", "connection") } },
];

/** Whether a stream event record matches a pattern, as Lambda's event filtering decides. */
export function matchesFilter(record: unknown, pattern: FilterPattern): boolean {
  return Object.entries(pattern).every(([field, accepted]) => {
    const value = (record as Record<string, unknown> | undefined)?.[field];
    return Array.isArray(accepted)
      ? accepted.includes(value as string)
      : typeof value === "object" && value !== null && matchesFilter(value, accepted as FilterPattern);
  });
}

/** Whether Lambda would hand the record to the function: it matches at least one pattern. */
export const passesFilters = (record: unknown, patterns: readonly FilterPattern[]) =>
  patterns.length === 0 || patterns.some((pattern) => matchesFilter(record, pattern));
