/**
 * The frames API Gateway itself sends a client, instead of a route's reply (sources:
 * the README's table of refusals; the timeout text as seen in API Gateway's 29 s
 * timeout; "Too Many Requests" from the throttling docs' 429 status text).
 */
export type GatewayMessage =
  /** No route matched and the API has no `$default`. */
  | "Forbidden"
  /** The integration failed, or returned a reply over 128 KB. */
  | "Internal server error"
  /** The integration ran past the integration timeout (29 s). */
  | "Endpoint request timed out"
  /** Stage throttling refused the message. */
  | "Too Many Requests";

/**
 * A gateway error frame, spaced as AWS sends it (one space after `"message":`, none
 * after the other colons), so clients that compare text see the real bytes.
 *
 * @example
 * gatewayErrorFrame("Forbidden", "L0SM9cOFvHcCIhw=", "L0SM9FkbvHcFzTA=");
 * // '{"message": "Forbidden", "connectionId":"L0SM9cOFvHcCIhw=", "requestId":"L0SM9FkbvHcFzTA="}'
 */
export function gatewayErrorFrame(message: GatewayMessage, connectionId: string, requestId: string): string {
  const json = JSON.stringify;
  return `{"message": ${json(message)}, "connectionId":${json(connectionId)}, "requestId":${json(requestId)}}`;
}
