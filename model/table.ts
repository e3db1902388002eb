/**
 * The one table roomcast uses. This definition is the single source of truth for
 * the Pulumi table (index.ts) and the local CreateTable (tests, `npm start`).
 */
export const tableDefinition = {
  partitionKey: "pk",
  sortKey: "sk",
  /** Connection-bearing items expire with their connection; DynamoDB deletes them lazily. */
  ttlAttribute: "ttl",
  /**
   * The outbox: every stored message, membership change and removed connection reaches
   * the stream worker (fan-out, room counts, presence, cleanup) through the table's stream.
   */
  stream: { viewType: "NEW_AND_OLD_IMAGES" },
  /**
   * None: a connection's rooms live on its own record (read with one consistent GetItem),
   * so cleanup never waits for an eventually consistent index.
   */
  globalIndexes: [] as readonly { name: string; partitionKey: string; sortKey: string }[],
} as const;

export type TableDefinition = typeof tableDefinition;

/** Every key attribute is a string: ElectroDB composes keys as strings. */
export function keyAttributes(def: TableDefinition = tableDefinition): string[] {
  return [
    def.partitionKey,
    def.sortKey,
    ...def.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
}
