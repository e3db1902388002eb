import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * One of the numbered places a user or a source IP has for live connections (the
 * per-user and per-IP connection caps). `$connect` reads the owner's partition with
 * one Query and claims a free number in the same transaction that records the
 * connection, on condition that the number is free or expired: two handshakes racing
 * for the last place cannot both win. The slot expires with its connection, so a
 * lost `$disconnect` frees it at the latest when the connection would have expired.
 */
export const connectionSlotSchema = {
  model: { entity: "connectionSlot", version: "1", service: "roomcast" },
  attributes: {
    /** Whose slots: `user#<token subject>` or `ip#<source IP>`. */
    owner: { type: "string", required: true, readOnly: true },
    slot: { type: "number", required: true, readOnly: true },
    connectionId: { type: "string", required: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    byOwner: {
      pk: { field: "pk", composite: ["owner"], template: "slots#${owner}", casing: "none" },
      sk: { field: "sk", composite: ["slot"], template: "slot#${slot}", casing: "none" },
    },
  },
} as const;

export function createConnectionSlotEntity(config: EntityConfiguration) {
  return new Entity(connectionSlotSchema, config);
}

export type ConnectionSlotEntity = ReturnType<typeof createConnectionSlotEntity>;

export type ConnectionSlot = EntityItem<ConnectionSlotEntity>;
