import { actionRoute } from "./action-route";
import { requireOutranks, requireRole, resolveTarget, tellTarget, tellTargetActions } from "./moderation";

/**
 * `setrole` (owner only): makes a member a moderator, or a moderator a member again; the
 * member's connections get `rolechanged`, so its page offers what the role allows.
 */
export const setRoleRoute = actionRoute(
  "setrole",
  { table: ["GetItem", "Query", "PutItem", ...tellTargetActions], post: true },
  async ({ room, user, role }, event, deps) => {
    const { caller, role: callerRole } = await requireRole(deps, event.requestContext.connectionId, room, [
      "owner",
    ]);
    const target = await resolveTarget(deps, caller, room, user);
    requireOutranks(callerRole, target, room);
    await deps.store.setRole(room, target.main, role);
    await tellTarget(deps, room, target, { type: "rolechanged", room, role, by: caller.name });
    return { type: "role", room, user, role };
  },
);
