import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * A connection's membership of a room, read on every broadcast (access pattern 1),
 * so it is as lean as an item can be: the key is the bare room name and the bare
 * connection id (room names never contain `#`, so no other item's key can equal
 * one), and the attributes carry one-letter names. About 60 bytes: 100 members
 * read for 1.0 RCU. Sorted by connection id, a room splits into slices by key
 * range (model/slices.ts), which the fan-out workers read in parallel.
 */
export const membershipSchema = {
  model: { entity: "membership", version: "2", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true, field: "pk" },
    connectionId: { type: "string", required: true, readOnly: true, field: "sk" },
    name: { type: "string", required: true, field: "n" },
    /** Set (true) only for a connection with a verified token identity; absent: a guest. */
    verified: { type: "boolean", field: "u" },
    /**
     * The token subject of a verified connection, so `members` can name whom to act on or
     * message; absent for a guest (or a membership written before this was kept).
     */
    userId: { type: "string", field: "s" },
    /** Set (true) just before a kick or ban deletes it: the leave it announces says so. */
    kicked: { type: "boolean", field: "k" },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    /** Pattern 1: members of room R, one Query on the partition `R`. */
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "${room}", casing: "none" },
      sk: { field: "sk", composite: ["connectionId"], template: "${connectionId}", casing: "none" },
    },
  },
} as const;

export function createMembershipEntity(config: EntityConfiguration) {
  return new Entity(membershipSchema, config);
}

export type MembershipEntity = ReturnType<typeof createMembershipEntity>;

/** A membership as the store reads and writes it. */
export type Membership = EntityItem<MembershipEntity>;
