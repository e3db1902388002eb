import { Entity, type EntityConfiguration } from "electrodb";

/**
 * Idempotency record: which message a client session's `clientId` produced in a room.
 * Written in the same transaction as the message, with a not-exists condition,
 * so a repeated clientId stores one message, not two.
 */
export const clientMessageSchema = {
  model: { entity: "clientMessage", version: "3", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    /** The client session that sent it: `user:<token subject>`, `session:<id>` or `connection:<id>`. */
    session: { type: "string", required: true, readOnly: true },
    clientId: { type: "string", required: true, readOnly: true },
    messageId: { type: "string", required: true },
    /** The first message's seq: a resend is acked with its id and seq. */
    seq: { type: "number", required: true },
    sentAt: { type: "string", required: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    bySession: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#clientids", casing: "none" },
      sk: {
        field: "sk",
        composite: ["session", "clientId"],
        template: "${session}#${clientId}",
        casing: "none",
      },
    },
  },
} as const;

export function createClientMessageEntity(config: EntityConfiguration) {
  return new Entity(clientMessageSchema, config);
}

export type ClientMessageEntity = ReturnType<typeof createClientMessageEntity>;
