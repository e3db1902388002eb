import type { Connection, Membership } from "../model/store";
import type { Deps } from "./deps";
import { FrameError } from "./protocol";

/**
 * Room-scoped actions need membership: a connection never learns about a room it is not in.
 * A member's check is the one read it always was; only a refusal reads the room's access,
 * to answer FORBIDDEN for a private room (whose name `joinroom` tells apart anyway).
 */
export async function requireMember(deps: Deps, room: string, connectionId: string) {
  return memberOrRefusal(deps, room, await deps.store.getMembership(room, connectionId));
}

/** {@link requireMember} for a membership already read (absent: not a member). */
export async function memberOrRefusal(deps: Deps, room: string, membership: Membership | undefined) {
  if (membership) return membership;
  if ((await deps.store.accessOf(room))?.private) throw forbiddenPrivate(room);
  throw new FrameError("NOT_A_MEMBER", `room: you are not a member of ${room}; join it first`);
}

/** The one refusal a non-member gets for a private room, whatever it asked. */
export const forbiddenPrivate = (room: string) =>
  new FrameError("FORBIDDEN", `room: ${room} is private; only its members and those invited may use it`);

/** The stored connection; a missing record means the connection outlived its TTL or was cleaned up. */
export async function requireConnection(deps: Deps, connectionId: string) {
  return connectionOrError(connectionId, await deps.store.getConnection(connectionId));
}

/** {@link requireConnection} for a connection record already read. */
export function connectionOrError(connectionId: string, connection: Connection | undefined) {
  if (!connection) throw new Error(`no record for connection ${connectionId}`);
  return connection;
}
