import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * A principal banned from a room: `joinroom` answers BANNED while it lasts. A ban
 * with minutes expires (TTL; reads skip it once past), one without is permanent.
 */
export const banSchema = {
  model: { entity: "ban", version: "1", service: "roomcast" },
  attributes: {
    room: { type: "string", required: true, readOnly: true },
    principal: { type: "string", required: true, readOnly: true },
    expiresAt: { type: "number", field: "ttl" },
  },
  indexes: {
    byRoom: {
      pk: { field: "pk", composite: ["room"], template: "room#${room}#access", casing: "none" },
      sk: { field: "sk", composite: ["principal"], template: "ban#${principal}", casing: "none" },
    },
  },
} as const;

export function createBanEntity(config: EntityConfiguration) {
  return new Entity(banSchema, config);
}

export type BanEntity = ReturnType<typeof createBanEntity>;
export type Ban = EntityItem<BanEntity>;
