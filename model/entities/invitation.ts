import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * An invitation code to a room, stored as the SHA-256 of the code (the table never
 * holds a code that would let anyone in): `joinroom` with the code is one GetItem.
 * It expires (TTL; reads skip it once past) and is revoked by deleting it.
 */
export const invitationSchema = {
  model: { entity: "invitation", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    codeHash: { type: "string", required: true, readOnly: true },
    /** Principal of the owner or moderator who made it. */
    by: { type: "string", required: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#access", casing: "none" },
      sk: { field: "sk", composite: ["codeHash"], template: "invite#${codeHash}", casing: "none" },
    },
  },
} as const;

export function createInvitationEntity(config: EntityConfiguration) {
  return new Entity(invitationSchema, config);
}

export type InvitationEntity = ReturnType<typeof createInvitationEntity>;
export type Invitation = EntityItem<InvitationEntity>;
