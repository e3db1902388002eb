import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { WebSocketEvent } from "../handlers/route";

/**
 * The Lambda events API Gateway sends for a WebSocket API, field for field as AWS
 * documents them: `$connect` carries the handshake's headers and query string, a
 * message its `messageId` and body, `$disconnect` the close code and reason.
 */

/** Where the events come from: the API and its stage. */
export type EventSource = { apiId: string; stage: string; domainName: string };

/** One connection's fixed facts, shared by all the events it causes. */
export type Peer = {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
  host: string;
  /** What the `$connect` authorizer allowed: API Gateway adds it to every event of the connection. */
  authorizer?: Record<string, unknown>;
};

/** An id in API Gateway's style (`L0SM9cOFvHcCIhw=`): 16 characters, base64url, ending in `=`. */
export const awsStyleId = (): string => randomBytes(11).toString("base64url") + "=";

/** An API id in API Gateway's shape: 10 characters of a-z and 0-9. */
export function randomApiId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join("");
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `25/Nov/2026:20:04:12 +0000`: the access-log time format of `requestTime`. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${time} +0000`;
}

/** The facts of a new connection, read from its handshake request. */
export function peerOf(req: IncomingMessage): Peer {
  const address = req.socket.remoteAddress ?? "127.0.0.1";
  return {
    connectionId: awsStyleId(),
    connectedAt: Date.now(),
    sourceIp: address.replace(/^::ffff:/, ""),
    userAgent: req.headers["user-agent"],
    host: req.headers.host ?? "localhost",
  };
}

export function requestContext(
  source: EventSource,
  peer: Peer,
  routeKey: string,
  eventType: "CONNECT" | "MESSAGE" | "DISCONNECT",
) {
  const now = Date.now();
  // API Gateway reports the same value as both request ids of a WebSocket event.
  const requestId = awsStyleId();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: formatRequestTime(now),
    messageDirection: "IN" as const,
    stage: source.stage,
    connectedAt: peer.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: peer.sourceIp, ...(peer.userAgent !== undefined && { userAgent: peer.userAgent }) },
    requestId,
    domainName: source.domainName,
    connectionId: peer.connectionId,
    apiId: source.apiId,
    ...(peer.authorizer && { authorizer: peer.authorizer }),
  };
}

/** Header name -> last value, and name -> every value, in the case the client sent. */
function headerMaps(pairs: [string, string][]) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

/** The handshake's headers as API Gateway forwards them: the client's, plus its proxy headers. */
function connectHeaders(req: IncomingMessage, peer: Peer, port: string) {
  const pairs: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  const has = (name: string) => pairs.some(([n]) => n.toLowerCase() === name.toLowerCase());
  const forwardedFor = pairs.find(([n]) => n.toLowerCase() === "x-forwarded-for");
  if (forwardedFor) forwardedFor[1] = `${forwardedFor[1]}, ${peer.sourceIp}`;
  else pairs.push(["X-Forwarded-For", peer.sourceIp]);
  if (!has("X-Forwarded-Port")) pairs.push(["X-Forwarded-Port", port]);
  if (!has("X-Forwarded-Proto")) pairs.push(["X-Forwarded-Proto", "http"]);
  if (!has("X-Amzn-Trace-Id")) {
    const epochHex = Math.floor(peer.connectedAt / 1000).toString(16);
    pairs.push(["X-Amzn-Trace-Id", `Root=1-${epochHex}-${randomBytes(12).toString("hex")}`]);
  }
  return headerMaps(pairs);
}

/** The query string as API Gateway forwards it; both fields are absent when there is none. */
function queryMaps(url: string) {
  const params = new URL(url, "http://localhost").searchParams;
  if ([...params.keys()].length === 0) return {};
  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of params) {
    queryStringParameters[name] = value;
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  return { queryStringParameters, multiValueQueryStringParameters };
}

export function connectEvent(source: EventSource, peer: Peer, req: IncomingMessage): WebSocketEvent {
  return {
    ...connectHeaders(req, peer, String(req.socket.localPort ?? "")),
    ...queryMaps(req.url ?? "/"),
    requestContext: requestContext(source, peer, "$connect", "CONNECT"),
    isBase64Encoded: false,
  };
}

export function messageEvent(
  source: EventSource,
  peer: Peer,
  routeKey: string,
  body: string,
): WebSocketEvent {
  return {
    requestContext: { ...requestContext(source, peer, routeKey, "MESSAGE"), messageId: awsStyleId() },
    body,
    isBase64Encoded: false,
  };
}

/** `$disconnect` has none of the client's headers, only the fixed set AWS documents. */
export function disconnectEvent(
  source: EventSource,
  peer: Peer,
  statusCode: number,
  reason: string,
): WebSocketEvent {
  return {
    ...headerMaps([
      ["Host", peer.host],
      ["x-api-key", ""],
      ["X-Forwarded-For", ""],
      ["x-restapi", ""],
    ]),
    requestContext: {
      ...requestContext(source, peer, "$disconnect", "DISCONNECT"),
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
    },
    isBase64Encoded: false,
  };
}
