import { actionRoute } from "./action-route";
import { removeFromRoom, requireOutranks, requireRole, resolveTarget } from "./moderation";

/** `kick` (owner or moderator): the member leaves the room (announced with `kicked`) and loses its role. */
export const kickRoute = actionRoute(
  "kick",
  { table: ["GetItem", "Query", "UpdateItem", "DeleteItem"], post: false },
  async ({ room, user }, event, deps) => {
    const { caller, role } = await requireRole(deps, event.requestContext.connectionId, room, [
      "owner",
      "moderator",
    ]);
    const target = await resolveTarget(deps, caller, room, user);
    requireOutranks(role, target, room);
    await removeFromRoom(deps, room, target);
    return { type: "kicked", room, user };
  },
);
