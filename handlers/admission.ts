import type { JoinGuard, RoomAccess } from "../model/store";
import type { Deps } from "./deps";
import { inviteCodeHash } from "./invitations";
import { forbiddenPrivate } from "./membership";
import { principalsOf, mainPrincipal, type Identity } from "./principals";
import { FrameError } from "./protocol";

/**
 * Whether `connection` may join a room that has an owner, and on what conditions the
 * join commits (store/access.ts guards): the access item as read, no ban written since,
 * and for a private room the role that lets it in (held, or given by a live invitation).
 * @throws FrameError BANNED, FORBIDDEN or INVITE_INVALID (nothing written)
 */
export async function admission(
  deps: Deps,
  connection: Identity,
  access: RoomAccess,
  invite: string | undefined,
): Promise<JoinGuard[]> {
  const { room } = access;
  const { guards } = deps.store;
  const principals = principalsOf(connection);
  const [held, banned] = await Promise.all([
    deps.store.roleOf(room, principals),
    deps.store.isBanned(room, principals),
  ]);
  if (banned) throw new FrameError("BANNED", `room: you are banned from ${room}`);
  const conditions = [guards.unchanged(access), ...principals.map((p) => guards.notBanned(room, p))];
  if (!access.private) return conditions;
  if (held) return [...conditions, guards.hasRole(room, held.principal)];
  // Only here is an invitation looked at: a public room or a member needs none.
  if (invite === undefined) throw forbiddenPrivate(room);
  const codeHash = inviteCodeHash(invite);
  if (!(await deps.store.invitationValid(room, codeHash))) {
    throw new FrameError(
      "INVITE_INVALID",
      "invite: not a live invitation to this room (wrong, expired or revoked)",
    );
  }
  return [...conditions, ...guards.invited(room, codeHash, mainPrincipal(connection))];
}
