import { actionRoute } from "./action-route";
import { isDirectRoomName } from "./direct-rooms";
import { requireConnection } from "./membership";
import { mainPrincipal } from "./principals";
import { FrameError } from "./protocol";

/**
 * `createroom`: a room with an owner, the caller, who is its first member (joined as
 * `joinroom` joins: the stream worker counts and announces it). `private` rooms let in
 * only members and those invited. The name is unique: a room anyone joined, wrote to or
 * created before is ROOM_TAKEN, also when a first `joinroom` of the name raced this one.
 * A DM's name (handlers/direct-rooms.ts) is INVALID: only `dm` opens one.
 */
export const createRoomRoute = actionRoute(
  "createroom",
  { table: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"], post: false },
  async ({ room, private: isPrivate = false }, event, deps) => {
    if (isDirectRoomName(room)) {
      throw new FrameError(
        "INVALID",
        "room: names dm- and 43 more characters are kept for direct messages (`dm`)",
      );
    }
    const connection = await requireConnection(deps, event.requestContext.connectionId);
    const taken = () => new FrameError("ROOM_TAKEN", `room: ${room} already exists; pick another name`);
    if (await deps.store.roomInUse(room)) throw taken();
    const owner = mainPrincipal(connection);
    const outcome = await deps.store.createRoom(connection, room, { owner, isPrivate }, [
      { principal: owner, role: "owner" },
    ]);
    if (outcome === "taken") throw taken();
    if (outcome === "too-many-rooms") {
      throw new FrameError(
        "INVALID",
        `room: a connection can be in at most ${deps.config.maxRoomsPerConnection} rooms`,
      );
    }
    if (outcome === "no-connection") throw new Error(`connection ${connection.connectionId} vanished`);
    // A first `joinroom` that committed between the read and the write made the room public first:
    // it keeps it, and this creation is taken back (any join after the write met the owner).
    if (await deps.store.othersIn(room, connection.connectionId)) {
      await deps.store.undoCreateRoom(room, owner);
      await deps.store.leave(connection.connectionId, room);
      throw taken();
    }
    return { type: "created", room, private: isPrivate };
  },
);
