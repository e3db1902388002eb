import { Entity, type EntityConfiguration } from "electrodb";

/**
 * The highest `seq` of a room's delivered events, in the room's message partition beside
 * the events it numbers. An event claims its number with its own conditional put (the key
 * must be free), so two writers never take the same number and a failed write leaves no
 * gap; once the event is delivered the head is moved up to it, never down. It has no TTL:
 * events may expire and be deleted, their numbers are never handed out again (a client
 * that saw seq 41 must not take a new 41 for a repeat).
 */
export const roomHeadSchema = {
  model: { entity: "roomHead", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    seq: { type: "number", required: true },
  },
  indexes: {
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#messages", casing: "none" },
      // Sorts before every `seq#…` event key, so no event range includes it.
      sk: { field: "sk", composite: [], template: "head", casing: "none" },
    },
  },
} as const;

export function createRoomHeadEntity(config: EntityConfiguration) {
  return new Entity(roomHeadSchema, config);
}
