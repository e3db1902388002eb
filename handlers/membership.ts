import type { Deps } from "./deps";
import { FrameError } from "./protocol";

/**
 * Room-scoped actions need membership: a connection never learns about a room it is not in.
 * A member's check is the one read it always was; only a refusal reads the room's access,
 * to answer FORBIDDEN for a private room (whose name `joinroom` tells apart anyway).
 */
export async function requireMember(deps: Deps, room: string, connectionId: string) {
  const membership = await deps.store.getMembership(room, connectionId);
  if (membership) return membership;
  if ((await deps.store.accessOf(room))?.private) throw forbiddenPrivate(room);
  throw new FrameError("NOT_A_MEMBER", `room: you are not a member of ${room}; join it first`);
}

/** The one refusal a non-member gets for a private room, whatever it asked. */
export const forbiddenPrivate = (room: string) =>
  new FrameError("FORBIDDEN", `room: ${room} is private; only its members and those invited may use it`);

/** The stored connection; a missing record means the connection outlived its TTL or was cleaned up. */
export async function requireConnection(deps: Deps, connectionId: string) {
  const connection = await deps.store.getConnection(connectionId);
  if (!connection) throw new Error(`no record for connection ${connectionId}`);
  return connection;
}
