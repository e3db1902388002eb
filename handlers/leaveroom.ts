import { actionRoute } from "./action-route";
import { requireMember } from "./membership";

/** `leaveroom`: removes the membership; the stream worker tells the rest of the room. */
export const leaveRoomRoute = actionRoute(
  "leaveroom",
  { table: ["GetItem", "DeleteItem", "UpdateItem"], post: false },
  async ({ room }, event, deps) => {
    const { connectionId } = event.requestContext;
    await requireMember(deps, room, connectionId);
    await deps.store.leave(connectionId, room);
    return { type: "left", room };
  },
);
