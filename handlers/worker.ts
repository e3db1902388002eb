import type { FunctionPermissions } from "./permissions";
import type { Deps } from "./deps";

/**
 * A Lambda fed by an event source mapping rather than by API Gateway — the table's
 * stream or the fan-out queue — or by a schedule (the room sweep). A pure function
 * of the batch and the deps, like a route.
 */
export type Worker<E, R> = {
  /** Lambda name suffix. */
  name: string;
  /** What the worker does, which is all its Lambda's policy allows. */
  permissions: FunctionPermissions;
  handle(event: E, deps: Deps): Promise<R>;
};
