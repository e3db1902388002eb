import type { ScheduledEvent } from "aws-lambda";
import pLimit from "p-limit";
import { roomDirectoryShards } from "../../model/entities/room";
import type { ShardPositions } from "../../model/store";
import type { Worker } from "../worker";

/**
 * How often the sweep runs: an expired member of a quiet room stops counting at most
 * this long (plus the stream's lag) after its connection expired, not when DynamoDB's
 * TTL gets to it (up to 48 hours on AWS). The Pulumi schedule and the local stack's
 * timer both read it.
 */
export const roomSweepIntervalMinutes = 10;

/** Directory entries read per page, and rooms tidied at once. */
const roomsPerPage = 100;
const roomsAtOnce = 4;

/**
 * Tidies every listed room on a schedule: pages the room directory (one Query per
 * shard a page, never a Scan) and reads each room's members with `tidy`, which deletes
 * the expired ones; their deletions reach the stream worker, which counts them out.
 * A room with joins and leaves is tidied by its presence announcements anyway; this
 * catches the quiet ones, whose lost `$disconnect`s nothing else would remove.
 */
export const roomSweepWorker: Worker<ScheduledEvent | undefined, { rooms: number }> = {
  name: "sweep",
  permissions: { table: ["Query", "DeleteItem"], post: false },
  async handle(_event, deps) {
    const limit = pLimit(roomsAtOnce);
    const positions: ShardPositions = Array.from({ length: roomDirectoryShards }, () => null);
    let rooms = 0;
    for (let more = true; more;) {
      const page = await deps.store.roomsPage(positions, roomsPerPage);
      await Promise.all(
        page.rooms.map(({ room }) => limit(() => deps.store.membersOf(room, { tidy: true }))),
      );
      for (const { shard, room } of page.rooms) positions[shard] = room;
      rooms += page.rooms.length;
      more = page.more;
    }
    deps.log.info("rooms swept", { rooms });
    return { rooms };
  },
};
