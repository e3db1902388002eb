import { actionRoute } from "./action-route";
import { changeMessage, changePermissions } from "./message-changes";

/**
 * `deletemessage` (its author, or an owner or moderator of the room): the message
 * becomes a tombstone, a room event members get as `deleted`.
 */
export const deleteMessageRoute = actionRoute(
  "deletemessage",
  changePermissions,
  ({ room, id }, event, deps) =>
    changeMessage(deps, event.requestContext.connectionId, room, id, { kind: "delete" }),
);
