import pLimit from "p-limit";
import type { Connection } from "../entities/connection";
import { retryItemConflicts } from "./conflicts";
import { connectionSlotStore, type ConnectionCap } from "./connection-slots";
import type { StoreContext } from "./context";
import { ConnectionCapError, isConditionFailure, JoinGuardError, TransactionCanceledError } from "./errors";
import { memberIdentity, type JoinGuard } from "./memberships";

export type NewConnection = {
  connectionId: string;
  name: string;
  userId?: string;
  sessionId?: string;
  defaultRoom: string;
};

/** Connection records: connect, read, and every way a connection goes away. */
export function connectionStore(context: StoreContext) {
  const { entities, settings, now, nowSeconds, transact, live, conflicts } = context;
  const { connection, membership, userConnection } = entities;
  const { freeSlot, releaseSlots } = connectionSlotStore(context);

  /** Pattern 5. Undefined when missing or expired. */
  async function getConnection(connectionId: string) {
    const { data } = await connection.get({ connectionId }).go({ consistent: true });
    return live(data) ? data : undefined;
  }

  /** Deletes a removed connection's memberships (the stream worker, after a 410 or TTL). */
  async function removeMemberships(connectionId: string, rooms: readonly string[]) {
    await context.untilAllProcessed(
      rooms.map((room) => ({ room, connectionId })),
      async (keys) => (await membership.delete([...keys]).go()).unprocessed as typeof keys,
    );
  }

  return {
    getConnection,
    removeMemberships,

    /**
     * Records the connection and its default room's membership: one transaction of two
     * items, plus one slot per cap in `caps` (a free one, claimed on condition it is
     * still free) and the join's `guards`. Throws {@link ConnectionCapError} when a cap has
     * no free slot, {@link JoinGuardError} when a guard does not hold.
     */
    async connect(
      input: NewConnection,
      caps: readonly ConnectionCap[] = [],
      guards: readonly JoinGuard[] = [],
    ): Promise<Connection> {
      for (let attempt = 1; ; attempt++) {
        const slots = await Promise.all(
          caps.map(async (cap) => {
            const slot = await freeSlot(cap);
            if (slot === undefined) throw new ConnectionCapError(cap.owner, cap.cap);
            return { owner: cap.owner, slot };
          }),
        );
        const item: Connection = {
          ...input,
          rooms: [input.defaultRoom],
          roomCount: 1,
          ...(slots.length > 0 && { slots }),
          connectedAt: now(),
          expiresAt: nowSeconds() + settings.connectionTtlSeconds,
        };
        const { connectionId, expiresAt } = item;
        const result = await transact((entities) => {
          const { connection: c, membership: m, connectionSlot: s, userConnection: u } = entities;
          return [
            c.put(item).commit(),
            m
              .put({
                room: input.defaultRoom,
                connectionId,
                name: input.name,
                ...memberIdentity(input),
                expiresAt,
              })
              .commit(),
            ...slots.map(({ owner, slot }) =>
              s
                .put({ owner, slot, connectionId, expiresAt })
                // Free, or held by a connection that expired (its `$disconnect` was lost).
                .where((a, op) => `${op.notExists(a.connectionId)} OR ${op.lte(a.expiresAt, nowSeconds())}`)
                .commit(),
            ),
            ...(input.userId ? [u.put({ userId: input.userId, connectionId, expiresAt }).commit()] : []),
            ...guards.map((guard) => guard(entities)),
          ];
        }).go();
        if (!result.canceled) return item;
        const writes = result.data as { rejected: boolean }[];
        if (writes.slice(writes.length - guards.length).some((write) => write.rejected)) {
          throw new JoinGuardError(input.defaultRoom);
        }
        // Another handshake claimed the same slot first: read the slots again.
        const slotTaken = result.data.slice(2, 2 + slots.length).some((write) => write.rejected);
        if (!slotTaken || attempt >= conflicts.attempts)
          throw new TransactionCanceledError("connect", result.data);
        await conflicts.backoff(attempt);
      }
    },

    /** Removes the connection and its memberships; returns the removed record. Idempotent. */
    async disconnect(connectionId: string): Promise<Connection | undefined> {
      // The record goes first, returning the rooms it listed: a join racing this one
      // needs the record, so it can no longer add a room this cleanup would miss.
      const { data } = await retryItemConflicts(
        () => connection.delete({ connectionId }).go({ response: "all_old" }),
        conflicts,
      );
      const old = data as Connection | null;
      await Promise.all([
        old?.rooms?.length ? removeMemberships(connectionId, old.rooms) : undefined,
        old?.slots?.length ? releaseSlots(connectionId, old.slots) : undefined,
        old?.userId ? userConnection.delete({ userId: old.userId, connectionId }).go() : undefined,
      ]);
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
              if (old?.slots?.length) await releaseSlots(connectionId, old.slots);
              if (old?.userId) await userConnection.delete({ userId: old.userId, connectionId }).go();
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
