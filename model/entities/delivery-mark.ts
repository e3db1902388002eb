import { Entity, type EntityConfiguration } from "electrodb";

/**
 * A message whose delivery is settled: the sender's request posted it to every member
 * (or handed each post it could not make to a retry job), or the safety net did. The
 * stream worker batch-reads these for the messages it sees; one without its mark after
 * the fast path's time cap is delivered again. A small item of its own, left out of the
 * stream mapping's filter (model/stream-filter.ts), expiring a day after it is written,
 * longer than a stream record lives (24 h).
 */
export const deliveryMarkSchema = {
  model: { entity: "deliveryMark", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    seq: { type: "number", required: true, readOnly: true },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    byMessage: {
      pk: { field: "pk", composite: ["room", "seq"], template: "delivered#${room}#${seq}", casing: "none" },
      sk: { field: "sk", composite: [], template: "delivered", casing: "none" },
    },
  },
} as const;

export function createDeliveryMarkEntity(config: EntityConfiguration) {
  return new Entity(deliveryMarkSchema, config);
}

export type DeliveryMarkEntity = ReturnType<typeof createDeliveryMarkEntity>;
