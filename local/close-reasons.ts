/**
 * Why a connection closed: the close frame the client gets and what `$disconnect`
 * reports. Codes and texts follow API Gateway where AWS shows them (docs samples,
 * CloudWatch excerpts); the others are ours and say so.
 */
export type CloseReason = { code: number; reason: string; disconnectReason: string };

const goingAway = { code: 1001, reason: "Going away", disconnectReason: "Going away" };

/** Closes the gateway itself initiates. */
export const gatewayCloses = {
  /** DELETE @connections/{id}: AWS logs `1000 "Connection Closed Normally"` (boto/boto3#3789). */
  deleted: { code: 1000, reason: "", disconnectReason: "Connection Closed Normally" },
  /** 10 minutes without a message from the client. */
  idle: goingAway,
  /** The 2-hour connection limit. */
  maxDuration: goingAway,
  /** The local stack stopping (ours: API Gateway never stops). */
  shutdown: goingAway,
  /** A frame over 32 KB or a message over 128 KB (AWS docs: "closed with code 1009"). */
  tooBig: { code: 1009, reason: "Message too big", disconnectReason: "Message too big" },
  /** Binary frames: 1003 "unsupported data" (the reason text is ours). */
  binary: {
    code: 1003,
    reason: "Binary frames are not supported",
    disconnectReason: "Binary frames are not supported",
  },
} satisfies Record<string, CloseReason>;

/** What `$disconnect` reports when the client closed (or dropped) the connection. */
export function clientClose(code: number, reason: string): CloseReason {
  // 1005: a close frame without a code, as in the AWS docs' sample event.
  if (code === 1005) return { code, reason, disconnectReason: "Client-side close frame status not set" };
  // 1006: the TCP connection ended without a close frame (the text is ours).
  if (code === 1006) return { code, reason, disconnectReason: "Connection closed abnormally" };
  return { code, reason, disconnectReason: reason };
}

/**
 * A frame `ws` refused (bad UTF-8, bad opcode, unmasked, ...): ws has closed with
 * the RFC's code. Undefined for socket failures, which end as a 1006 close.
 */
export function protocolError(error: Error & { code?: string }): CloseReason | undefined {
  if (!error.code?.startsWith("WS_ERR_")) return undefined;
  const code =
    error.code === "WS_ERR_INVALID_UTF8"
      ? 1007
      : error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"
        ? 1009
        : 1002;
  return { code, reason: error.message, disconnectReason: error.message };
}
