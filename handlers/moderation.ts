import { rank, type Connection, type Role } from "../model/store";
import { deliver } from "./delivery/fanout";
import type { Deps } from "./deps";
import { isDirectRoomName } from "./direct-rooms";
import { requireConnection } from "./membership";
import { mainPrincipal, principalsOf } from "./principals";
import { FrameError } from "./protocol";

/**
 * The caller, if it holds one of `allowed` in `room`. Everyone else — a member without
 * the role, a stranger, anyone in a room without an owner or no room at all — gets the
 * same FORBIDDEN, so the answer tells a stranger nothing about the room. A DM's members
 * hold `member` and nothing more: theirs says a DM is administered by nobody.
 */
export async function requireRole(deps: Deps, connectionId: string, room: string, allowed: readonly Role[]) {
  const caller = await requireConnection(deps, connectionId);
  const held = await deps.store.roleOf(room, principalsOf(caller));
  if (held && isDirectRoomName(room)) {
    throw new FrameError(
      "FORBIDDEN",
      `room: ${room} is a direct message: it has no owner or moderators, and nobody invites, kicks, bans or sets roles in it`,
    );
  }
  if (!held || !allowed.includes(held.role)) {
    throw new FrameError("FORBIDDEN", `room: only ${allowed.join(" or ")} of ${room} may do this`);
  }
  return { caller, role: held.role };
}

/** Whom a moderation action acts on: the principals it holds, its live connections and its role. */
export type Target = { principals: string[]; main: string; connections: string[]; role: Role | undefined };

/**
 * The member a moderation action names. With auth on (the caller has a token
 * subject), `user` is a subject: all of that user's connections. With auth off, it is
 * a display name in the room, which must be one member's only; that member's
 * connection and session are what a kick or ban reaches (best effort: a guest who
 * drops the session comes back as someone new).
 * @throws FrameError INVALID when auth is off and no one or several members have that name
 */
export async function resolveTarget(
  deps: Deps,
  caller: Connection,
  room: string,
  user: string,
): Promise<Target> {
  if (caller.userId) {
    const principal = `user:${user}`;
    const [connections, held] = await Promise.all([
      deps.store.connectionsOf(user),
      deps.store.roleOf(room, [principal]),
    ]);
    return { principals: [principal], main: principal, connections, role: held?.role };
  }
  const named = (await deps.store.membersOf(room, { consistent: true })).filter((m) => m.name === user);
  if (named.length !== 1) {
    throw new FrameError(
      "INVALID",
      named.length === 0
        ? `user: no member of ${room} is named ${user}`
        : `user: ${named.length} members of ${room} are named ${user}; without auth a name must be one member's only to be acted on`,
    );
  }
  const target = await deps.store.getConnection(named[0].connectionId);
  const principals = target ? principalsOf(target) : [`conn:${named[0].connectionId}`];
  const held = await deps.store.roleOf(room, principals);
  return {
    principals,
    main: target ? mainPrincipal(target) : principals[0],
    connections: [named[0].connectionId],
    role: held?.role,
  };
}

/**
 * Nobody acts on an equal or higher role (a moderator on a moderator, anyone on the
 * owner). @throws FrameError FORBIDDEN
 */
export function requireOutranks(callerRole: Role, target: Target, room: string) {
  if (rank(target.role) <= rank(callerRole)) {
    throw new FrameError("FORBIDDEN", `user: holds a role in ${room} as high as yours or higher`);
  }
}

/** The table actions of telling a target (`deliver` removes a connection it finds gone). */
export const tellTargetActions = ["DeleteItem", "BatchWriteItem"] as const;

/**
 * Tells each of the target's live connections what was done to it (a kick, a ban, a new
 * role): once out of the room it gets nothing of it, so this is how its page learns why.
 */
export async function tellTarget(deps: Deps, room: string, target: Target, frame: Record<string, unknown>) {
  await deliver(deps, room, target.connections, JSON.stringify(frame));
}

/**
 * Takes the target out of the room: each connection's membership is marked kicked (its
 * leave says so) and removed as `leaveroom` removes it, and its role goes (a private room
 * does not let it back in). Delivery re-checks membership, so nothing reaches it after.
 */
export async function removeFromRoom(deps: Deps, room: string, target: Target) {
  for (const connectionId of target.connections) {
    if (await deps.store.markKicked(room, connectionId)) await deps.store.leave(connectionId, room);
  }
  await Promise.all(target.principals.map((principal) => deps.store.removeRole(room, principal)));
}
