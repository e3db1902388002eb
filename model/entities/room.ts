import { Entity, type EntityConfiguration } from "electrodb";

/**
 * A room and its member count, all rooms in one partition (access pattern 4:
 * the room list with counts is one Query). Counts move in the same transaction
 * as the membership they count.
 */
export const roomSchema = {
  model: { entity: "room", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    // A function, not `0`: Pulumi 3.270 fails to serialize an object whose `default` is a primitive.
    members: { type: "number", required: true, default: () => 0 },
  },
  indexes: {
    all: {
      pk: { field: "pk", composite: [], template: "rooms", casing: "none" },
      sk: { field: "sk", composite: ["room"], template: "room#${room}", casing: "none" },
    },
  },
} as const;

export function createRoomEntity(config: EntityConfiguration) {
  return new Entity(roomSchema, config);
}

export type RoomEntity = ReturnType<typeof createRoomEntity>;
