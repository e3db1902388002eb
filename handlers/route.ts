import type { APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import type { FunctionPermissions } from "./permissions";
import type { Deps } from "./deps";

/**
 * The event API Gateway sends a WebSocket route's Lambda. `$connect` also gets the
 * handshake's headers and query string; an authorizer adds its context. Only
 * messages have a `messageId` (@types/aws-lambda requires one); only `$disconnect`
 * has the close code and reason.
 */
export type WebSocketEvent = Omit<APIGatewayProxyWebsocketEventV2, "requestContext"> & {
  headers?: Record<string, string | undefined>;
  multiValueHeaders?: Record<string, string[] | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  multiValueQueryStringParameters?: Record<string, string[] | undefined>;
  requestContext: Omit<APIGatewayProxyWebsocketEventV2["requestContext"], "messageId"> & {
    messageId?: string;
    disconnectStatusCode?: number;
    disconnectReason?: string;
    authorizer?: Record<string, unknown>;
    identity?: { sourceIp?: string; userAgent?: string };
  };
};

/** What a route's Lambda returns: for `$connect` the handshake status; elsewhere the reply body. */
export type RouteResult = { statusCode: number; body?: string };

/**
 * One route of the API: its key, whether the reply travels back to the sender
 * (a route response), and the handler, a pure function of the event and its deps.
 */
export type Route = {
  key: string;
  routeResponse: boolean;
  /** Lambda name suffix; route keys like `$connect` are not valid in names. */
  name: string;
  /** What the handler does, which is all its Lambda's policy allows. */
  permissions: FunctionPermissions;
  handle(event: WebSocketEvent, deps: Deps): Promise<RouteResult>;
};
