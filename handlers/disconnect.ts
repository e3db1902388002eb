import type { Route } from "./route";

/**
 * `$disconnect`: removes the connection and its memberships (at most
 * `maxRoomsPerConnection`, found on its own record); the stream worker then moves
 * the counts and tells the rooms. Idempotent: an unknown or already removed
 * connection succeeds quietly.
 */
export const disconnectRoute: Route = {
  key: "$disconnect",
  name: "disconnect",
  routeResponse: false,
  permissions: { table: ["DeleteItem", "BatchWriteItem"], post: false },
  async handle(event, deps) {
    await deps.store.disconnect(event.requestContext.connectionId);
    return { statusCode: 200 };
  },
};
