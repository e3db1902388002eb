import { createDeps } from "./deps";
import { invoke } from "./invoke";
import type { Route, WebSocketEvent } from "./route";

/**
 * The `callbackFactory` of a route's Lambda: runs once per cold start, building
 * the clients there (never at deploy time), and returns the per-event handler.
 */
export function lambdaFactory(route: Route) {
  return () => {
    const deps = createDeps(process.env);
    return (event: WebSocketEvent) => invoke(route, event, deps);
  };
}
