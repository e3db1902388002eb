import { actionRoute } from "./action-route";
import { broadcastToRoom } from "./broadcast";
import { requireConnection } from "./membership";
import { FrameError, frames } from "./protocol";

/** `joinroom`: idempotent; the first join tells the room and the reply carries recent history. */
export const joinRoomRoute = actionRoute("joinroom", async ({ room }, event, deps) => {
  const connection = await requireConnection(deps, event.requestContext.connectionId);
  const outcome = await deps.store.join(connection, room);
  if (outcome === "too-many-rooms") {
    throw new FrameError(
      "INVALID",
      `room: a connection can be in at most ${deps.config.maxRoomsPerConnection} rooms`,
    );
  }
  if (outcome === "no-connection")
    throw new Error(`connection ${connection.connectionId} vanished while joining`);
  const [members, page] = await Promise.all([
    outcome === "joined"
      ? broadcastToRoom(
          event,
          deps,
          room,
          frames.presence(room, "join", connection.name),
          connection.connectionId,
        ).then(
          // Everyone still there, plus the joiner (whom an eventually consistent read may miss).
          (report) => report.recipients - report.gone.length + 1,
        )
      : deps.store.membersOf(room).then((m) => m.length),
    deps.store.history(room, { limit: deps.config.historyPageOnJoin }),
  ]);
  return {
    type: "joined",
    room,
    members,
    history: page.messages.map(frames.message).reverse(),
    next: page.next,
  };
});
