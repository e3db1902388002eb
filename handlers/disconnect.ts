import { broadcastToRoom } from "./broadcast";
import { frames } from "./protocol";
import type { Route } from "./route";

/**
 * `$disconnect`: removes the connection and its memberships and tells each room.
 * Idempotent: an unknown or already removed connection succeeds quietly.
 */
export const disconnectRoute: Route = {
  key: "$disconnect",
  name: "disconnect",
  routeResponse: false,
  async handle(event, deps) {
    const { connectionId } = event.requestContext;
    const connection = await deps.store.getConnection(connectionId);
    const rooms = await deps.store.disconnect(connectionId);
    if (connection) {
      for (const room of rooms) {
        await broadcastToRoom(
          event,
          deps,
          room,
          frames.presence(room, "leave", connection.name),
          connectionId,
        );
      }
    }
    return { statusCode: 200 };
  },
};
