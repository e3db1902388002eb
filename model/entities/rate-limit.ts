import { Entity, type EntityConfiguration } from "electrodb";

/**
 * One rate-limit bucket (a connection's, a user's or a session's, for writes or reads),
 * in an item of its own: counting a frame never touches the connection record that
 * join and leave transactions write, and the stream worker's filter leaves these items
 * out (model/stream-filter.ts). The bucket is kept as GCRA's theoretical arrival time,
 * which is a token bucket in one number: see model/store/rate-limits.ts.
 */
export const rateLimitSchema = {
  model: { entity: "rateLimit", version: "1", service: "roomcast" },
  attributes: {
    /** Whose bucket: `conn#…#write`, `user#…#read`, `session#…#write`, … */
    bucket: { type: "string", required: true, readOnly: true },
    /** Milliseconds since the epoch at which the bucket is full again. */
    fullAt: { type: "number", required: true },
    /** Refusals in a row since the last frame let through: a connection that keeps at it is closed. */
    refusals: { type: "number" },
    expiresAt: { type: "number", required: true, field: "ttl" },
  },
  indexes: {
    byBucket: {
      pk: { field: "pk", composite: ["bucket"], template: "rate#${bucket}", casing: "none" },
      sk: { field: "sk", composite: [], template: "rate", casing: "none" },
    },
  },
} as const;

export function createRateLimitEntity(config: EntityConfiguration) {
  return new Entity(rateLimitSchema, config);
}

export type RateLimitEntity = ReturnType<typeof createRateLimitEntity>;
