import { banRoute } from "./ban";
import { connectRoute } from "./connect";
import { createRoomRoute } from "./createroom";
import { defaultRoute } from "./default";
import { deleteMessageRoute } from "./deletemessage";
import { disconnectRoute } from "./disconnect";
import { dmRoute } from "./dm";
import { editMessageRoute } from "./editmessage";
import { historyRoute } from "./history";
import { inviteRoute } from "./invite";
import { joinRoomRoute } from "./joinroom";
import { kickRoute } from "./kick";
import { leaveRoomRoute } from "./leaveroom";
import { listRoomsRoute } from "./listrooms";
import { membersRoute } from "./members";
import { resumeRoute } from "./resume";
import { revokeInviteRoute } from "./revokeinvite";
import type { Route } from "./route";
import { sendMessageRoute } from "./sendmessage";
import { sessionRoute } from "./session";
import { setRoleRoute } from "./setrole";

/**
 * The route table: route key -> handler. The one source of truth for both the
 * Pulumi program (a Lambda, integration and route each) and the local gateway.
 */
export const routes: readonly Route[] = [
  connectRoute,
  disconnectRoute,
  defaultRoute,
  sendMessageRoute,
  joinRoomRoute,
  leaveRoomRoute,
  listRoomsRoute,
  historyRoute,
  membersRoute,
  resumeRoute,
  sessionRoute,
  createRoomRoute,
  inviteRoute,
  revokeInviteRoute,
  setRoleRoute,
  kickRoute,
  banRoute,
  editMessageRoute,
  deleteMessageRoute,
  dmRoute,
];

export function routeFor(key: string): Route {
  const route = routes.find((r) => r.key === key);
  if (!route) throw new Error(`no route ${key}`);
  return route;
}
