import { actionRoute } from "./action-route";
import { deliver } from "./delivery/fanout";
import { inviteCodeHash, newInviteCode } from "./invitations";
import { requireRole } from "./moderation";
import { mainPrincipal } from "./principals";
import { FrameError } from "./protocol";

/**
 * `invite` (owner or moderator): an invitation code that lets its holder join until it
 * expires (`inviteTtlSeconds`) or is revoked. With `user` (auth on), that user is let in
 * directly (a member's role for the subject) and each of its connections is told.
 */
export const inviteRoute = actionRoute(
  "invite",
  // Deletes: a connection the notice finds gone is removed, as every delivery does.
  { table: ["GetItem", "PutItem", "Query", "DeleteItem", "BatchWriteItem"], post: true },
  async ({ room, user }, event, deps) => {
    const { caller } = await requireRole(deps, event.requestContext.connectionId, room, [
      "owner",
      "moderator",
    ]);
    if (user !== undefined) {
      if (!caller.userId) {
        throw new FrameError("INVALID", "user: inviting a user directly needs auth on (a token subject)");
      }
      const principal = `user:${user}`;
      // A moderator or the owner keeps the role they have.
      if (!(await deps.store.roleOf(room, [principal]))) await deps.store.setRole(room, principal, "member");
      const connections = await deps.store.connectionsOf(user);
      await deliver(deps, room, connections, JSON.stringify({ type: "invited", room, by: caller.name }));
      return { type: "invite", room, user };
    }
    const code = newInviteCode();
    const expiresAt = Math.floor(Date.now() / 1000) + deps.config.inviteTtlSeconds;
    await deps.store.createInvitation(room, inviteCodeHash(code), mainPrincipal(caller), expiresAt);
    return { type: "invite", room, code, expiresAt: new Date(expiresAt * 1000).toISOString() };
  },
);
