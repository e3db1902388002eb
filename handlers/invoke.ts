import type { Deps } from "./deps";
import { errorFrame, FrameError } from "./protocol";
import type { Route, RouteResult, WebSocketEvent } from "./route";

export const reply = (frame: unknown): RouteResult => ({ statusCode: 200, body: JSON.stringify(frame) });

/**
 * Runs a route the way both Lambda and the local gateway do: a rejected frame
 * becomes an error frame for the sender (a 400 handshake on `$connect`), any
 * other failure an INTERNAL error, logged as JSON with the request's ids.
 */
export async function invoke(route: Route, event: WebSocketEvent, deps: Deps): Promise<RouteResult> {
  const { connectionId, requestId } = event.requestContext;
  const started = Date.now();
  const log = deps.log.child({ route: route.key, connectionId, requestId });
  const action = route.routeResponse && route.key !== "$default" ? route.key : undefined;
  try {
    const result = await route.handle(event, { ...deps, log });
    log.info("handled", { status: result.statusCode, ms: Date.now() - started });
    return result;
  } catch (error) {
    if (error instanceof FrameError) {
      log.info("rejected frame", { code: error.code, reason: error.message, ms: Date.now() - started });
      if (route.key === "$connect") return { statusCode: 400, body: error.message };
      return reply(errorFrame(error.code, error.message, action, error.details));
    }
    log.error("handler failed", { error, ms: Date.now() - started });
    if (route.key === "$connect") return { statusCode: 500, body: "Internal server error" };
    return reply(errorFrame("INTERNAL", "something went wrong on our side; please retry", action));
  }
}
