import type { Deps } from "./deps";
import type { WebSocketEvent } from "./route";

/** Where to post back: the override of the local stack, else this API's own stage. */
export function managementEndpoint(event: WebSocketEvent, deps: Pick<Deps, "config">): string {
  const { domainName, stage } = event.requestContext;
  return deps.config.managementEndpoint ?? `https://${domainName}/${stage}`;
}

/**
 * Delivers a frame to every member of a room but `except`. Connections that are
 * gone (410) are cleaned up, with their memberships, without failing the broadcast.
 */
export async function broadcastToRoom(
  event: WebSocketEvent,
  deps: Deps,
  room: string,
  frame: unknown,
  except?: string,
) {
  const members = await deps.store.membersOf(room);
  const recipients = members.map((m) => m.connectionId).filter((id) => id !== except);
  const report = await deps.delivery.broadcast(managementEndpoint(event, deps), recipients, frame, deps.log);
  for (const gone of report.gone) {
    if (await stillConnecting(deps, gone)) {
      deps.log.info("kept connecting connection", { recipient: gone });
      continue;
    }
    const rooms = await deps.store.disconnect(gone);
    deps.log.info("removed gone connection", { recipient: gone, rooms });
  }
  if (report.gone.length || report.failed.length) {
    deps.log.warn("broadcast incomplete", {
      room,
      recipients: recipients.length,
      delivered: report.delivered,
      gone: report.gone.length,
      failed: report.failed.length,
    });
  }
  return { ...report, recipients: recipients.length };
}

/**
 * API Gateway answers 410 for a connection whose `$connect` is still running, yet its
 * records and default-room membership exist by then: removing them would leave an open
 * socket the chat no longer knows. A young connection keeps them; if it is really gone,
 * its `$disconnect`, a later 410 or the TTL removes it.
 */
async function stillConnecting(deps: Deps, connectionId: string): Promise<boolean> {
  const graceMs = deps.config.connectGraceSeconds * 1000;
  if (!graceMs) return false;
  const connection = await deps.store.getConnection(connectionId);
  return !!connection && Date.now() - connection.connectedAt < graceMs;
}
