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
 * `kick` (owner or moderator): the member leaves the room (announced with `kicked`) and
 * loses its role; its connections get `left` with `kicked`.
 */
export const kickRoute = actionRoute(
  "kick",
  { table: ["GetItem", "Query", "UpdateItem", ...tellTargetActions], post: true },
  async ({ room, user }, event, deps) => {
    const { caller, role } = await requireRole(deps, event.requestContext.connectionId, room, [
      "owner",
      "moderator",
    ]);
    const target = await resolveTarget(deps, caller, room, user);
    requireOutranks(role, target, room);
    await removeFromRoom(deps, room, target);
    await tellTarget(deps, room, target, { type: "left", room, kicked: true, by: caller.name });
    return { type: "kicked", room, user };
  },
);
