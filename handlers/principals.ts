import type { Connection } from "../model/store";

/** What names a connection: a stored one, or one `$connect` is about to store. */
export type Identity = Pick<Connection, "connectionId" | "userId" | "sessionId">;

/**
 * Who a connection is, for roles and bans: with auth on, the token's subject
 * (`user:<sub>`); without, the connection itself and the session the server issued it
 * (`session:<id>`, kept across reconnects). Anonymous identities are best effort: a
 * client that drops its session comes back as someone new.
 */
export function principalsOf(connection: Identity): string[] {
  if (connection.userId) return [`user:${connection.userId}`];
  return [
    ...(connection.sessionId ? [`session:${connection.sessionId}`] : []),
    `conn:${connection.connectionId}`,
  ];
}

/** The principal a role is written for: the most lasting one the connection has. */
export const mainPrincipal = (connection: Identity) => principalsOf(connection)[0];
