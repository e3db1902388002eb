import { actionRoute } from "./action-route";
import { requireMember } from "./membership";
import { principalsOf } from "./principals";
import { guestMark } from "./frames";
import { FrameError } from "./protocol";
import { fitting } from "./reply-size";

/** Members read per `members` page: more names than fit in one frame would be wasted reads. */
const membersPerRead = 2000;

/** Longer than any cursor the server seals, so whichever `next` a page gets still fits. */
const cursorPlaceholder = "x".repeat(512);

/**
 * `members`: who is in a room (each name, and a verified member's token subject as `user`:
 * whom `kick`, `ban`, `setrole` and `dm` name with auth on), in pages that fit in one frame; `next`
 * (for `after`) is an opaque cursor the server seals (handlers/cursors.ts): it holds
 * the last connection id read, which the client never sees, whole or in part. `role`:
 * the caller's own, when it holds one in the room (so a client knows what it may do).
 */
export const membersRoute = actionRoute(
  "members",
  { table: ["GetItem", "Query"], post: false },
  async ({ room, after }, event, deps) => {
    const from = after === undefined ? undefined : deps.cursors.open("members", after, "after");
    if (from && from.room !== room) {
      throw new FrameError("INVALID", "after: must be a cursor returned as `next` by members for this room");
    }
    const connectionId = event.requestContext.connectionId;
    await requireMember(deps, room, connectionId);
    const [{ members, lastRead }, caller] = await Promise.all([
      deps.store.membersFrom(room, from?.last, membersPerRead),
      deps.store.getConnection(connectionId),
    ]);
    // The list does not depend on the caller's record: without it (expired) there is no role to tell.
    const held = caller && (await deps.store.roleOf(room, principalsOf(caller)));
    const entries = members.map(({ name, verified, userId }) => ({
      name,
      ...(userId !== undefined && { user: userId }),
      ...guestMark(verified),
    }));
    const envelope = (page: unknown[], next: string | null) => ({
      type: "members",
      room,
      members: page,
      next,
      ...(held && { role: held.role }),
    });
    const count = fitting(entries, (page) => envelope(page, cursorPlaceholder));
    // Cut short by the frame's size: go on after the last shown. Else after the last read, if the
    // room goes on (a read of only expired memberships still moves the cursor).
    const resumeAfter = count < members.length ? members[count - 1].connectionId : lastRead;
    const next = resumeAfter ? deps.cursors.seal("members", { room, last: resumeAfter }) : null;
    return envelope(entries.slice(0, count), next);
  },
);
