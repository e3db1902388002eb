import type { Connection } from "../model/store";
import { actionRoute } from "./action-route";
import type { Deps } from "./deps";
import { admissionOf, firstJoinGuards } from "./admission";
import { historyPage } from "./history-page";
import { requireConnection } from "./membership";
import { FrameError } from "./protocol";
import { frameBudget, jsonBytes, seqPlaceholder, type FrameBudget } from "./reply-size";

/**
 * `joinroom`: idempotent; the reply carries the member count, the room's latest `seq`
 * and recent history (or, with `after`, what came after it); the stream worker tells
 * the room. A room nobody has joined comes into being, public and ownerless; a room
 * with an owner admits as handlers/admission.ts says (`invite` for a private one).
 */
export const joinRoomRoute = actionRoute(
  "joinroom",
  { table: ["GetItem", "PutItem", "UpdateItem", "Query", "ConditionCheckItem"], post: false },
  async ({ room, after, invite }, event, deps) => {
    const connection = await requireConnection(deps, event.requestContext.connectionId);
    await joinRoom(deps, connection, room, invite);
    const [joined] = await joinedFrames(deps, room, after, [{}]);
    return joined;
  },
);

/**
 * A `joined` frame for each of `extras` (fields after the usual ones: a DM's `dm`, as each
 * side sees it), all over one snapshot of the room that fits in the largest of them.
 */
export async function joinedFrames(
  deps: Deps,
  room: string,
  after: number | undefined,
  extras: readonly Record<string, unknown>[],
) {
  const envelope = (
    extra: Record<string, unknown>,
    members: number,
    history: unknown[],
    next: number | null,
    seq: number,
  ) => ({
    type: "joined",
    room,
    members,
    history,
    next,
    seq,
    ...extra,
  });
  const emptiest = extras.map((extra) => envelope(extra, seqPlaceholder, [], seqPlaceholder, seqPlaceholder));
  const budget = frameBudget(emptiest.reduce((a, b) => (jsonBytes(a) >= jsonBytes(b) ? a : b)));
  const { members, history, next, seq } = await roomSnapshot(deps, room, after, budget);
  return extras.map((extra) => envelope(extra, members, history, next, seq));
}

/** Attempts at a join whose room's access changed between its read and the join. */
const admissionAttempts = 3;

/**
 * Joins `room` (idempotent): "joined", or "already-member". First as if it had no owner
 * (no read: the join commits on that condition); a room with an owner is read and admitted
 * as handlers/admission.ts says.
 * @throws FrameError INVALID when the connection is in too many rooms; BANNED, FORBIDDEN, INVITE_INVALID
 */
export async function joinRoom(deps: Deps, connection: Connection, room: string, invite?: string) {
  let outcome = await deps.store.join(
    connection,
    room,
    await firstJoinGuards(deps, connection, room, invite),
  );
  for (let attempt = 1; outcome === "guard-failed"; attempt++) {
    outcome = await deps.store.join(connection, room, await admissionOf(deps, connection, room, invite));
    if (outcome === "guard-failed" && attempt >= admissionAttempts) {
      throw new FrameError("BUSY", `room: ${room} changed while you joined; retry in a moment`);
    }
  }
  if (outcome === "too-many-rooms") {
    throw new FrameError(
      "INVALID",
      `room: a connection can be in at most ${deps.config.maxRoomsPerConnection} rooms`,
    );
  }
  if (outcome === "no-connection")
    throw new Error(`connection ${connection.connectionId} vanished while joining`);
  return outcome;
}

/**
 * What a member who just joined needs: the count, the room's latest `seq` and a page of
 * history within `budget`. Read after the membership is stored, strongly consistent:
 * a message stored before this read is in the page, one stored after it finds the new
 * member in its (consistent) members read, so a join racing a send sees it one way or
 * the other. The seq is read first (the count beside it), so history may show newer
 * messages, never older.
 */
export async function roomSnapshot(deps: Deps, room: string, after: number | undefined, budget: FrameBudget) {
  const [seq, members] = await Promise.all([deps.store.lastSeq(room), memberCount(deps, room)]);
  const page = await historyPage(
    deps,
    room,
    { after, limit: deps.config.historyPageOnJoin, consistent: true },
    budget,
  );
  return { members, seq, history: page.messages, next: page.next };
}

/**
 * How many members the room has, the joiner included. A small room is counted exactly
 * from its members (one consistent Query of a few items, which also tells it is small);
 * a large one from the room directory, whose count follows the stream a moment behind.
 */
async function memberCount(deps: Deps, room: string): Promise<number> {
  const max = deps.config.presenceMaxMembers;
  const small = await deps.store.smallRoomMembers(room, max);
  if (small) return small.length;
  const info = await deps.store.roomInfo(room);
  if (info && info.members > max) return info.members;
  // More than `max` memberships, yet the directory has not counted them (or they expired): count.
  return (await deps.store.membersOf(room, { consistent: true })).length;
}
