import type { ConnectionSlot } from "../entities/connection-slot";
import type { StoreContext } from "./context";
import { isConditionFailure } from "./errors";

/** A cap on live connections of one owner (`user#<subject>` or `ip#<address>`). */
export type ConnectionCap = { owner: string; cap: number };

/** A slot a connection holds, as its record lists it. */
export type HeldSlot = { owner: string; slot: number };

/**
 * The per-user and per-IP connection caps' reads and releases. The claim itself is a
 * conditional put in `connect`'s transaction (model/store/connections.ts).
 */
export function connectionSlotStore({ entities, live }: StoreContext) {
  const { connectionSlot } = entities;

  return {
    /**
     * The lowest free slot number under the cap, or undefined when the owner already has
     * `cap` live connections: one consistent Query of the owner's partition (at most
     * about `cap` items); expired slots — a lost `$disconnect` — are free.
     */
    async freeSlot({ owner, cap }: ConnectionCap): Promise<number | undefined> {
      const { data } = await connectionSlot.query.byOwner({ owner }).go({ consistent: true, pages: "all" });
      const held = new Set(data.filter((slot: ConnectionSlot) => live(slot)).map((slot) => slot.slot));
      if (held.size >= cap) return undefined;
      let slot = 0;
      while (held.has(slot)) slot++;
      return slot;
    },

    /** Frees a removed connection's slots, unless another connection took one after it expired. */
    async releaseSlots(connectionId: string, slots: readonly HeldSlot[]) {
      await Promise.all(
        slots.map(({ owner, slot }) =>
          connectionSlot
            .delete({ owner, slot })
            .where((a, op) => op.eq(a.connectionId, connectionId))
            .go({ response: "none" })
            .catch((error: unknown) => {
              if (!isConditionFailure(error)) throw error;
            }),
        ),
      );
    },
  };
}
