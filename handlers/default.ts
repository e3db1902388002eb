import { FrameError } from "./protocol";
import type { Route } from "./route";

/**
 * `$default`: API Gateway sends here what matched no route (not JSON, no or an
 * unknown `action`). Parsing the frame names the problem and the valid actions.
 * Junk counts against a small in-container bucket of the connection's (nothing is
 * written for it), so a connection flooding junk is closed like any other flooder.
 */
export const defaultRoute: Route = {
  key: "$default",
  name: "default",
  routeResponse: true,
  permissions: { table: [], post: false, disconnect: true },
  async handle(event, deps) {
    await deps.limiter.admitFrame(deps, event.requestContext.connectionId, "junk");
    const { action } = deps.protocol.parseFrame(event.body);
    // A known action reaches $default only if its route is missing from the API.
    throw new FrameError("UNKNOWN_ACTION", `action: ${action} has no route on this API`);
  },
};
