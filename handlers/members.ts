import { actionRoute } from "./action-route";
import { requireMember } from "./membership";

/** `members`: who is in a room (names only: connection ids never leave the server). */
export const membersRoute = actionRoute("members", async ({ room }, event, deps) => {
  await requireMember(deps, room, event.requestContext.connectionId);
  const members = await deps.store.membersOf(room);
  return { type: "members", room, members: members.map(({ name }) => ({ name })) };
});
