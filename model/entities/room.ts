import { Entity, type EntityConfiguration } from "electrodb";

/**
 * A room with members, in the room directory (access pattern 4). Only the stream
 * worker writes it, once per room per stream batch, from the membership changes it
 * reads: no connect or join writes it, so no item takes every write of the stack.
 * The directory spreads over {@link roomDirectoryShards} partitions; an empty room's
 * item is deleted, so listing costs what it returns.
 */
export const roomSchema = {
  model: { entity: "room", version: "2", service: "roomcast" },
  attributes: {
    shard: { type: "number", required: true, readOnly: true },
    room: { type: "string", required: true, readOnly: true },
    // A function, not `0`: Pulumi 3.270 fails to serialize an object whose `default` is a primitive.
    members: { type: "number", required: true, default: () => 0 },
  },
  indexes: {
    byShard: {
      pk: { field: "pk", composite: ["shard"], template: "rooms#${shard}", casing: "none" },
      sk: { field: "sk", composite: ["room"], template: "room#${room}", casing: "none" },
    },
  },
} as const;

/** Partitions of the room directory: each takes a quarter of the count updates. */
export const roomDirectoryShards = 4;

/** The directory shard of a room: a stable hash of its name. */
export function roomShard(room: string): number {
  let hash = 0;
  for (const char of room) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % roomDirectoryShards;
}

export function createRoomEntity(config: EntityConfiguration) {
  return new Entity(roomSchema, config);
}

export type RoomEntity = ReturnType<typeof createRoomEntity>;
