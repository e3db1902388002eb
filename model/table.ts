/**
 * The one table roomcast uses. This definition is the single source of truth for
 * the Pulumi table (index.ts) and the local CreateTable (tests, `npm start`).
 */
export const tableDefinition = {
  partitionKey: "pk",
  sortKey: "sk",
  /** Connection-bearing items expire with their connection; DynamoDB deletes them lazily. */
  ttlAttribute: "expiresAt",
  globalIndexes: [
    {
      /** Rooms of a connection: memberships keyed by connection id (cleanup on $disconnect / 410). */
      name: "gsi1",
      partitionKey: "gsi1pk",
      sortKey: "gsi1sk",
    },
  ],
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
