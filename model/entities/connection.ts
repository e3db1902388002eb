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
    // A function, not `0`: Pulumi 3.270 fails to serialize an object whose `default` is a primitive.
    roomCount: { type: "number", required: true, default: () => 0 },
    connectedAt: { type: "number", required: true },
    /** Fixed-window message rate limit: the window's number and the messages sent in it. */
    rateWindow: { type: "number" },
    rateCount: { type: "number" },
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
