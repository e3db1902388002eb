import { countedChangeTtlSeconds } from "../entities/counted-change";
import { roomDirectoryShards, roomShard } from "../entities/room";
import type { StoreContext } from "./context";
import { TransactionCanceledError } from "./errors";

export type RoomCount = { room: string; members: number };
export type RoomInfo = { members: number };

/** One membership appearing (+1) or disappearing (-1): its stream record's sequence number. */
export type RoomChange = { room: string; connectionId: string; delta: number; sequenceNumber: string };

/** A transaction holds at most 100 items: the directory entry and this many markers. */
const changesPerTransaction = 99;

/** The room directory: member counts and the room list. */
export function roomStore({ entities, nowSeconds, writeOnce, conflicts }: StoreContext) {
  const { room: directory } = entities;

  /**
   * Counts up to {@link changesPerTransaction} changes of one room in one transaction: a
   * marker per change (condition: not there yet, see entities/counted-change.ts) and the
   * entry's count moved from the value read (condition: still that value). A marker already
   * there was counted before: it is left out and the rest tried again; a concurrent writer
   * (another shard's batch) moved the count: read it again. Returns the count after.
   */
  async function countOnce(room: string, changes: RoomChange[]): Promise<number> {
    const key = { shard: roomShard(room), room };
    let pending = changes;
    for (let attempt = 1; ; attempt++) {
      const { data: entry } = await directory.get(key).go({ consistent: true });
      const before = entry?.members ?? 0;
      if (pending.length === 0) return before;
      // A leave read before its join leaves the count below 0 until the join comes:
      // the entry keeps it (reads show 0), so the join then ends at the right count.
      const after = before + pending.reduce((sum, c) => sum + c.delta, 0);
      const expiresAt = nowSeconds() + countedChangeTtlSeconds;
      const written = await writeOnce(({ room: entries, countedChange: marker }) => [
        ...pending.map(({ connectionId, sequenceNumber }) =>
          marker.create({ room, connectionId, sequenceNumber, expiresAt }).commit(),
        ),
        !entry
          ? after === 0
            ? // Nothing to write, but the entry must still be absent: a delete of what is not
              // there checks that, with the permission the worker has anyway.
              entries
                .delete(key)
                .where((a, op) => op.notExists(a.members))
                .commit()
            : entries.create({ ...key, members: after }).commit()
          : after === 0
            ? entries
                .delete(key)
                .where((a, op) => op.eq(a.members, before))
                .commit()
            : entries
                .patch(key)
                .set({ members: after })
                .where((a, op) => op.eq(a.members, before))
                .commit(),
      ]).go();
      if (!written.canceled) return after;
      const reasons = written.data as { code?: string }[];
      const counted = pending.filter((_, i) => reasons[i]?.code === "ConditionalCheckFailed");
      const raced = reasons.some(
        (r) => r.code === "ConditionalCheckFailed" || r.code === "TransactionConflict",
      );
      if (!raced) throw new TransactionCanceledError("room count", reasons);
      if (counted.length) {
        pending = pending.filter((c) => !counted.includes(c));
        continue;
      }
      if (attempt >= conflicts.attempts) throw new TransactionCanceledError("room count", reasons);
      await conflicts.backoff(attempt);
    }
  }

  async function applyRoomChange(room: string, changes: RoomChange[]): Promise<number> {
    // One transaction cannot write an item twice: a record given twice is one change.
    const distinct = [...new Map(changes.map((c) => [`${c.connectionId}#${c.sequenceNumber}`, c])).values()];
    let members = 0;
    for (let from = 0; from < distinct.length; from += changesPerTransaction) {
      members = await countOnce(room, distinct.slice(from, from + changesPerTransaction));
    }
    return members;
  }

  return {
    /** The room's directory entry: its member count; undefined for an empty room. */
    async roomInfo(room: string): Promise<RoomInfo | undefined> {
      const { data } = await directory.get({ shard: roomShard(room), room }).go();
      // Below 0 only until a late join arrives: no one is there.
      return data ? { members: Math.max(0, data.members) } : undefined;
    },

    /** Pattern 4: rooms with at least one member. */
    async listRooms(): Promise<RoomCount[]> {
      const shards = await Promise.all(
        Array.from({ length: roomDirectoryShards }, (_, shard) =>
          directory.query.byShard({ shard }).go({ pages: "all" }),
        ),
      );
      return shards
        .flatMap(({ data }) => data)
        .filter((r) => r.members > 0)
        .map(({ room, members }) => ({ room, members }))
        .sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0));
    },

    /** Applies membership changes to the room directory, once each; returns the new counts. */
    async applyRoomChanges(changes: readonly RoomChange[]): Promise<Map<string, number>> {
      const byRoom = new Map<string, RoomChange[]>();
      for (const change of changes) byRoom.set(change.room, [...(byRoom.get(change.room) ?? []), change]);
      const counts = new Map<string, number>();
      await Promise.all(
        [...byRoom].map(async ([room, roomChanges]) => {
          counts.set(room, await applyRoomChange(room, roomChanges));
        }),
      );
      return counts;
    },
  };
}
