import { actionRoute } from "./action-route";
import { broadcastToRoom } from "./broadcast";
import { requireMember } from "./membership";
import { frames } from "./protocol";

/** `leaveroom`: removes the membership and tells the rest of the room. */
export const leaveRoomRoute = actionRoute("leaveroom", async ({ room }, event, deps) => {
  const { connectionId } = event.requestContext;
  const member = await requireMember(deps, room, connectionId);
  if (await deps.store.leave(connectionId, room)) {
    await broadcastToRoom(event, deps, room, frames.presence(room, "leave", member.name), connectionId);
  }
  return { type: "left", room };
});
