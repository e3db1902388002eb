import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * A room that has an owner (made by `createroom`), or a direct-message room (made by
 * `dm`): who owns it, whether it is private and, for a DM, its two users. A room joined
 * into being by `joinroom` has none. One item per room, in the room's access partition
 * beside its roles, invitations and bans, reached by GetItem. No TTL: a room name, once
 * taken, stays taken.
 */
export const roomAccessSchema = {
  model: { entity: "roomAccess", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    /**
     * The owner's principal (handlers/principals.ts): `user:<subject>`, `session:<id>` or
     * `conn:<id>`; a DM's is `none`, which is no principal: nobody holds it.
     */
    owner: { type: "string", required: true },
    private: { type: "boolean", required: true },
    createdAt: { type: "number", required: true },
    /** A DM's two users (token subjects), in the order its name sorts them; absent for any other room. */
    dm: { type: "list", items: { type: "string" } },
  },
  indexes: {
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#access", casing: "none" },
      sk: { field: "sk", composite: [], template: "room", casing: "none" },
    },
  },
} as const;

export function createRoomAccessEntity(config: EntityConfiguration) {
  return new Entity(roomAccessSchema, config);
}

export type RoomAccessEntity = ReturnType<typeof createRoomAccessEntity>;
export type RoomAccess = EntityItem<RoomAccessEntity>;
