import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

export const roles = ["owner", "moderator", "member"] as const;
export type Role = (typeof roles)[number];

/**
 * Someone's role in a room with an owner: the owner, a moderator, or a member let into
 * a private room (by an invitation or directly). Keyed by principal, so a check is one
 * GetItem per principal of the connection. A member of a public room needs no item.
 */
export const roomRoleSchema = {
  model: { entity: "roomRole", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    principal: { type: "string", required: true, readOnly: true },
    role: { type: ["owner", "moderator", "member"] as const, required: true },
  },
  indexes: {
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#access", casing: "none" },
      sk: { field: "sk", composite: ["principal"], template: "role#${principal}", casing: "none" },
    },
  },
} as const;

export function createRoomRoleEntity(config: EntityConfiguration) {
  return new Entity(roomRoleSchema, config);
}

export type RoomRoleEntity = ReturnType<typeof createRoomRoleEntity>;
export type RoomRole = EntityItem<RoomRoleEntity>;
