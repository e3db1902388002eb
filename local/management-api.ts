import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { gatewayCloses } from "./close-reasons";
import { closeConnection, isOpen, sendText, type Connection } from "./connections";
import { awsStyleId } from "./events";
import { frameLimits } from "./frame-limits";
import { checkSignature, checkSignatureHeaders, type Credentials } from "./sigv4";

export type { Credentials } from "./sigv4";

export type ManagementApiOptions = {
  stage: string;
  /** The open connection with this id, if any. */
  find(connectionId: string): Connection | undefined;
  /** Simulated round trip before each answer (benchmarks); 0 by default. */
  latencyMs?: number;
  /** The key pair requests must be SigV4-signed with (else 403); null accepts any request. */
  credentials: Credentials | null;
};

/** `/@connections/{id}`, optionally behind the stage, as the SDK and awscurl spell it. */
function connectionIdOf(pathname: string, stage: string): string | undefined {
  const match = /^(?:\/([^/]+))?\/(?:@|%40)connections\/([^/]+)\/?$/.exec(pathname);
  if (!match || (match[1] !== undefined && match[1] !== stage)) return undefined;
  try {
    return decodeURIComponent(match[2]);
  } catch {
    return undefined;
  }
}

/** The body, or undefined as soon as it runs past `maxBytes` (the rest is never buffered). */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return undefined;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, body?: unknown, errorType?: string) {
  const json = body === undefined ? "" : JSON.stringify(body);
  // A request answered before its body was read: discard the rest (never buffered) and close.
  if (!res.req.readableEnded) {
    res.setHeader("Connection", "close");
    res.req.resume();
  }
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(json),
    "x-amzn-RequestId": awsStyleId(),
    // The SDK picks the exception class from this header (GoneException, ...).
    ...(errorType && { "x-amzn-ErrorType": errorType }),
  });
  res.end(json);
}

/**
 * API Gateway's Management API on the gateway's own origin: PostToConnection,
 * GetConnection and DeleteConnection, answered as the real service answers the
 * AWS SDK, signatures included. Returns false for other paths.
 */
export function createManagementApi(options: ManagementApiOptions) {
  const gone = (res: ServerResponse) => answer(res, 410, { message: "Gone" }, "GoneException");

  async function handle(req: IncomingMessage, res: ServerResponse, connectionId: string) {
    // Unsigned or foreign requests are refused before a byte of their body is read.
    const unsigned = options.credentials && checkSignatureHeaders(req, options.credentials);
    if (unsigned) return answer(res, 403, { message: unsigned.message }, unsigned.errorType);
    // API Gateway takes no post over 128 KB: stop reading there.
    const body = await readBody(req, frameLimits.messageBytes);
    if (!body) return answer(res, 413, { message: "Request entity too large" }, "PayloadTooLargeException");
    if (options.latencyMs) await delay(options.latencyMs);
    const refused = options.credentials && (await checkSignature(req, body, options.credentials));
    if (refused) return answer(res, 403, { message: refused.message }, refused.errorType);
    const found = options.find(connectionId);
    const connection = found && isOpen(found) ? found : undefined;
    switch (req.method) {
      case "POST":
        if (!connection) return gone(res);
        sendText(connection, body);
        connection.refreshIdle();
        return answer(res, 200);
      case "GET":
        if (!connection) return gone(res);
        return answer(res, 200, {
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent ?? "" },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
      case "DELETE":
        if (!connection) return gone(res);
        closeConnection(connection, gatewayCloses.deleted);
        res.writeHead(204, { "x-amzn-RequestId": awsStyleId() }).end();
        return;
      default:
        res.writeHead(405, { Allow: "POST, GET, DELETE" }).end();
    }
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const connectionId = connectionIdOf(new URL(req.url ?? "/", "http://localhost").pathname, options.stage);
    if (connectionId === undefined) return false;
    handle(req, res, connectionId).catch(() => {
      if (!res.headersSent)
        answer(res, 500, { message: "Internal server error" }, "InternalServerErrorException");
      else res.destroy();
    });
    return true;
  };
}
