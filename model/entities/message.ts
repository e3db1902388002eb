import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * A chat message. Ids are ULIDs, so the sort key orders a room's history by time
 * (access pattern 3: newest first, one Query on `room#R#messages` with a cursor).
 */
export const messageSchema = {
  model: { entity: "message", version: "2", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    id: { type: "string", required: true, readOnly: true },
    from: { type: "string", required: true },
    /** Sender's connection, kept for moderation and audit; never sent to clients. */
    connectionId: { type: "string", required: true },
    text: { type: "string", required: true },
    sentAt: { type: "string", required: true },
    clientId: { type: "string" },
    /** Optional history retention; absent means kept. */
    expiresAt: { type: "number", field: "ttl" },
  },
  indexes: {
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#messages", casing: "none" },
      sk: { field: "sk", composite: ["id"], template: "msg#${id}", casing: "none" },
    },
  },
} as const;

export function createMessageEntity(config: EntityConfiguration) {
  return new Entity(messageSchema, config);
}

export type MessageEntity = ReturnType<typeof createMessageEntity>;

/** A message as the store reads and writes it. */
export type Message = EntityItem<MessageEntity>;
