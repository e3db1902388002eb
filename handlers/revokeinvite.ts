import { actionRoute } from "./action-route";
import { inviteCodeHash } from "./invitations";
import { requireRole } from "./moderation";
import { FrameError } from "./protocol";

/** `revokeinvite` (owner or moderator): the code lets nobody in from now on. */
export const revokeInviteRoute = actionRoute(
  "revokeinvite",
  { table: ["GetItem", "DeleteItem"], post: false },
  async ({ room, code }, event, deps) => {
    await requireRole(deps, event.requestContext.connectionId, room, ["owner", "moderator"]);
    if (!(await deps.store.revokeInvitation(room, inviteCodeHash(code)))) {
      throw new FrameError(
        "INVITE_INVALID",
        "code: not a live invitation to this room (wrong, expired or revoked)",
      );
    }
    return { type: "revoked", room, code };
  },
);
