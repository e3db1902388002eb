import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * A live WebSocket connection (access pattern 5: GetItem by connection id). It also
 * lists the rooms the connection is in (access pattern 2), so `$disconnect`, 410
 * cleanup and TTL expiry find every membership with one consistent read, never
 * through an index that may lag. Connection ids are case-sensitive: key casing is off.
 */
export const connectionSchema = {
  model: { entity: "connection", version: "2", service: "roomcast" },
  attributes: {
    connectionId: { type: "string", required: true, readOnly: true },
    name: { type: "string", required: true },
    /** Subject of the authorizer's token, when auth is configured. */
    userId: { type: "string" },
    /** The id the client keeps across reconnects (`?session=`): scopes its `clientId`s. */
    sessionId: { type: "string" },
    defaultRoom: { type: "string", required: true },
    /** The rooms this connection is in; written in the same transaction as each membership. */
    rooms: { type: "set", items: "string" },
    /** How many rooms: the condition of the rooms-per-connection cap (DynamoDB cannot compare a set's size). */
    // A function, not `0`: Pulumi 3.270 fails to serialize an object whose `default` is a primitive.
    roomCount: { type: "number", required: true, default: () => 0 },
    /** The connection-cap slots it holds (entities/connection-slot.ts), freed when it goes. */
    slots: {
      type: "list",
      items: {
        type: "map",
        properties: { owner: { type: "string", required: true }, slot: { type: "number", required: true } },
      },
    },
    connectedAt: { type: "number", required: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
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

/** A connection as the store reads and writes it. */
export type Connection = EntityItem<ConnectionEntity>;
