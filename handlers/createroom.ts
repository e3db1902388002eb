import { actionRoute } from "./action-route";
import { requireConnection } from "./membership";
import { mainPrincipal } from "./principals";
import { FrameError } from "./protocol";

/**
 * `createroom`: a room with an owner, the caller, who is its first member (joined as
 * `joinroom` joins: the stream worker counts and announces it). `private` rooms let in
 * only members and those invited. The name is unique: a room anyone joined, wrote to or
 * created before is ROOM_TAKEN.
 */
export const createRoomRoute = actionRoute(
  "createroom",
  { table: ["GetItem", "Query", "PutItem", "UpdateItem"], post: false },
  async ({ room, private: isPrivate = false }, event, deps) => {
    const connection = await requireConnection(deps, event.requestContext.connectionId);
    const taken = () => new FrameError("ROOM_TAKEN", `room: ${room} already exists; pick another name`);
    if (await deps.store.roomInUse(room)) throw taken();
    const outcome = await deps.store.createRoom(connection, room, {
      owner: mainPrincipal(connection),
      isPrivate,
    });
    if (outcome === "taken") throw taken();
    if (outcome === "too-many-rooms") {
      throw new FrameError(
        "INVALID",
        `room: a connection can be in at most ${deps.config.maxRoomsPerConnection} rooms`,
      );
    }
    if (outcome === "no-connection") throw new Error(`connection ${connection.connectionId} vanished`);
    return { type: "created", room, private: isPrivate };
  },
);
