import type { Connection } from "../model/store";
import { actionRoute } from "./action-route";
import { deliver } from "./delivery/fanout";
import type { Deps } from "./deps";
import { directPair, directRoomName, directRoomOwner } from "./direct-rooms";
import { joinedFrames, joinRoom } from "./joinroom";
import { requireConnection } from "./membership";
import { FrameError } from "./protocol";

/**
 * `dm` (auth on): opens, or reopens, the direct-message room of the caller and `user`
 * (a token subject) — private, its name derived from the pair (handlers/direct-rooms.ts),
 * both users `member`s and nobody its owner. The caller joins it as `joinroom` joins and
 * gets `joined` with `dm: {with, name}`; each of the other user's live connections not in
 * it yet is joined too and gets the same frame from its side. Idempotent.
 */
export const dmRoute = actionRoute(
  "dm",
  // Deletes: a connection the other side's frame finds gone is removed, as every delivery does.
  {
    table: [
      "GetItem",
      "Query",
      "PutItem",
      "UpdateItem",
      "ConditionCheckItem",
      "DeleteItem",
      "BatchWriteItem",
    ],
    post: true,
  },
  async ({ user }, event, deps) => {
    const caller = await requireConnection(deps, event.requestContext.connectionId);
    const self = caller.userId;
    if (!self) {
      throw new FrameError(
        "FORBIDDEN",
        "dm: direct messages are between signed-in users (auth on, a token's subject); this connection has none",
      );
    }
    if (user === self)
      throw new FrameError("INVALID", "user: that is you; a direct message needs another user");
    const room = directRoomName(self, user);
    await openDirectRoom(deps, caller, room, user);
    const { joined, name } = await joinOtherSide(deps, room, user);
    const [mine, theirs] = await joinedFrames(deps, room, undefined, [
      { dm: { with: user, ...(name !== undefined && { name }) } },
      { dm: { with: self, name: caller.name } },
    ]);
    if (joined.length > 0) await deliver(deps, room, joined, JSON.stringify(theirs));
    return mine;
  },
);

/**
 * Creates the pair's room with the caller in it (one transaction: access item, both
 * users' roles, the caller's membership); if it exists, the caller rejoins it.
 * @throws FrameError INVALID when the caller is in too many rooms
 */
async function openDirectRoom(deps: Deps, caller: Connection, room: string, other: string) {
  const pair = directPair(caller.userId!, other);
  const outcome = await deps.store.createRoom(
    caller,
    room,
    { owner: directRoomOwner, isPrivate: true, dm: pair },
    pair.map((subject) => ({ principal: `user:${subject}`, role: "member" as const })),
  );
  if (outcome === "taken") await joinRoom(deps, caller, room);
  if (outcome === "too-many-rooms") {
    throw new FrameError(
      "INVALID",
      `room: a connection can be in at most ${deps.config.maxRoomsPerConnection} rooms`,
    );
  }
  if (outcome === "no-connection") throw new Error(`connection ${caller.connectionId} vanished`);
}

/**
 * Joins each live connection of `user` to the room as `joinroom` would; the ones that
 * were not in it yet are returned, to be told. One already in as many rooms as it may
 * be is left out (its user can open the DM from that side).
 */
async function joinOtherSide(deps: Deps, room: string, user: string) {
  const ids = await deps.store.connectionsOf(user);
  const connections = (await Promise.all(ids.map((id) => deps.store.getConnection(id)))).filter(
    (c): c is Connection => c !== undefined,
  );
  const joined: string[] = [];
  for (const connection of connections) {
    try {
      if ((await joinRoom(deps, connection, room)) === "joined") joined.push(connection.connectionId);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      deps.log.info("dm: a connection of the other user was not joined", {
        connectionId: connection.connectionId,
        code: error.code,
      });
    }
  }
  return { joined, name: connections[0]?.name };
}
