import { Entity, type EntityConfiguration } from "electrodb";

/**
 * A connection's membership of a room. Read on every broadcast (access pattern 1),
 * so it stays lean: just what a broadcast, a presence event and `members` need.
 * The room's members live in their own partition, apart from its messages.
 */
export const membershipSchema = {
  model: { entity: "membership", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    connectionId: { type: "string", required: true, readOnly: true },
    name: { type: "string", required: true },
    expiresAt: { type: "number", required: true },
  },
  indexes: {
    /** Pattern 1: members of room R, one Query on `room#R#members`. */
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#members", casing: "none" },
      sk: { field: "sk", composite: ["connectionId"], template: "conn#${connectionId}", casing: "none" },
    },
    /** Pattern 2: rooms of connection C, one Query on gsi1 `conn#C`. */
    byConnection: {
      index: "gsi1",
      pk: { field: "gsi1pk", composite: ["connectionId"], template: "conn#${connectionId}", casing: "none" },
      sk: { field: "gsi1sk", composite: ["room"], template: "room#${room}", casing: "none" },
    },
  },
} as const;

export function createMembershipEntity(config: EntityConfiguration) {
  return new Entity(membershipSchema, config);
}

export type MembershipEntity = ReturnType<typeof createMembershipEntity>;
