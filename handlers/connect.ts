import { randomBytes } from "node:crypto";
import { broadcastToRoom } from "./broadcast";
import { frames } from "./protocol";
import type { Route } from "./route";

export const defaultRoom = "lobby";

/** Identity an authorizer put in the request context ($connect with a token). */
export function authorizedIdentity(context: { authorizer?: Record<string, unknown> }) {
  const { sub, name } = context.authorizer ?? {};
  return typeof sub === "string" && typeof name === "string" ? { userId: sub, name } : undefined;
}

/**
 * `$connect`: records the connection and joins its default room, before the
 * handshake completes. `?name=` (else a guest name, or the token's name when auth
 * is on) and `?room=` (else `lobby`); invalid ones fail the handshake with 400.
 */
export const connectRoute: Route = {
  key: "$connect",
  name: "connect",
  routeResponse: false,
  async handle(event, deps) {
    const query = deps.protocol.parseConnect(event.queryStringParameters ?? {});
    const identity = authorizedIdentity(event.requestContext);
    const room = query.room ?? defaultRoom;
    const connection = await deps.store.connect({
      connectionId: event.requestContext.connectionId,
      name: identity?.name ?? query.name ?? `guest-${randomBytes(3).toString("hex")}`,
      userId: identity?.userId,
      defaultRoom: room,
    });
    try {
      await broadcastToRoom(
        event,
        deps,
        room,
        frames.presence(room, "join", connection.name),
        connection.connectionId,
      );
    } catch (error) {
      // The handshake fails, so the socket never opens: leave no member behind for it.
      await deps.store.disconnect(connection.connectionId);
      throw error;
    }
    return { statusCode: 200 };
  },
};
