import { actionRoute } from "./action-route";
import type { Deps } from "./deps";
import { historyPage } from "./history-page";
import { requireConnection } from "./membership";
import { FrameError } from "./protocol";

/**
 * `joinroom`: idempotent; the reply carries the member count and recent history;
 * the stream worker tells the room.
 */
export const joinRoomRoute = actionRoute(
  "joinroom",
  { table: ["GetItem", "PutItem", "UpdateItem", "Query"], post: false },
  async ({ room }, event, deps) => {
    const connection = await requireConnection(deps, event.requestContext.connectionId);
    const outcome = await deps.store.join(connection, room);
    if (outcome === "too-many-rooms") {
      throw new FrameError(
        "INVALID",
        `room: a connection can be in at most ${deps.config.maxRoomsPerConnection} rooms`,
      );
    }
    if (outcome === "no-connection")
      throw new Error(`connection ${connection.connectionId} vanished while joining`);
    const members = await memberCount(deps, room);
    const envelope = (history: unknown[], next: string | null) => ({
      type: "joined",
      room,
      members,
      history,
      next,
    });
    const page = await historyPage(deps, room, { limit: deps.config.historyPageOnJoin }, envelope);
    return envelope(page.messages, page.next);
  },
);

/**
 * How many members the room has, the joiner included. The room directory's count
 * follows the stream, a moment behind: a small room is counted exactly from its
 * members (a consistent read of a few items), a large one from the directory.
 */
async function memberCount(deps: Deps, room: string): Promise<number> {
  const info = await deps.store.roomInfo(room);
  if (info && info.members > deps.config.presenceMaxMembers) return info.members;
  return (await deps.store.membersOf(room, { consistent: true })).length;
}
