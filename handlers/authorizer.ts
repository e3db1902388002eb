import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { createLogger, type Logger } from "./log";
import { verifyToken } from "./token";

/** The REQUEST authorizer's event on `$connect` (identity source: `route.request.querystring.token`). */
export type AuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  "methodArn" | "queryStringParameters"
> & {
  requestContext?: { connectionId?: string };
};

export const authSecretEnv = "AUTH_SECRET";

/**
 * Allows `$connect` for a valid, unexpired HS256 token and hands its subject and
 * name to the handlers in the authorizer context. A missing token never gets here
 * (API Gateway answers 401 itself); a forged or expired one is denied: 403.
 */
export async function authorize(
  event: AuthorizerEvent,
  deps: { secret: string; log: Logger },
): Promise<APIGatewayAuthorizerResult> {
  const token = event.queryStringParameters?.token ?? "";
  const outcome = await verifyToken(deps.secret, token);
  const connectionId = event.requestContext?.connectionId;
  if (!outcome.ok) {
    deps.log.info("connect denied", { connectionId, reason: outcome.reason });
    return policy("anonymous", "Deny", event.methodArn);
  }
  deps.log.info("connect allowed", { connectionId, sub: outcome.identity.sub });
  return { ...policy(outcome.identity.sub, "Allow", event.methodArn), context: { ...outcome.identity } };
}

function policy(principalId: string, effect: "Allow" | "Deny", resource: string): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }],
    },
  };
}

/** The authorizer Lambda's `callbackFactory`: reads the secret once per cold start. */
export function authorizerFactory() {
  return () => {
    const secret = process.env[authSecretEnv];
    if (!secret) throw new Error(`${authSecretEnv} is not set`);
    const log = createLogger({ service: "roomcast", route: "authorizer" });
    return (event: AuthorizerEvent) => authorize(event, { secret, log });
  };
}
