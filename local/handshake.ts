import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/** A well-formed WebSocket upgrade request (RFC 6455 §4.2.1), checked before `$connect` runs. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const key = req.headers["sec-websocket-key"];
  const version = req.headers["sec-websocket-version"];
  return (
    req.method === "GET" &&
    req.headers.upgrade?.toLowerCase() === "websocket" &&
    typeof key === "string" &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (version === "13" || version === "8")
  );
}

/**
 * Fails a handshake with an HTTP status, the way API Gateway answers when
 * `$connect` returns non-2xx: a plain HTTP response, then the socket closes.
 */
export function rejectHandshake(socket: Duplex, status: number): void {
  const code = status >= 400 && status <= 599 ? status : 500;
  const body = JSON.stringify({ message: STATUS_CODES[code] ?? "Error" });
  if (!socket.writable) return void socket.destroy();
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? "Error"}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "\r\n" +
      body,
  );
}
