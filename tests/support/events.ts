import { randomBytes } from "node:crypto";
import type { WebSocketEvent } from "../../handlers/route";
import { routes } from "../../handlers/routes";
import {
  awsStyleId,
  disconnectEvent,
  messageEvent,
  requestContext,
  type EventSource,
  type Peer,
} from "../../local/events";
import { selectRoute } from "../../local/route-selection";

/**
 * Builders of the events API Gateway sends a WebSocket route's Lambda, field for
 * field as AWS documents them: `$connect` carries the handshake's headers and query
 * string, a message its `messageId` and body, `$disconnect` the close code.
 */

const apiId = "r00mc4st01";
const stage = "test";
const domainName = `${apiId}.execute-api.us-east-1.amazonaws.com`;

/** The route API Gateway selects for a frame (`$request.body.action`, else `$default`). */
const routeKeyOf = (body: string) => selectRoute(routes, body)!.key;

/**
 * `sourceIp`: the client's address as API Gateway reports it (default a documentation
 * address, 203.0.113.7); `authorizer`: what a `$connect` authorizer allowed (`sub`, `name`).
 */
export type ClientOptions = {
  connectionId?: string;
  sourceIp?: string;
  authorizer?: Record<string, unknown>;
};

const source: EventSource = { apiId, stage, domainName };

/** One client's WebSocket connection: every event it causes shares its id, `connectedAt` and identity. */
export function wsClient(options: ClientOptions = {}) {
  const connectionId = options.connectionId ?? awsStyleId();
  const peer: Peer = {
    connectionId,
    connectedAt: Date.now(),
    sourceIp: options.sourceIp ?? "203.0.113.7",
    userAgent: "wscat/6.1.0",
    host: domainName,
    ...(options.authorizer && { authorizer: options.authorizer }),
  };

  return {
    connectionId,

    connectEvent(query: Record<string, string> = {}): WebSocketEvent {
      const headers: Record<string, string> = {
        Host: domainName,
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        "Sec-WebSocket-Version": "13",
        "User-Agent": peer.userAgent!,
        "X-Amzn-Trace-Id": `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`,
        "X-Forwarded-For": peer.sourceIp,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
      };
      const hasQuery = Object.keys(query).length > 0;
      return {
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        // API Gateway omits both query fields when the URL has no query string.
        ...(hasQuery && {
          queryStringParameters: query,
          multiValueQueryStringParameters: Object.fromEntries(
            Object.entries(query).map(([k, v]) => [k, [v]]),
          ),
        }),
        requestContext: requestContext(source, peer, "$connect", "CONNECT"),
        isBase64Encoded: false,
      };
    },

    /** A text frame; an object is sent as its JSON. */
    messageEvent(frame: string | object): WebSocketEvent {
      const body = typeof frame === "string" ? frame : JSON.stringify(frame);
      return messageEvent(source, peer, routeKeyOf(body), body);
    },

    /** The client went away (close code 1001). */
    disconnectEvent(): WebSocketEvent {
      return disconnectEvent(source, peer, 1001, "Going away");
    },
  };
}

export type WsClient = ReturnType<typeof wsClient>;
