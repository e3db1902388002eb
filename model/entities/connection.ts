import { Entity, type EntityConfiguration } from "electrodb";

/**
 * A live WebSocket connection (access pattern 5: GetItem by connection id).
 * Connection ids are case-sensitive (`abcD=` and `abcd=` differ), so key casing is off.
 */
export const connectionSchema = {
  model: { entity: "connection", version: "1", service: "roomcast" },
  attributes: {
    connectionId: { type: "string", required: true, readOnly: true },
    name: { type: "string", required: true },
    /** Subject of the authorizer's token, when auth is configured. */
    userId: { type: "string" },
    defaultRoom: { type: "string", required: true },
    /** How many rooms the connection is in; guarded by the rooms-per-connection cap. */
    roomCount: { type: "number", required: true, default: 0 },
    connectedAt: { type: "number", required: true },
    expiresAt: { type: "number", required: true },
  },
  indexes: {
    byId: {
      pk: { field: "pk", composite: ["connectionId"], template: "conn#${connectionId}", casing: "none" },
      sk: { field: "sk", composite: [], template: "connection", casing: "none" },
    },
  },
} as const;

export function createConnectionEntity(config: EntityConfiguration) {
  return new Entity(connectionSchema, config);
}

export type ConnectionEntity = ReturnType<typeof createConnectionEntity>;
