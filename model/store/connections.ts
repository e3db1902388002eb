import pLimit from "p-limit";
import type { Connection } from "../entities/connection";
import { assertCommitted, retryItemConflicts } from "./conflicts";
import type { StoreContext } from "./context";
import { isConditionFailure } from "./errors";

export type NewConnection = {
  connectionId: string;
  name: string;
  userId?: string;
  sessionId?: string;
  defaultRoom: string;
};

/** Connection records: connect, read, and every way a connection goes away. */
export function connectionStore({ entities, settings, now, nowSeconds, transact, live }: StoreContext) {
  const { connection, membership } = entities;

  /** Pattern 5. Undefined when missing or expired. */
  async function getConnection(connectionId: string) {
    const { data } = await connection.get({ connectionId }).go({ consistent: true });
    return live(data) ? data : undefined;
  }

  /** Deletes a removed connection's memberships (the stream worker, after a 410 or TTL). */
  async function removeMemberships(connectionId: string, rooms: readonly string[]) {
    let keys = rooms.map((room) => ({ room, connectionId }));
    while (keys.length > 0) {
      const { unprocessed } = await membership.delete(keys).go();
      keys = unprocessed as typeof keys;
    }
  }

  return {
    getConnection,
    removeMemberships,

    /** Records the connection and its default room's membership: one transaction of two items. */
    async connect(input: NewConnection): Promise<Connection> {
      const item: Connection = {
        ...input,
        rooms: [input.defaultRoom],
        roomCount: 1,
        connectedAt: now(),
        expiresAt: nowSeconds() + settings.connectionTtlSeconds,
      };
      await transact(({ connection: c, membership: m }) => [
        c.put(item).commit(),
        m
          .put({
            room: input.defaultRoom,
            connectionId: input.connectionId,
            name: input.name,
            expiresAt: item.expiresAt,
          })
          .commit(),
      ])
        .go()
        .then(assertCommitted("connect"));
      return item;
    },

    /** Removes the connection and its memberships; returns the removed record. Idempotent. */
    async disconnect(connectionId: string): Promise<Connection | undefined> {
      // The record goes first, returning the rooms it listed: a join racing this one
      // needs the record, so it can no longer add a room this cleanup would miss.
      const { data } = await retryItemConflicts(
        () => connection.delete({ connectionId }).go({ response: "all_old" }),
        settings.conflictAttempts,
      );
      const old = data as Connection | null;
      if (old?.rooms?.length) await removeMemberships(connectionId, old.rooms);
      return old ?? undefined;
    },

    /**
     * Removes connections a post found gone (410), in bulk; connections younger than
     * `graceSeconds` are kept (API Gateway answers 410 until `$connect` returns).
     */
    async removeGone(
      room: string,
      connectionIds: readonly string[],
      graceSeconds: number,
    ): Promise<{ removed: number; kept: number }> {
      const cutoff = now() - graceSeconds * 1000;
      const limit = pLimit(16);
      const outcomes = await Promise.all(
        connectionIds.map((connectionId) =>
          limit(async () => {
            try {
              const { data } = await connection
                .delete({ connectionId })
                .where((a, op) => `${op.notExists(a.connectedAt)} OR ${op.lt(a.connectedAt, cutoff)}`)
                .go({ response: "all_old" });
              const old = data as Connection | null;
              // No record (already cleaned up or expired): the membership that was posted to goes alone.
              await removeMemberships(connectionId, old?.rooms?.length ? old.rooms : [room]);
              return "removed" as const;
            } catch (error) {
              if (isConditionFailure(error)) return "kept" as const;
              throw error;
            }
          }),
        ),
      );
      const removed = outcomes.filter((o) => o === "removed").length;
      return { removed, kept: outcomes.length - removed };
    },
  };
}
