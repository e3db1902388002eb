import { actionRoute } from "./action-route";
import { broadcastToRoom } from "./broadcast";
import { requireConnection, requireMember } from "./membership";
import { FrameError, frames } from "./protocol";
import type { Deps } from "./deps";

/**
 * `sendmessage`: stores the message, then delivers it to every other member of
 * the room. A repeated `clientId` is acknowledged again but stored and delivered once.
 */
export const sendMessageRoute = actionRoute("sendmessage", async (fields, event, deps) => {
  const { connectionId } = event.requestContext;
  // The connection record holds the default room and the token subject that scopes a clientId.
  const connection =
    fields.room === undefined || fields.clientId !== undefined
      ? await requireConnection(deps, connectionId)
      : undefined;
  const room = fields.room ?? connection!.defaultRoom;
  const member = await requireMember(deps, room, connectionId);
  await enforceRateLimit(deps, connectionId);
  const { message, duplicate } = await deps.store.post({
    room,
    from: member.name,
    connectionId,
    // Scoped to who sends, not the connection: a client resending after a reconnect
    // (new connection id) with the same clientId still stores one message.
    sender: connection?.userId ?? `name:${member.name}`,
    text: fields.message,
    clientId: fields.clientId,
  });
  if (!duplicate) await broadcastToRoom(event, deps, room, frames.message(message), connectionId);
  return {
    type: "ack",
    room,
    id: message.id,
    ...(fields.clientId ? { clientId: fields.clientId } : {}),
    sentAt: message.sentAt,
  };
});

/** Messages per connection per window, counted in DynamoDB so every Lambda container agrees. */
async function enforceRateLimit(deps: Deps, connectionId: string) {
  const { rateLimitMessages: limit, rateLimitWindowSeconds: window } = deps.config;
  if (limit > 0 && !(await deps.store.consumeRate(connectionId, limit, window))) {
    throw new FrameError(
      "RATE_LIMITED",
      `message: at most ${limit} messages every ${window} s; wait and retry`,
    );
  }
}
