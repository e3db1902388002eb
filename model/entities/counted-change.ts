import { Entity, type EntityConfiguration } from "electrodb";

/**
 * Proof that one membership stream record was counted into its room's directory entry:
 * written in the same transaction as the count, on condition it is not there yet, so a
 * record handed over again (a retried batch, a dead-letter replay) counts once.
 *
 * Keyed by the record itself — the membership's connection id and the record's stream
 * sequence number — not by a high-water mark: a room's records can come from more than
 * one shard (after its partition splits), whose numbers are not ordered between them,
 * and a replay brings old records after newer ones. A replay re-reads the same records,
 * so it meets their markers; any other record of the same membership has a number of its
 * own. The connection id leads the sort key so a busy room's markers spread over the key
 * range like its memberships do, and DynamoDB can split a hot room's partition evenly.
 */
export const countedChangeSchema = {
  model: { entity: "countedChange", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    connectionId: { type: "string", required: true, readOnly: true },
    sequenceNumber: { type: "string", required: true, readOnly: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    byRecord: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#counted", casing: "none" },
      sk: {
        field: "sk",
        composite: ["connectionId", "sequenceNumber"],
        template: "${connectionId}#${sequenceNumber}",
        casing: "none",
      },
    },
  },
} as const;

/**
 * How long a marker is kept: the stream keeps a record 24 hours, and a replay reads it
 * back from the stream (scripts/replay-stream-dead-letters.ts), so a record can come back
 * at most 24 hours after it was first counted; one hour more covers clock skew.
 */
export const countedChangeTtlSeconds = 25 * 60 * 60;

export function createCountedChangeEntity(config: EntityConfiguration) {
  return new Entity(countedChangeSchema, config);
}

export type CountedChangeEntity = ReturnType<typeof createCountedChangeEntity>;
