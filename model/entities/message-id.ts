import { Entity, type EntityConfiguration } from "electrodb";

/**
 * Where a room's message is by its `id`: its `seq`, the message's sort key. Written with
 * the message's delivery mark once it is delivered (the stream's safety net writes both
 * when the request could not), so `editmessage` and `deletemessage`, which name a message
 * by id, find it with two GetItems and no Query of the room's history.
 */
export const messageIdSchema = {
  model: { entity: "messageId", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    id: { type: "string", required: true, readOnly: true },
    seq: { type: "number", required: true },
    /** The message's own retention: the two expire together. */
    expiresAt: { type: "number", field: "ttl" },
  },
  indexes: {
    byId: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#ids", casing: "none" },
      sk: { field: "sk", composite: ["id"], template: "${id}", casing: "none" },
    },
  },
} as const;

export function createMessageIdEntity(config: EntityConfiguration) {
  return new Entity(messageIdSchema, config);
}
