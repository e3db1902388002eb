import type { JoinGuard, RoomAccess } from "../model/store";
import type { Deps } from "./deps";
import { isDirectRoomName } from "./direct-rooms";
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

/**
 * The guards of a join after reading the room's access: as `admission` says for a room
 * with an owner (or a DM), else that it still has none. A DM's name is never joined into
 * being: until `dm` opens it, it is as private as an open one.
 * @throws FrameError BANNED, FORBIDDEN or INVITE_INVALID (nothing written)
 */
export async function admissionOf(
  deps: Deps,
  connection: Identity,
  room: string,
  invite: string | undefined,
): Promise<JoinGuard[]> {
  const access = await deps.store.accessOf(room);
  if (access) return admission(deps, connection, access, invite);
  if (isDirectRoomName(room)) throw forbiddenPrivate(room);
  return [deps.store.guards.ownerless(room)];
}

/**
 * The guards of a join's first attempt, before anything is read: that the room has no
 * owner (the common case, one more item in the transaction); a DM's name is read first.
 */
export const firstJoinGuards = (
  deps: Deps,
  connection: Identity,
  room: string,
  invite: string | undefined,
) =>
  isDirectRoomName(room)
    ? admissionOf(deps, connection, room, invite)
    : Promise.resolve([deps.store.guards.ownerless(room)]);
