import type { FunctionPermissions } from "./permissions";
import type { Deps } from "./deps";
import { reply } from "./invoke";
import type { Action, ActionFields } from "./protocol";
import type { Route, WebSocketEvent } from "./route";

/**
 * A client action route: validates the frame before anything else (so a bad one
 * writes nothing), then runs `handleFields` and sends its result back as the reply.
 */
export function actionRoute<A extends Action>(
  action: A,
  permissions: FunctionPermissions,
  // Not `handle`: Pulumi's function serialization takes that for the method's own name below and leaves it uncaptured.
  handleFields: (fields: ActionFields<A>, event: WebSocketEvent, deps: Deps) => Promise<unknown>,
): Route {
  return {
    key: action,
    name: action,
    permissions,
    routeResponse: true,
    async handle(event, deps) {
      const { fields } = deps.protocol.parseFrame(event.body);
      return reply(await handleFields(deps.protocol.parseFields(action, fields), event, deps));
    },
  };
}
