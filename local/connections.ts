import { WebSocket } from "ws";
import type { CloseReason } from "./close-reasons";
import type { Peer } from "./events";
import { frameLimits } from "./frame-limits";

/** An open (or closing) WebSocket connection of the gateway. */
export type Connection = Peer & {
  ws: WebSocket;
  lastActiveAt: number;
  /** Restarts the idle timeout: API Gateway counts messages in either direction as activity. */
  refreshIdle(): void;
  /** Set when the gateway closed it: what `$disconnect` reports instead of the client's close. */
  closedBy?: CloseReason;
  /** Settles when the socket has closed, whoever closed it. */
  closed: Promise<void>;
};

/** Open and not being closed: API Gateway answers 410 for anything else. */
export const isOpen = (connection: Connection): boolean =>
  connection.closedBy === undefined && connection.ws.readyState === WebSocket.OPEN;

/**
 * Sends a text message in frames of at most 32 KB, as API Gateway does for
 * @connections posts, so clients see the same framing as in AWS.
 */
export function sendText(connection: Connection, data: Buffer | string): void {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  let offset = 0;
  // do-while: an empty post is still one (empty) frame.
  do {
    const end = offset + frameLimits.frameBytes;
    connection.ws.send(bytes.subarray(offset, end), { binary: false, fin: end >= bytes.length });
    offset = end;
  } while (offset < bytes.length);
}

/** Closes from the gateway's side; the first reason wins. */
export function closeConnection(connection: Connection, reason: CloseReason): void {
  if (connection.closedBy) return;
  connection.closedBy = reason;
  connection.ws.close(reason.code, reason.reason);
}
