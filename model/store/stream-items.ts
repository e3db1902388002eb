import type { Connection } from "../entities/connection";
import type { Membership } from "../entities/membership";
import type { Message } from "../entities/message";
import { entityIdentifiers } from "../service";
import type { StoreContext } from "./context";

/** A table item as the stream shows it, read as the entity it belongs to. */
export type StoredItem =
  | { entity: "message"; item: Message }
  | { entity: "membership"; item: Membership }
  | { entity: "connection"; item: Connection };

/** Reads the table's stream images as entities. */
export function streamItemReader({ entities }: StoreContext) {
  const { connection, membership, message } = entities;
  return {
    /** A stream image (unmarshalled) as a message, membership or connection; undefined for other items. */
    itemOf(image: Record<string, unknown>): StoredItem | undefined {
      const entity = image[entityIdentifiers.entity];
      if (entity !== "message" && entity !== "membership" && entity !== "connection") return undefined;
      const parsed =
        entity === "message"
          ? message.parse({ Item: image })
          : entity === "membership"
            ? membership.parse({ Item: image })
            : connection.parse({ Item: image });
      return parsed.data ? ({ entity, item: parsed.data } as StoredItem) : undefined;
    },
  };
}
