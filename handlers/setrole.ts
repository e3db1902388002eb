import { actionRoute } from "./action-route";
import { requireOutranks, requireRole, resolveTarget } from "./moderation";

/** `setrole` (owner only): makes a member a moderator, or a moderator a member again. */
export const setRoleRoute = actionRoute(
  "setrole",
  { table: ["GetItem", "Query", "PutItem"], post: false },
  async ({ room, user, role }, event, deps) => {
    const { caller, role: callerRole } = await requireRole(deps, event.requestContext.connectionId, room, [
      "owner",
    ]);
    const target = await resolveTarget(deps, caller, room, user);
    requireOutranks(callerRole, target, room);
    await deps.store.setRole(room, target.main, role);
    return { type: "role", room, user, role };
  },
);
