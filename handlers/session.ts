import { actionRoute } from "./action-route";
import { requireConnection } from "./membership";

/**
 * `session`: the connection's client session, issued by the server so that nobody
 * can pick (or guess) another client's. A connection that has none (no `?session=`,
 * or one the server did not issue) gets a new one, which scopes its `clientId`s from
 * now on; the client keeps it and sends it as `?session=` when it reconnects.
 */
export const sessionRoute = actionRoute(
  "session",
  { table: ["GetItem", "PutItem", "UpdateItem"], post: false },
  async (_fields, event, deps) => {
    const { connectionId } = event.requestContext;
    const connection = await requireConnection(deps, connectionId);
    const session =
      connection.sessionId ?? (await deps.sessions.bind(connectionId, await deps.sessions.issue()));
    if (!session) throw new Error(`no record for connection ${connectionId}`);
    return { type: "session", session };
  },
);
