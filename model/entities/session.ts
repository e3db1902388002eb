import { Entity, type EntityConfiguration } from "electrodb";

/**
 * A client session the server issued (the `session` action): its id scopes the
 * client's `clientId`s across reconnects, so only ids found here are trusted at
 * `$connect`. Random and unguessable; it expires after `sessionTtlSeconds`.
 */
export const sessionSchema = {
  model: { entity: "session", version: "1", service: "roomcast" },
  attributes: {
    id: { type: "string", required: true, readOnly: true },
    issuedAt: { type: "number", required: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    byId: {
      pk: { field: "pk", composite: ["id"], template: "session#${id}", casing: "none" },
      sk: { field: "sk", composite: [], template: "session", casing: "none" },
    },
  },
} as const;

export function createSessionEntity(config: EntityConfiguration) {
  return new Entity(sessionSchema, config);
}
