import { actionRoute } from "./action-route";
import {
  removeFromRoom,
  requireOutranks,
  requireRole,
  resolveTarget,
  tellTarget,
  tellTargetActions,
} from "./moderation";

/**
 * `ban` (owner or moderator): a kick, and `joinroom` answers BANNED for `minutes`
 * (none: for good). The ban is written first, so a rejoin racing the kick fails. The
 * member's connections get `left` with `banned` and `until`.
 */
export const banRoute = actionRoute(
  "ban",
  { table: ["GetItem", "Query", "PutItem", "UpdateItem", ...tellTargetActions], post: true },
  async ({ room, user, minutes }, event, deps) => {
    const { caller, role } = await requireRole(deps, event.requestContext.connectionId, room, [
      "owner",
      "moderator",
    ]);
    const target = await resolveTarget(deps, caller, room, user);
    requireOutranks(role, target, room);
    const until = minutes === undefined ? undefined : Math.floor(Date.now() / 1000) + minutes * 60;
    await deps.store.ban(room, target.principals, until);
    await removeFromRoom(deps, room, target);
    const untilIso = until === undefined ? null : new Date(until * 1000).toISOString();
    await tellTarget(deps, room, target, {
      type: "left",
      room,
      banned: true,
      until: untilIso,
      by: caller.name,
    });
    return { type: "banned", room, user, until: untilIso };
  },
);
