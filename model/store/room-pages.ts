import { roomDirectoryShards } from "../entities/room";
import type { StoreContext } from "./context";
import type { RoomCount } from "./rooms";

/** Where each directory shard's listing stands: the last room taken from it (null: none yet). */
export type ShardPositions = (string | null)[];

/**
 * The room list page by page (pattern 4), in room-name order across the directory's
 * shards, reading a bounded amount whatever the directory's size: one Query per shard,
 * at most `limit` items each, from that shard's own position.
 */
export function roomPageStore({ entities }: StoreContext) {
  const { room: directory } = entities;
  return {
    /**
     * Up to `limit` directory entries after `positions`, merged by name, each with its
     * shard (so the caller can move each shard's position past what it shows); `more`
     * when entries remain beyond them. Only the entries up to every unfinished shard's
     * last read are certain to be in order, so the page stops there. Entries of rooms
     * that just emptied (0 members) are in the list too, for the positions to move past.
     */
    async roomsPage(
      positions: ShardPositions = Array.from({ length: roomDirectoryShards }, () => null),
      limit: number,
    ): Promise<{ rooms: (RoomCount & { shard: number })[]; more: boolean }> {
      const reads = await Promise.all(
        Array.from({ length: roomDirectoryShards }, async (_, shard) => {
          const query = directory.query.byShard({ shard });
          const after = positions[shard];
          const { data, cursor } = await (after ? query.gt({ room: after }) : query).go({ limit });
          return { shard, data, finished: cursor === null };
        }),
      );
      // A shard that stopped short may hold rooms sorting before another shard's later ones.
      const horizon = reads
        .filter((read) => !read.finished && read.data.length > 0)
        .map((read) => read.data.at(-1)!.room)
        .sort()[0];
      const rooms = reads
        .flatMap(({ shard, data }) => data.map(({ room, members }) => ({ room, members, shard })))
        .filter((r) => horizon === undefined || r.room <= horizon)
        .sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0))
        .slice(0, limit);
      const read = reads.reduce((sum, { data }) => sum + data.length, 0);
      return { rooms, more: reads.some((r) => !r.finished) || read > rooms.length };
    },
  };
}
