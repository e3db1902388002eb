import { roomDirectoryShards, roomShard } from "../entities/room";
import { compareSequenceNumbers } from "../sequence-numbers";
import type { StoreContext } from "./context";
import { isConditionFailure } from "./errors";

export type RoomCount = { room: string; members: number };
export type RoomInfo = { members: number };

/** One membership appearing (+1) or disappearing (-1), at its stream sequence number. */
export type RoomChange = { room: string; delta: number; sequenceNumber: string };

/** The room directory: member counts, the room list and each room's fan-out path. */
export function roomStore({ entities, settings }: StoreContext) {
  const { room: directory } = entities;

  async function applyRoomChange(room: string, changes: RoomChange[]): Promise<number> {
    const key = { shard: roomShard(room), room };
    for (let attempt = 1; ; attempt++) {
      const { data: entry } = await directory.get(key).go({ consistent: true });
      // A retried stream batch repeats changes already counted: count each sequence number once.
      const fresh = changes.filter(
        (c) => !entry?.lastSeq || compareSequenceNumbers(c.sequenceNumber, entry.lastSeq) > 0,
      );
      if (fresh.length === 0) return entry?.members ?? 0;
      const members = Math.max(0, (entry?.members ?? 0) + fresh.reduce((sum, c) => sum + c.delta, 0));
      const lastSeq = fresh[fresh.length - 1].sequenceNumber;
      const unchanged = (
        a: { lastSeq: unknown },
        op: { notExists: (x: unknown) => string; eq: (x: unknown, v: unknown) => string },
      ) => (entry?.lastSeq ? op.eq(a.lastSeq, entry.lastSeq) : op.notExists(a.lastSeq));
      try {
        if (members === 0) {
          await directory
            .delete(key)
            .where((a, op) => unchanged(a, op))
            .go();
        } else {
          await directory
            .upsert({ ...key, members, lastSeq })
            .where((a, op) => unchanged(a, op))
            .go();
        }
        return members;
      } catch (error) {
        // Another writer moved the entry (only a stream retry racing itself): read it again.
        if (!isConditionFailure(error) || attempt >= settings.conflictAttempts) throw error;
      }
    }
  }

  return {
    /** The room's directory entry: its member count and fan-out path; undefined for an empty room. */
    async roomInfo(room: string): Promise<RoomInfo | undefined> {
      const { data } = await directory.get({ shard: roomShard(room), room }).go();
      return data ? { members: data.members } : undefined;
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
