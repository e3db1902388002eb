import type { Deps } from "./deps";
import { FrameError } from "./protocol";

/** Room-scoped actions need membership: a connection never learns about a room it is not in. */
export async function requireMember(deps: Deps, room: string, connectionId: string) {
  const membership = await deps.store.getMembership(room, connectionId);
  if (!membership)
    throw new FrameError("NOT_A_MEMBER", `room: you are not a member of ${room}; join it first`);
  return membership;
}

/** The stored connection; a missing record means the connection outlived its TTL or was cleaned up. */
export async function requireConnection(deps: Deps, connectionId: string) {
  const connection = await deps.store.getConnection(connectionId);
  if (!connection) throw new Error(`no record for connection ${connectionId}`);
  return connection;
}
