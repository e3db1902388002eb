import { actionRoute } from "./action-route";
import { changeMessage, changePermissions } from "./message-changes";

/** `editmessage` (its author only): the message's new text, a room event members get as `edited`. */
export const editMessageRoute = actionRoute(
  "editmessage",
  changePermissions,
  ({ room, id, message }, event, deps) =>
    changeMessage(deps, event.requestContext.connectionId, room, id, { kind: "edit", text: message }),
);
