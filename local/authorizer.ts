import type { IncomingMessage } from "node:http";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import type { AuthorizerEvent } from "../handlers/authorizer";
import type { EventSource, Peer } from "./events";

export type Authorize = (event: AuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** What API Gateway does with a REQUEST authorizer on `$connect`, whose identity source is `?token=`. */
export type Verdict = { status: 401 | 403 | 500 } | { context: Record<string, unknown> };

/**
 * Runs the authorizer before `$connect` as API Gateway does: a missing identity
 * source is 401 without calling it, a Deny is 403, a failure 500; an Allow passes
 * the principal and context on to every event of the connection.
 */
export async function authorizeHandshake(
  authorize: Authorize,
  req: IncomingMessage,
  peer: Peer,
  source: EventSource,
): Promise<Verdict> {
  const query = new URL(req.url ?? "/", "http://localhost").searchParams;
  const token = query.get("token");
  if (!token) return { status: 401 };
  try {
    const result = await authorize({
      methodArn: `arn:aws:execute-api:local:000000000000:${source.apiId}/${source.stage}/$connect`,
      queryStringParameters: Object.fromEntries(query),
      requestContext: { connectionId: peer.connectionId },
    });
    const allowed = result.policyDocument.Statement.every((s) => s.Effect === "Allow");
    return allowed ? { context: { principalId: result.principalId, ...result.context } } : { status: 403 };
  } catch {
    return { status: 500 };
  }
}
