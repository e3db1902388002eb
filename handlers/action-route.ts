import type { DynamoAction, FunctionPermissions } from "./permissions";
import type { Deps } from "./deps";
import { reply } from "./invoke";
import { FrameError, type Action, type ActionFields } from "./protocol";
import { rateClassOf } from "./rate-limits";
import type { Route, WebSocketEvent } from "./route";

type FieldsHandler<A extends Action> = (
  fields: ActionFields<A>,
  event: WebSocketEvent,
  deps: Deps,
) => Promise<unknown>;

/** The frame's fields, or undefined when it does not validate (its refusal stands). */
function validOrUndefined<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** What the rate limits do on every route: read the connection's session, take tokens, close a flooder. */
const rateLimitTable: readonly DynamoAction[] = ["GetItem", "UpdateItem"];

/**
 * A client action route: every frame passes the connection's in-container bucket
 * first, is validated before anything is written, takes its tokens from the shared
 * buckets (model/store/rate-limits.ts), then runs `handleFields` and sends its result
 * back as the reply. `whenRateLimited` may answer a refused frame instead (a resend
 * that only re-acks); undefined keeps the refusal.
 */
export function actionRoute<A extends Action>(
  action: A,
  permissions: FunctionPermissions,
  // Not `handle`: Pulumi's function serialization takes that for the method's own name below and leaves it uncaptured.
  handleFields: FieldsHandler<A>,
  whenRateLimited?: FieldsHandler<A>,
): Route {
  return {
    key: action,
    name: action,
    permissions: {
      ...permissions,
      table: [...new Set([...permissions.table, ...rateLimitTable])],
      disconnect: true,
    },
    routeResponse: true,
    async handle(event, deps) {
      const parse = () => deps.protocol.parseFields(action, deps.protocol.parseFrame(event.body).fields);
      let valid: ActionFields<A> | undefined;
      try {
        await deps.limiter.admitFrame(deps, event.requestContext.connectionId, "action");
        valid = parse();
        await deps.limiter.takeTokens(deps, event, rateClassOf[action]);
      } catch (error) {
        if (!(error instanceof FrameError && error.code === "RATE_LIMITED") || !whenRateLimited) throw error;
        // Refused in this container or by the shared buckets: a valid frame may still be answered.
        const fields = valid ?? validOrUndefined(parse);
        const answer = fields && (await whenRateLimited(fields, event, deps));
        if (answer === undefined) throw error;
        return reply(answer);
      }
      return reply(await handleFields(valid!, event, deps));
    },
  };
}
