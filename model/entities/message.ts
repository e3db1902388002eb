import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/** Digits of a key's seq: zero-padded so the string sort key sorts by number. */
export const seqDigits = 16;

/**
 * An event of a room's history, numbered by the room's `seq` (1, 2, 3, … with no gaps),
 * which is its sort key: history is one Query on `room#R#messages` in seq order, newest
 * first or after a seq. A `message` item holds the message's current state (its last
 * text and `editedAt`, or a tombstone: no text, `deleted`, `deletedAt`); an `edit` or
 * `delete` item is the change itself, under a number of its own from the same
 * sequence, so a client resuming `after` a seq sees it too. `id` (a ULID) names each
 * event uniquely; order is `seq`'s, not the id's.
 */
export const messageSchema = {
  model: { entity: "message", version: "3", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    seq: { type: "number", required: true, readOnly: true, padding: { length: seqDigits, char: "0" } },
    kind: { type: ["message", "edit", "delete"] as const, required: true, default: () => "message" as const },
    id: { type: "string", required: true, readOnly: true },
    from: { type: "string", required: true },
    /** True when the sender had a verified token identity; absent: a guest (or sent before this was kept). */
    verified: { type: "boolean" },
    /** Sender's connection, kept for moderation and audit; never sent to clients. */
    connectionId: { type: "string", required: true },
    /** Who may edit or delete it (a principal, handlers/principals.ts); absent: stored before this was kept. */
    author: { type: "string" },
    /** A message's text, or an edit's new text; absent on a tombstone and a delete. */
    text: { type: "string" },
    /** When the event was stored (for an edit or delete: when the change was made). */
    sentAt: { type: "string", required: true },
    /** An edit's or delete's message: its `id`. */
    target: { type: "string" },
    editedAt: { type: "string" },
    deleted: { type: "boolean" },
    deletedAt: { type: "string" },
    clientId: { type: "string" },
    /** Optional history retention; absent means kept. */
    expiresAt: { type: "number", field: "ttl" },
  },
  indexes: {
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#messages", casing: "none" },
      sk: { field: "sk", composite: ["seq"], template: "seq#${seq}", casing: "none" },
    },
  },
} as const;

export function createMessageEntity(config: EntityConfiguration) {
  return new Entity(messageSchema, config);
}

export type MessageEntity = ReturnType<typeof createMessageEntity>;

/** A message as the store reads and writes it. */
export type Message = EntityItem<MessageEntity>;
