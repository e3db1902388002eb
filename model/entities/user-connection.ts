import { Entity, type EntityConfiguration } from "electrodb";

/**
 * A live connection of a verified user (auth on), in the user's own partition: all of a
 * user's connections are one Query away, for moderation and direct invitations. Written
 * in the `$connect` transaction, deleted with the connection, same TTL.
 */
export const userConnectionSchema = {
  model: { entity: "userConnection", version: "1", service: "roomcast" },
  attributes: {
    userId: { type: "string", required: true, readOnly: true },
    connectionId: { type: "string", required: true, readOnly: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    byUser: {
      pk: { field: "pk", composite: ["userId"], template: "user#${userId}#connections", casing: "none" },
      sk: { field: "sk", composite: ["connectionId"], template: "${connectionId}", casing: "none" },
    },
  },
} as const;

export function createUserConnectionEntity(config: EntityConfiguration) {
  return new Entity(userConnectionSchema, config);
}
