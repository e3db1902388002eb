import { roomDirectoryShards } from "../model/entities/room";
import { actionRoute } from "./action-route";
import { directMark } from "./direct-rooms";
import { requireConnection } from "./membership";
import { fitting } from "./reply-size";

/** Rooms per `listrooms` page (fewer when they do not fit in one frame). */
const roomsPerPage = 100;

/** Longer than any cursor the server seals, so whichever `next` a page gets still fits. */
const cursorPlaceholder = "x".repeat(512);

/**
 * `listrooms`: rooms with members and how many, in room-name order, a page at a time
 * (`after` = the previous page's `next`, an opaque cursor holding each directory shard's
 * position). Each call reads a bounded amount: one small Query per directory shard, one
 * BatchGetItem of the page's access items and the caller's record. A private room is
 * listed (`private: true`) only to its members: the rooms the caller's record lists. A DM
 * also says with whom (`dm: {with}`).
 */
export const listRoomsRoute = actionRoute(
  "listrooms",
  { table: ["Query", "BatchGetItem", "GetItem"], post: false },
  async ({ after }, event, deps) => {
    const positions =
      after === undefined
        ? Array.from({ length: roomDirectoryShards }, () => null)
        : deps.cursors.open("listrooms", after, "after").last;
    const { rooms: entries, more } = await deps.store.roomsPage(positions, roomsPerPage);
    const withMembers = entries.filter((entry) => entry.members > 0);
    const [privateRooms, connection] = await Promise.all([
      deps.store.privateAmong(withMembers.map((entry) => entry.room)),
      requireConnection(deps, event.requestContext.connectionId),
    ]);
    const listed = withMembers.filter(
      ({ room }) => !privateRooms.has(room) || (connection.rooms ?? []).includes(room),
    );
    const frames = listed.map(({ room, members }) => {
      const access = privateRooms.get(room);
      return { room, members, ...(access && { private: true }), ...directMark(access, connection.userId) };
    });
    const envelope = (rooms: unknown[], next: string | null) => ({ type: "rooms", rooms, next });
    const count = fitting(frames, (page) => envelope(page, cursorPlaceholder));
    // Each shard moves past what this page shows of it (emptied rooms included), no further.
    const shownEntries = count < listed.length ? entries.indexOf(listed[count]) : entries.length;
    const next = [...positions];
    for (const { shard, room } of entries.slice(0, shownEntries)) next[shard] = room;
    const hasMore = more || shownEntries < entries.length;
    return envelope(frames.slice(0, count), hasMore ? deps.cursors.seal("listrooms", { last: next }) : null);
  },
);
