import { randomBytes } from "node:crypto";
import type { WebSocketEvent } from "../../handlers/route";
import { routes } from "../../handlers/routes";
import { awsStyleId, formatRequestTime } from "../../local/events";
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

export type ClientOptions = { connectionId?: string };

/** One client's WebSocket connection: every event it causes shares its id, `connectedAt` and identity. */
export function wsClient(options: ClientOptions = {}) {
  const connectionId = options.connectionId ?? awsStyleId();
  const connectedAt = Date.now();
  const identity = { sourceIp: "203.0.113.7", userAgent: "wscat/6.1.0" };

  function context(routeKey: string, eventType: "CONNECT" | "MESSAGE" | "DISCONNECT") {
    const now = Date.now();
    const requestId = awsStyleId();
    return {
      routeKey,
      eventType,
      extendedRequestId: requestId,
      requestTime: formatRequestTime(now),
      messageDirection: "IN" as const,
      stage,
      connectedAt,
      requestTimeEpoch: now,
      identity,
      requestId,
      domainName,
      connectionId,
      apiId,
    };
  }

  return {
    connectionId,

    connectEvent(query: Record<string, string> = {}): WebSocketEvent {
      const headers: Record<string, string> = {
        Host: domainName,
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        "Sec-WebSocket-Version": "13",
        "User-Agent": identity.userAgent,
        "X-Amzn-Trace-Id": `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`,
        "X-Forwarded-For": identity.sourceIp,
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
        requestContext: context("$connect", "CONNECT"),
        isBase64Encoded: false,
      };
    },

    /** A text frame; an object is sent as its JSON. */
    messageEvent(frame: string | object): WebSocketEvent {
      const body = typeof frame === "string" ? frame : JSON.stringify(frame);
      return {
        requestContext: { ...context(routeKeyOf(body), "MESSAGE"), messageId: awsStyleId() },
        body,
        isBase64Encoded: false,
      };
    },

    /** The client went away (close code 1001). */
    disconnectEvent(): WebSocketEvent {
      return {
        requestContext: {
          ...context("$disconnect", "DISCONNECT"),
          disconnectStatusCode: 1001,
          disconnectReason: "Going away",
        },
        isBase64Encoded: false,
      };
    },
  };
}

export type WsClient = ReturnType<typeof wsClient>;
